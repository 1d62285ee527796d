/**
 * Reference kernels: reduce family (sum, mean, max, min, prod, argMax, argMin, cumsum,
 * unsortedSegmentSum). Accumulation in float64; results rounded to the output dtype once.
 */
import { type DType, KilnError, Tensor, allocData, castScalar, fmtShape, normalizeAxes, normalizeAxis, reducedShape, sizeOf, stridesOf } from '@kiln/graph';
import { type RefContext, registerRefKernel } from '../registry.js';

function what(ctx: RefContext): string {
  return `${ctx.node.op} '${ctx.node.name}'`;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

interface Reducer {
  init(dtype: DType): number;
  step(acc: number, v: number): number;
  finish(acc: number, count: number, dtype: DType): number;
}

const REDUCERS: Record<string, Reducer> = {
  sum: { init: () => 0, step: (a, v) => a + v, finish: (a) => a },
  prod: { init: () => 1, step: (a, v) => a * v, finish: (a) => a },
  mean: {
    init: () => 0,
    step: (a, v) => a + v,
    // int32: truncating division as TensorFlow; 0/0 is NaN for float32 (0 once cast to int32).
    finish: (a, n, dt) => (dt === 'int32' ? (n === 0 ? 0 : Math.trunc(a / n)) : a / n),
  },
  max: { init: (dt) => (dt === 'int32' ? INT32_MIN : -Infinity), step: (a, v) => Math.max(a, v), finish: (a) => a },
  min: { init: (dt) => (dt === 'int32' ? INT32_MAX : Infinity), step: (a, v) => Math.min(a, v), finish: (a) => a },
};

/** Reduces x over `axes` with a reducer; output shape as inference computes it. */
function reduce(x: Tensor, axes: number[], keepDims: boolean, r: Reducer): Tensor {
  const keep = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const ost = stridesOf(keep).map((s, i) => (axes.includes(i) ? 0 : s));
  const outSize = sizeOf(keep);
  const acc = new Float64Array(outSize).fill(r.init(x.dtype));
  const rank = x.rank;
  const idx = new Array<number>(rank).fill(0);
  let o = 0;
  for (let i = 0; i < x.size; i++) {
    acc[o] = r.step(acc[o]!, x.data[i]!);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      o += ost[d]!;
      if (idx[d]! < x.shape[d]!) break;
      o -= idx[d]! * ost[d]!;
      idx[d] = 0;
    }
  }
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  const out = allocData(x.dtype, outSize);
  for (let i = 0; i < outSize; i++) out[i] = castScalar(r.finish(acc[i]!, count, x.dtype), x.dtype);
  return new Tensor(x.dtype, reducedShape(x.shape, axes, keepDims) as number[], out);
}

for (const [name, r] of Object.entries(REDUCERS)) {
  registerRefKernel(name, ([x], attrs, ctx) => [reduce(x!, normalizeAxes(attrs.axis as number[], x!.rank, what(ctx)), attrs.keepDims as boolean, r)]);
}

/** Views `shape` as [outer, shape[axis], inner]. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}

for (const [name, better] of [
  ['argMax', (v: number, best: number) => v > best],
  ['argMin', (v: number, best: number) => v < best],
] as const) {
  registerRefKernel(name, ([x], attrs, ctx) => {
    const axis = normalizeAxis(attrs.axis as number, x!.rank, what(ctx));
    const [outer, n, inner] = around(x!.shape, axis);
    if (n === 0) throw new KilnError('INVALID_ARGUMENT', `${what(ctx)}: cannot take ${name} over an empty axis (x: ${fmtShape(x!.shape)})`);
    const out = new Int32Array(outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let bestAt = 0;
        let best = x!.data[o * n * inner + i]!;
        for (let k = 1; k < n; k++) {
          const v = x!.data[(o * n + k) * inner + i]!;
          if (better(v, best)) {
            best = v;
            bestAt = k;
          }
        }
        out[o * inner + i] = bestAt;
      }
    }
    return [new Tensor('int32', reducedShape(x!.shape, [axis], false) as number[], out)];
  });
}

registerRefKernel('cumsum', ([x], attrs, ctx) => {
  const axis = normalizeAxis(attrs.axis as number, x!.rank, what(ctx));
  const exclusive = attrs.exclusive as boolean;
  const reverse = attrs.reverse as boolean;
  const [outer, n, inner] = around(x!.shape, axis);
  const out = allocData(x!.dtype, x!.size);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = 0;
      for (let s = 0; s < n; s++) {
        const k = reverse ? n - 1 - s : s;
        const at = (o * n + k) * inner + i;
        const v = x!.data[at]!;
        if (!exclusive) acc += v;
        out[at] = castScalar(acc, x!.dtype);
        if (exclusive) acc += v;
      }
    }
  }
  return [new Tensor(x!.dtype, x!.shape, out)];
});

registerRefKernel('unsortedSegmentSum', ([data, ids], attrs, ctx) => {
  const numSegments = attrs.numSegments as number;
  const k = ids!.rank;
  if (!ids!.shape.every((d, i) => d === data!.shape[i])) {
    throw new KilnError('SHAPE_MISMATCH', `${what(ctx)}: segmentIds ${fmtShape(ids!.shape)} must be a prefix of data ${fmtShape(data!.shape)}`);
  }
  const inner = sizeOf(data!.shape.slice(k));
  const acc = new Float64Array(numSegments * inner);
  for (let j = 0; j < ids!.size; j++) {
    const s = ids!.data[j]!;
    if (s < 0) continue; // dropped, as in TensorFlow
    if (s >= numSegments) {
      throw new KilnError('INVALID_ARGUMENT', `${what(ctx)}: segment id ${s} (segmentIds element ${j}) is not below numSegments ${numSegments}`);
    }
    for (let q = 0; q < inner; q++) acc[s * inner + q]! += data!.data[j * inner + q]!;
  }
  const out = allocData(data!.dtype, acc.length);
  for (let i = 0; i < acc.length; i++) out[i] = castScalar(acc[i]!, data!.dtype);
  return [new Tensor(data!.dtype, [numSegments, ...data!.shape.slice(k)], out)];
});
