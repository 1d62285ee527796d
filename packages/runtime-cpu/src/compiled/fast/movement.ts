/**
 * Fast movement kernels that are one strided copy each (any dtype): transpose, slice, split,
 * broadcastTo, broadcastLike, tile and pad. Each describes its copy as strides over the
 * output (or input) shape and hands it to copyStrided. Anything the attrs do not describe
 * exactly (a bad perm, an out-of-bounds slice, a shape that does not broadcast) returns
 * false so the reference kernel reports the error.
 */
import { type Attrs, type Tensor, castScalar, shapesEqual, stridesOf } from '@kiln/graph';
import type { CpuKernel } from './cpu-kernel.js';
import { axisOf } from './axes.js';
import { copyStrided } from './strided-copy.js';

/** Whether `out` can receive x's elements unchanged in kind. */
function sameKind(x: Tensor, out: Tensor): boolean {
  return x.dtype === out.dtype;
}

function transpose(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>): boolean {
  const x = inputs[0]!;
  const y = outputs[0]!;
  const perm = attrs.perm as number[];
  if (!sameKind(x, y) || perm.length !== x.rank) return false;
  const seen = new Set(perm);
  if (seen.size !== x.rank || perm.some((p) => !(p >= 0 && p < x.rank))) return false;
  const shape = perm.map((p) => x.shape[p]!);
  if (!shapesEqual(shape, y.shape)) return false;
  const st = stridesOf(x.shape);
  copyStrided(
    y.data,
    0,
    stridesOf(shape),
    x.data,
    0,
    perm.map((p) => st[p]!),
    shape,
  );
  return true;
}

function slice(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>): boolean {
  const x = inputs[0]!;
  const y = outputs[0]!;
  const begin = attrs.begin as number[];
  const size = attrs.size as number[];
  if (!sameKind(x, y) || begin.length !== x.rank || size.length !== x.rank) return false;
  const shape: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    const d = x.shape[i]!;
    const b = begin[i]!;
    const s = size[i] === -1 ? d - b : size[i]!;
    if (b < 0 || s < 0 || b + s > d) return false;
    shape.push(s);
  }
  if (!shapesEqual(shape, y.shape)) return false;
  const st = stridesOf(x.shape);
  const base = begin.reduce((n, b, i) => n + b * st[i]!, 0);
  copyStrided(y.data, 0, stridesOf(shape), x.data, base, st, shape);
  return true;
}

function split(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>): boolean {
  const x = inputs[0]!;
  const axis = axisOf(attrs.axis as number, x.rank);
  if (axis < 0) return false;
  // The pieces' sizes come from the preallocated outputs; they must tile the axis exactly.
  let total = 0;
  for (const o of outputs) {
    if (!sameKind(x, o) || o.rank !== x.rank || o.shape.some((d, i) => i !== axis && d !== x.shape[i])) return false;
    total += o.shape[axis]!;
  }
  if (total !== x.shape[axis]) return false;
  const st = stridesOf(x.shape);
  let start = 0;
  for (const o of outputs) {
    copyStrided(o.data, 0, stridesOf(o.shape), x.data, start * st[axis]!, st, o.shape);
    start += o.shape[axis]!;
  }
  return true;
}

/** x's strides aligned to `target`, 0 where x broadcasts; null when x does not broadcast to it. */
function broadcastStrides(x: Tensor, target: readonly number[]): number[] | null {
  const off = target.length - x.rank;
  if (off < 0) return null;
  const xs = stridesOf(x.shape);
  const out: number[] = [];
  for (let i = 0; i < target.length; i++) {
    if (i < off) {
      out.push(0);
      continue;
    }
    const d = x.shape[i - off]!;
    if (d === target[i]) out.push(d === 1 ? 0 : xs[i - off]!);
    else if (d === 1) out.push(0);
    else return null;
  }
  return out;
}

function broadcastTo(inputs: Tensor[], outputs: Tensor[]): boolean {
  const x = inputs[0]!;
  const y = outputs[0]!;
  if (!sameKind(x, y)) return false;
  const st = broadcastStrides(x, y.shape);
  if (!st) return false;
  copyStrided(y.data, 0, stridesOf(y.shape), x.data, 0, st, y.shape);
  return true;
}

function broadcastToKernel(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>): boolean {
  return shapesEqual(attrs.shape as number[], outputs[0]!.shape) && broadcastTo(inputs, outputs);
}

function broadcastLikeKernel(inputs: Tensor[], outputs: Tensor[]): boolean {
  return shapesEqual(inputs[1]!.shape, outputs[0]!.shape) && broadcastTo(inputs, outputs);
}

/** tile: output dim i viewed as [reps_i, d_i]; the rep index reads with stride 0. */
function tile(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>): boolean {
  const x = inputs[0]!;
  const y = outputs[0]!;
  const reps = attrs.reps as number[];
  if (!sameKind(x, y) || reps.length !== x.rank || reps.some((r) => r < 0)) return false;
  if (
    !shapesEqual(
      x.shape.map((d, i) => d * reps[i]!),
      y.shape,
    )
  )
    return false;
  const xs = stridesOf(x.shape);
  const ys = stridesOf(y.shape);
  const shape: number[] = [];
  const dSt: number[] = [];
  const sSt: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    shape.push(reps[i]!, x.shape[i]!);
    dSt.push(x.shape[i]! * ys[i]!, ys[i]!);
    sSt.push(0, xs[i]!);
  }
  copyStrided(y.data, 0, dSt, x.data, 0, sSt, shape);
  return true;
}

/** pad: the padding value everywhere, then x copied into the interior. */
function pad(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>): boolean {
  const x = inputs[0]!;
  const y = outputs[0]!;
  const p = attrs.paddings as number[];
  if (!sameKind(x, y) || p.length !== 2 * x.rank || p.some((v) => v < 0)) return false;
  if (
    !shapesEqual(
      x.shape.map((d, i) => d + p[2 * i]! + p[2 * i + 1]!),
      y.shape,
    )
  )
    return false;
  const ys = stridesOf(y.shape);
  const interiorWhole = p.every((v) => v === 0);
  if (!interiorWhole) y.data.fill(castScalar(attrs.constantValue as number, y.dtype));
  const base = ys.reduce((n, s, i) => n + s * p[2 * i]!, 0);
  copyStrided(y.data, base, ys, x.data, 0, stridesOf(x.shape), x.shape);
  return true;
}

export const movementKernels: Readonly<Record<string, CpuKernel>> = {
  transpose,
  slice,
  split,
  broadcastTo: broadcastToKernel,
  broadcastLike: broadcastLikeKernel,
  tile,
  pad,
};
