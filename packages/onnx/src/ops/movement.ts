/**
 * ONNX data-movement operators: Transpose, Concat, Split, Slice (steps and clamping: a
 * stepped or reversed slice is a gather with a constant index list), Gather (negative
 * indices), Tile, Pad (constant, edge, reflect and wrap; the last three as gathers of
 * computed index lists) and OneHot.
 */
import {
  KilnError,
  type SymbolicTensor,
  Tensor,
  add,
  cast,
  concat,
  gather,
  identity,
  less,
  notEqual,
  oneHot,
  pad,
  reshape,
  slice,
  split,
  tile,
  transpose,
  where,
} from '@kiln/graph';
import type { ConvertContext } from '../context.js';
import { register } from '../registry.js';
import { onnxAxis, pickAlong, staticDim } from './util.js';

register('Transpose', (ctx) => {
  const x = ctx.input(0);
  const perm = ctx.intList('perm') ?? [...Array(x.shape.length).keys()].reverse();
  return [transpose(x, perm)];
});

register('Concat', (ctx) => {
  const xs: SymbolicTensor[] = [];
  for (let i = 0; i < ctx.numInputs; i++) if (ctx.has(i)) xs.push(ctx.input(i));
  const axisAttr = ctx.int('axis');
  if (axisAttr === undefined) throw new KilnError('INVALID_ATTR', `${ctx.what}: missing attribute 'axis'`);
  const axis = onnxAxis(ctx, axisAttr, xs[0]!.shape.length);
  return [xs.length === 1 ? identity(xs[0]!) : concat(xs, axis)];
});

register(
  'Split',
  (ctx) => {
    const x = ctx.input(0);
    const axis = onnxAxis(ctx, ctx.int('axis', 0), x.shape.length);
    const n = ctx.node.outputs.length;
    let sizes: number[] | undefined;
    if (ctx.opset >= 13) sizes = ctx.has(1) ? ctx.ints(1, 'split') : undefined;
    else sizes = ctx.intList('split');
    if (!sizes) {
      const d = staticDim(ctx, x, axis, 'Split into equal parts');
      const parts = ctx.int('num_outputs', n);
      const chunk = Math.ceil(d / parts);
      sizes = [...Array(parts).keys()].map((i) => Math.max(Math.min(chunk, d - i * chunk), 0));
    }
    if (sizes.length === 1) return [identity(x)];
    return split(x, sizes, axis);
  },
  { staticInputs: (opset) => (opset >= 13 ? [1] : []) },
);

/** One axis of an ONNX slice, clamped as the spec says, as the positions it picks. */
function slicePositions(d: number, start: number, end: number, step: number): { begin: number; size: number; picks?: number[] } {
  let s = start < 0 ? start + d : start;
  let e = end < 0 ? end + d : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), d);
    e = Math.min(Math.max(e, 0), d);
  } else {
    s = Math.min(Math.max(s, 0), d - 1);
    e = Math.min(Math.max(e, -1), d - 1);
  }
  if (step === 1) return { begin: s, size: Math.max(e - s, 0) };
  const picks: number[] = [];
  for (let i = s; step > 0 ? i < e : i > e; i += step) picks.push(i);
  return { begin: 0, size: -1, picks };
}

register(
  'Slice',
  (ctx) => {
    const x = ctx.input(0);
    const r = x.shape.length;
    let starts: number[];
    let ends: number[];
    let axes: number[] | undefined;
    let steps: number[] | undefined;
    if (ctx.opset >= 10) {
      starts = ctx.ints(1, 'starts');
      ends = ctx.ints(2, 'ends');
      axes = ctx.has(3) ? ctx.ints(3, 'axes') : undefined;
      steps = ctx.has(4) ? ctx.ints(4, 'steps') : undefined;
    } else {
      starts = ctx.intList('starts') ?? [];
      ends = ctx.intList('ends') ?? [];
      axes = ctx.intList('axes');
    }
    if (starts.length !== ends.length) {
      throw new KilnError('INVALID_ARGUMENT', `${ctx.what}: starts [${starts.join(',')}] and ends [${ends.join(',')}] differ in length`);
    }
    const ax = (axes ?? [...starts.keys()]).map((a) => onnxAxis(ctx, a, r, 'axes'));
    const begin = new Array<number>(r).fill(0);
    const size = new Array<number>(r).fill(-1);
    const gathers: [number, number[]][] = [];
    ax.forEach((a, k) => {
      const step = steps?.[k] ?? 1;
      if (step === 0) throw new KilnError('INVALID_ARGUMENT', `${ctx.what}: steps must not be 0`);
      const d = x.shape[a];
      if (d === null || d === undefined) {
        // Unknown dim: only a plain "from start to the end" slice can be expressed.
        if (step === 1 && starts[k]! >= 0 && ends[k]! >= 2147483647) {
          begin[a] = starts[k]!;
          return;
        }
        return ctx.unsupported(`slicing axis ${a} of unknown size needs start >= 0, end = INT_MAX and step 1`);
      }
      const p = slicePositions(d, starts[k]!, ends[k]!, step);
      if (p.picks) gathers.push([a, p.picks]);
      else {
        begin[a] = p.begin;
        size[a] = p.size;
      }
    });
    let y = slice(x, begin, size);
    for (const [a, picks] of gathers) y = pickAlong(ctx, y, a, picks);
    return [y];
  },
  { staticInputs: (opset) => (opset >= 10 ? [1, 2, 3, 4] : []) },
);

