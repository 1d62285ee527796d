/**
 * Reference kernels: normalization family. softmax/logSoftmax walk each line along the axis
 * (outer x axis x inner layout) and subtract the line's max before exponentiating. batchNorm
 * broadcasts its five operands (float64 through the formula); layerNorm computes mean and (biased) variance over its axes in
 * float64, then broadcasts scale and offset.
 */
import { Tensor, broadcastShapes, normalizeAxes, normalizeAxis, sizeOf, stridesOf } from '@kiln/graph';
import { type RefContext, registerRefKernel } from '../registry.js';

function what(ctx: RefContext): string {
  return `${ctx.node.op} '${ctx.node.name}'`;
}

/** Calls fn(offset, stride) for each line of x along `axis`. */
function forEachLine(shape: number[], axis: number, fn: (offset: number, stride: number, len: number) => void): void {
  const len = shape[axis]!;
  const inner = sizeOf(shape.slice(axis + 1));
  const outer = sizeOf(shape.slice(0, axis));
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) fn(o * len * inner + i, inner, len);
}

function softmaxLike(x: Tensor, axis: number, log: boolean): Tensor {
  const out = new Float32Array(x.size);
  forEachLine(x.shape, axis, (off, stride, len) => {
    let max = -Infinity;
    for (let k = 0; k < len; k++) max = Math.max(max, x.data[off + k * stride]!);
    if (max === -Infinity) max = 0; // a line of only -Infinity: 0/0 = NaN, as in TF
    let sum = 0;
    for (let k = 0; k < len; k++) sum += Math.exp(x.data[off + k * stride]! - max);
    const logSum = Math.log(sum);
    for (let k = 0; k < len; k++) {
      const z = x.data[off + k * stride]! - max;
      out[off + k * stride] = log ? z - logSum : Math.exp(z) / sum;
    }
  });
  return new Tensor('float32', x.shape, out);
}

registerRefKernel('softmax', ([x], attrs, ctx) => [softmaxLike(x!, normalizeAxis(attrs.dim as number, x!.rank, what(ctx)), false)]);
registerRefKernel('logSoftmax', ([x], attrs, ctx) => [softmaxLike(x!, normalizeAxis(attrs.axis as number, x!.rank, what(ctx)), true)]);

/** f applied to the broadcast elements of every operand (NumPy broadcasting), in float64. */
function broadcastMap(ts: readonly Tensor[], f: (v: number[]) => number): Tensor {
  const shape = ts.reduce<number[]>((s, t) => broadcastShapes(s, t.shape, 'broadcast') as number[], []);
  const rank = shape.length;
  const strides = ts.map((t) => {
    const padded = [...Array<number>(rank - t.rank).fill(1), ...t.shape];
    return stridesOf(padded).map((st, d) => (padded[d] === 1 ? 0 : st));
  });
  const n = sizeOf(shape);
  const out = new Float32Array(n);
  const idx = new Array<number>(rank).fill(0);
  const vals = new Array<number>(ts.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < ts.length; k++) {
      let off = 0;
      for (let d = 0; d < rank; d++) off += idx[d]! * strides[k]![d]!;
      vals[k] = ts[k]!.data[off]!;
    }
    out[i] = f(vals);
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return new Tensor('float32', shape, out);
}

registerRefKernel('batchNorm', (ins, attrs) => {
  const eps = attrs.varianceEpsilon as number;
  return [broadcastMap(ins, ([x, mean, variance, offset, scale]) => ((x! - mean!) / Math.sqrt(variance! + eps)) * scale! + offset!)];
});

/** (x - mean) / sqrt(var + eps) over `axes`, in float64, as x's shape. */
function normalizeOver(x: Tensor, axes: number[], eps: number): Tensor {
  const shape = x.shape;
  const strides = stridesOf(shape);
  const reduced = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const groupCount = sizeOf(reduced);
  const groupSize = sizeOf(axes.map((a) => shape[a]!));
  const rStrides = stridesOf(reduced);
  // group index of each element: its coordinates with the normalized axes dropped.
  const group = new Int32Array(x.size);
  for (let i = 0; i < x.size; i++) {
    let gIdx = 0;
    for (let d = 0; d < shape.length; d++) {
      const coord = Math.floor(i / strides[d]!) % shape[d]!;
      if (!axes.includes(d)) gIdx += coord * rStrides[d]!;
    }
    group[i] = gIdx;
  }
  const sum = new Float64Array(groupCount);
  for (let i = 0; i < x.size; i++) sum[group[i]!]! += x.data[i]!;
  const mean = sum.map((s) => s / groupSize);
  const sq = new Float64Array(groupCount);
  for (let i = 0; i < x.size; i++) {
    const d = x.data[i]! - mean[group[i]!]!;
    sq[group[i]!]! += d * d;
  }
  const out = new Float32Array(x.size);
  for (let i = 0; i < x.size; i++) {
    const gi = group[i]!;
    out[i] = (x.data[i]! - mean[gi]!) / Math.sqrt(sq[gi]! / groupSize + eps);
  }
  return new Tensor('float32', shape, out);
}

registerRefKernel('layerNorm', ([x, scale, offset], attrs, ctx) => {
  const axes = normalizeAxes(attrs.axes as number[], x!.rank, what(ctx));
  const normed = normalizeOver(x!, axes, attrs.epsilon as number);
  return [broadcastMap([normed, scale!, offset!], ([v, s, o]) => v! * s! + o!)];
});
