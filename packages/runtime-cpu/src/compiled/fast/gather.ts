/**
 * Fast gather and oneHot. gather views x as [B, P, A, Q] (batch dims, dims before the axis,
 * the axis, dims after it), indices as [B, I] and the output as [B, P, I, Q]: each index
 * copies one contiguous run of Q elements. Indices are checked before anything is written;
 * an out-of-range one returns false so the reference kernel reports it. oneHot fills the
 * off value and writes the on value at each in-range index (out-of-range: a row of off).
 */
import { type Attrs, type DType, type Tensor, castScalar } from '@kiln/graph';
import type { CpuKernel } from './cpu-kernel.js';
import { axisOf, sizeBetween } from './axes.js';

function gather(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>): boolean {
  const [x, indices] = inputs as [Tensor, Tensor];
  const y = outputs[0]!;
  if (indices.dtype !== 'int32' || y.dtype !== x.dtype) return false;
  const axis = axisOf(attrs.axis as number, x.rank);
  let bd = attrs.batchDims as number;
  if (bd < 0) bd += indices.rank;
  if (axis < 0 || bd < 0 || bd > indices.rank || axis < bd) return false;
  for (let i = 0; i < bd; i++) if (x.shape[i] !== indices.shape[i]) return false;
  const outShape = [...x.shape.slice(0, axis), ...indices.shape.slice(bd), ...x.shape.slice(axis + 1)];
  if (outShape.length !== y.rank || outShape.some((d, i) => d !== y.shape[i])) return false;
  const B = sizeBetween(x.shape, 0, bd);
  const P = sizeBetween(x.shape, bd, axis);
  const A = x.shape[axis]!;
  const Q = sizeBetween(x.shape, axis + 1, x.rank);
  const I = sizeBetween(indices.shape, bd, indices.rank);
  const idx = indices.data as Int32Array;
  for (let j = 0; j < idx.length; j++) {
    const k = idx[j]!;
    if (k < 0 || k >= A) return false;
  }
  const X = x.data;
  const Y = y.data;
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < P; p++) {
      const srcBase = (b * P + p) * A;
      const dstBase = (b * P + p) * I;
      for (let i = 0; i < I; i++) {
        const src = (srcBase + idx[b * I + i]!) * Q;
        const dst = (dstBase + i) * Q;
        if (Q >= 32) (Y as Float32Array).set((X as Float32Array).subarray(src, src + Q), dst);
        else for (let q = 0; q < Q; q++) Y[dst + q] = X[src + q]!;
      }
    }
  }
  return true;
}

function oneHot(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>): boolean {
  const indices = inputs[0]!;
  const y = outputs[0]!;
  const depth = attrs.depth as number;
  const dtype = attrs.dtype as DType;
  if (indices.dtype !== 'int32' || y.dtype !== dtype || y.size !== indices.size * depth) return false;
  const Y = y.data;
  Y.fill(castScalar(attrs.offValue as number, dtype));
  const on = castScalar(attrs.onValue as number, dtype);
  const idx = indices.data as Int32Array;
  for (let i = 0; i < idx.length; i++) {
    const k = idx[i]!;
    if (k >= 0 && k < depth) Y[i * depth + k] = on;
  }
  return true;
}

export const gatherKernels: Readonly<Record<string, CpuKernel>> = {
  gather,
  oneHot,
};