register('Gather', (ctx) => {
  const x = ctx.input(0);
  const axis = onnxAxis(ctx, ctx.int('axis', 0), x.shape.length);
  const k = ctx.tryConstant(1);
  if (k) {
    const idx = k.dtype === 'int32' ? k : new Tensor('int32', k.shape, Int32Array.from(k.data));
    if (idx.data.some((v) => v < 0)) {
      const d = staticDim(ctx, x, axis, 'negative Gather indices');
      const fixed = Int32Array.from(idx.data, (v) => (v < 0 ? v + d : v));
      return [gather(x, ctx.graph.constant(new Tensor('int32', idx.shape, fixed)), axis)];
    }
    return [gather(x, ctx.graph.constant(idx), axis)];
  }
  let indices = ctx.input(1);
  if (indices.dtype !== 'int32') throw new KilnError('DTYPE_MISMATCH', `${ctx.what}: indices must be integers, got ${indices.dtype}`);
  const d = x.shape[axis];
  if (d !== null && d !== undefined) indices = where(less(indices, 0), add(indices, d), indices);
  return [gather(x, indices, axis)];
});

register('Tile', (ctx) => [tile(ctx.input(0), ctx.ints(1, 'repeats'))], { staticInputs: [1] });

/** Source position for output position p (p < 0 or >= d means padding) in a non-constant pad mode. */
function padSource(mode: string, p: number, d: number): number {
  if (mode === 'edge') return Math.min(Math.max(p, 0), d - 1);
  if (mode === 'wrap') return ((p % d) + d) % d;
  // reflect (mirror without repeating the edge)
  if (d === 1) return 0;
  const period = 2 * (d - 1);
  const m = ((p % period) + period) % period;
  return m < d ? m : period - m;
}

register(
  'Pad',
  (ctx) => {
    const x = ctx.input(0);
    const r = x.shape.length;
    const mode = ctx.string('mode', 'constant');
    if (!['constant', 'edge', 'reflect', 'wrap'].includes(mode)) ctx.unsupported(`mode '${mode}'`);
    let pads: number[];
    let value = 0;
    let axes: number[] = [...Array(r).keys()];
    if (ctx.opset >= 11) {
      pads = ctx.ints(1, 'pads');
      if (ctx.has(2)) {
        const v = ctx.constant(2, 'constant_value');
        value = v.data[0] ?? 0;
      }
      if (ctx.has(3)) axes = ctx.ints(3, 'axes').map((a) => onnxAxis(ctx, a, r, 'axes'));
    } else {
      pads = ctx.intList('pads') ?? [];
      value = ctx.float('value', 0);
    }
    const n = axes.length;
    if (pads.length !== 2 * n) {
      throw new KilnError('INVALID_ARGUMENT', `${ctx.what}: pads must have ${2 * n} entries (2 per padded axis), got [${pads.join(',')}]`);
    }
    const before = new Array<number>(r).fill(0);
    const after = new Array<number>(r).fill(0);
    axes.forEach((a, k) => {
      before[a] = pads[k]!;
      after[a] = pads[k + n]!;
    });
    if (mode === 'constant') {
      let y = x;
      if (before.some((b) => b < 0) || after.some((e) => e < 0)) {
        // Negative pads crop.
        const begin = before.map((b) => Math.max(-b, 0));
        const size = after.map((e, i) => {
          if (e >= 0) return -1;
          const d = staticDim(ctx, x, i, 'a negative pad');
          return d - begin[i]! + e;
        });
        y = slice(y, begin, size);
      }
      return [
        pad(
          y,
          before.map((b, i) => [Math.max(b, 0), Math.max(after[i]!, 0)] as [number, number]),
          value,
        ),
      ];
    }
    let y = x;
    for (let a = 0; a < r; a++) {
      if (before[a] === 0 && after[a] === 0) continue;
      const d = staticDim(ctx, x, a, `Pad mode '${mode}'`);
      if (d === 0) ctx.unsupported(`Pad mode '${mode}' on an empty axis`);
      const picks: number[] = [];
      for (let p = -before[a]!; p < d + after[a]!; p++) picks.push(padSource(mode, p, d));
      y = pickAlong(ctx, y, a, picks);
    }
    return [y === x ? identity(x) : y];
  },
  { staticInputs: (opset) => (opset >= 11 ? [1, 2, 3] : []) },
);

register(
  'OneHot',
  (ctx) => {
    let indices = ctx.input(0);
    const depthT = ctx.constant(1, 'depth');
    const depth = Math.trunc(depthT.data[0]!);
    if (indices.dtype === 'float32') indices = cast(indices, 'int32');
    if (indices.dtype !== 'int32') throw new KilnError('DTYPE_MISMATCH', `${ctx.what}: indices must be numeric, got ${indices.dtype}`);
    // Negative indices count from the end (-1 is depth - 1); out-of-range ones give all off.
    indices = where(less(indices, 0), add(indices, depth), indices);
    const r = indices.shape.length;
    const axis = onnxAxis(ctx, ctx.int('axis', -1), r + 1);
    const valuesK = ctx.tryConstant(2);
    const dtype = valuesK?.dtype ?? ctx.input(2).dtype;
    let y: SymbolicTensor;
    if (valuesK) {
      y = oneHot(indices, depth, valuesK.data[1]!, valuesK.data[0]!, dtype);
    } else {
      const values = ctx.input(2);
      const mask = notEqual(oneHot(indices, depth, 1, 0, 'int32'), 0);
      const off = reshape(slice(values, [0], [1]), []);
      const on = reshape(slice(values, [1], [1]), []);
      y = where(mask, on, off);
    }
    if (axis !== r) {
      const perm = [...Array(r).keys()];
      perm.splice(axis, 0, r);
      y = transpose(y, perm);
    }
    return [y];
  },
  { staticInputs: [1] },
);
