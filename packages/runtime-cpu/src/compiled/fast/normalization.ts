/**
 * Fast batchNorm and layerNorm forward (float32), for the layouts models use: every
 * parameter is a scalar or varies along a trailing block of x's dims (e.g. [C] for NHWC, or
 * [H,W,C]), so the parameters of element i sit at i mod K of their K-long expansion; layerNorm normalizes over trailing
 * axes (contiguous groups). The formulas, float64 evaluation and float32 rounding points
 * are the reference kernel's, so results match it bit for bit. Other layouts (parameters
 * broadcasting along leading or middle dims, layerNorm over non-trailing axes, outputs
 * larger than x) return false and run through the reference kernel.
 */
import { type Attrs, type Tensor, shapesEqual } from '@kiln/graph';
import type { CpuKernel } from './cpu-kernel.js';
import { sizeBetween } from './axes.js';
import { scratch64 } from './scratch.js';

/**
 * The largest trailing block K among params (1 when all are scalars), or -1 when some param
 * is not a scalar or a trailing block of x. Trailing blocks nest, so each param's size divides K.
 */
function trailingBlock(x: Tensor, params: readonly Tensor[]): number {
  let K = 1;
  for (const p of params) {
    if (p.dtype !== 'float32') return -1;
    if (p.size === 1) continue;
    let lead = 0;
    while (lead < p.rank && p.shape[lead] === 1) lead++;
    const s = p.shape.slice(lead);
    if (s.length > x.rank || !shapesEqual(s, x.shape.slice(x.rank - s.length))) return -1;
    K = Math.max(K, p.size);
  }
  return K;
}

/** Param p repeated to K float64 values (p's block tiles K), in scratch slot `slot`. */
function expand(p: Tensor, K: number, slot: number): Float64Array {
  const out = scratch64(slot, K);
  const n = p.size;
  if (n === 1) out.fill(p.data[0]!, 0, K);
  else for (let k = 0; k < K; k++) out[k] = p.data[k % n]!;
  return out;
}

function batchNorm(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>): boolean {
  const [x, mean, variance, offset, scale] = inputs as [Tensor, Tensor, Tensor, Tensor, Tensor];
  const y = outputs[0]!;
  if (x.dtype !== 'float32' || y.dtype !== 'float32' || !shapesEqual(x.shape, y.shape)) return false;
  const K = trailingBlock(x, [mean, variance, offset, scale]);
  if (K < 0) return false;
  const eps = attrs.varianceEpsilon as number;
  const m = expand(mean, K, 0);
  const sd = expand(variance, K, 1);
  for (let k = 0; k < K; k++) sd[k] = Math.sqrt(sd[k]! + eps);
  const o = expand(offset, K, 2);
  const s = expand(scale, K, 3);
  const X = x.data as Float32Array;
  const Y = y.data as Float32Array;
  for (let base = 0; base < X.length; base += K) {
    for (let k = 0; k < K; k++) Y[base + k] = ((X[base + k]! - m[k]!) / sd[k]!) * s[k]! + o[k]!;
  }
  return true;
}

/** The first normalized axis when `axes` are exactly the trailing ones of a rank-r tensor, else -1. */
function trailingStart(axes: readonly number[], r: number): number {
  const norm = axes.map((a) => (a < 0 ? a + r : a));
  if (norm.some((a) => !(a >= 0 && a < r)) || new Set(norm).size !== norm.length || norm.length === 0) return -1;
  const first = r - norm.length;
  return norm.every((a) => a >= first) ? first : -1;
}

function layerNorm(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>): boolean {
  const [x, scale, offset] = inputs as [Tensor, Tensor, Tensor];
  const y = outputs[0]!;
  if (x.dtype !== 'float32' || y.dtype !== 'float32' || !shapesEqual(x.shape, y.shape)) return false;
  const first = trailingStart(attrs.axes as number[], x.rank);
  const K = trailingBlock(x, [scale, offset]);
  if (first < 0 || K < 0) return false;
  if (x.size === 0) return true;
  const G = sizeBetween(x.shape, first, x.rank);
  const eps = attrs.epsilon as number;
  const s = expand(scale, K, 0);
  const o = expand(offset, K, 1);
  const X = x.data as Float32Array;
  const Y = y.data as Float32Array;
  let k = 0;
  for (let base = 0; base < X.length; base += G) {
    let sum = 0;
    for (let j = 0; j < G; j++) sum += X[base + j]!;
    const mean = sum / G;
    let sq = 0;
    for (let j = 0; j < G; j++) {
      const d = X[base + j]! - mean;
      sq += d * d;
    }
    const denom = Math.sqrt(sq / G + eps);
    for (let j = 0; j < G; j++) {
      Y[base + j] = Math.fround((X[base + j]! - mean) / denom) * s[k]! + o[k]!;
      if (++k === K) k = 0;
    }
  }
  return true;
}

export const normalizationKernels: Readonly<Record<string, CpuKernel>> = {
  batchNorm,
  layerNorm,
};
