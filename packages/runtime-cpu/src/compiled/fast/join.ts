/**
 * Fast concat and stack (any dtype): the output viewed as [outer, total, inner] around the
 * axis; each part is [outer, a_i, inner] and lands as `outer` contiguous runs of a_i * inner
 * elements (stack is concat of parts with a_i = 1 along a new axis).
 */
import type { Attrs, Tensor, TypedArray } from '@kiln/graph';
import type { CpuKernel } from './cpu-kernel.js';
import { axisOf, sizeBetween } from './axes.js';

const SET_MIN = 32;

function copyRun(dst: TypedArray, d: number, src: TypedArray, s: number, n: number): void {
  if (n >= SET_MIN) (dst as Float32Array).set((src as Float32Array).subarray(s, s + n), d);
  else for (let i = 0; i < n; i++) dst[d + i] = src[s + i]!;
}

/** Writes parts (each with `along[i]` entries on the axis) into y, given outer and inner sizes. */
function join(parts: Tensor[], along: number[], y: Tensor, outer: number, inner: number): void {
  const total = along.reduce((a, b) => a + b, 0);
  let start = 0;
  parts.forEach((p, i) => {
    const run = along[i]! * inner;
    if (run > 0) for (let o = 0; o < outer; o++) copyRun(y.data, (o * total + start) * inner, p.data, o * run, run);
    start += along[i]!;
  });
}

function concat(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>): boolean {
  const y = outputs[0]!;
  const first = inputs[0]!;
  const axis = axisOf(attrs.axis as number, first.rank);
  if (axis < 0 || y.rank !== first.rank) return false;
  let total = 0;
  for (const p of inputs) {
    if (p.dtype !== y.dtype || p.rank !== y.rank || p.shape.some((d, k) => k !== axis && d !== y.shape[k])) return false;
    total += p.shape[axis]!;
  }
  if (total !== y.shape[axis]) return false;
  join(
    inputs,
    inputs.map((p) => p.shape[axis]!),
    y,
    sizeBetween(y.shape, 0, axis),
    sizeBetween(y.shape, axis + 1, y.rank),
  );
  return true;
}

function stack(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>): boolean {
  const y = outputs[0]!;
  const first = inputs[0]!;
  const axis = axisOf(attrs.axis as number, first.rank + 1);
  if (axis < 0 || y.rank !== first.rank + 1 || y.shape[axis] !== inputs.length) return false;
  for (const p of inputs) {
    if (p.dtype !== y.dtype || p.rank !== first.rank || p.shape.some((d, k) => d !== y.shape[k < axis ? k : k + 1])) return false;
  }
  join(
    inputs,
    inputs.map(() => 1),
    y,
    sizeBetween(y.shape, 0, axis),
    sizeBetween(y.shape, axis + 1, y.rank),
  );
  return true;
}

export const joinKernels: Readonly<Record<string, CpuKernel>> = {
  concat,
  stack,
};
