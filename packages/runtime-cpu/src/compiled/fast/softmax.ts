/**
 * Fast softmax and logSoftmax (float32, any axis), written straight into the output. Each
 * line along the axis subtracts its max before exponentiating and sums in float64, exactly
 * as the reference kernel does: a line of only -Infinity gives NaN (0/0, as TensorFlow),
 * a NaN anywhere in a line makes the line NaN. The last axis walks contiguous rows; another
 * axis walks [len, inner] blocks with inner-long float64 accumulators so every read is
 * contiguous.
 */
import type { Attrs, Tensor } from '@kiln/graph';
import type { CpuKernel } from './cpu-kernel.js';
import { axisOf } from './axes.js';
import { scratch64 } from './scratch.js';

function lastAxis(X: Float32Array, Y: Float32Array, rows: number, len: number, log: boolean): void {
  const e = scratch64(0, len);
  for (let r = 0; r < rows; r++) {
    const o = r * len;
    let max = -Infinity;
    for (let k = 0; k < len; k++) {
      const v = X[o + k]!;
      if (v > max || v !== v) max = v;
      if (max !== max) break;
    }
    if (max === -Infinity) max = 0;
    let sum = 0;
    if (log) {
      for (let k = 0; k < len; k++) sum += Math.exp(X[o + k]! - max);
      const logSum = Math.log(sum);
      for (let k = 0; k < len; k++) Y[o + k] = X[o + k]! - max - logSum;
    } else {
      for (let k = 0; k < len; k++) {
        const ex = Math.exp(X[o + k]! - max);
        e[k] = ex;
        sum += ex;
      }
      for (let k = 0; k < len; k++) Y[o + k] = e[k]! / sum;
    }
  }
}

function innerAxis(X: Float32Array, Y: Float32Array, outer: number, len: number, inner: number, log: boolean): void {
  const max = scratch64(0, inner);
  const sum = scratch64(1, inner);
  const e = log ? max : scratch64(2, len * inner);
  const block = len * inner;
  for (let o = 0; o < outer; o++) {
    const base = o * block;
    max.fill(-Infinity, 0, inner);
    for (let k = 0; k < len; k++) {
      const row = base + k * inner;
      for (let i = 0; i < inner; i++) {
        const v = X[row + i]!;
        const m = max[i]!;
        if (v > m || (v !== v && m === m)) max[i] = v;
      }
    }
    for (let i = 0; i < inner; i++) if (max[i] === -Infinity) max[i] = 0;
    sum.fill(0, 0, inner);
    for (let k = 0; k < len; k++) {
      const row = base + k * inner;
      for (let i = 0; i < inner; i++) {
        const ex = Math.exp(X[row + i]! - max[i]!);
        if (!log) e[k * inner + i] = ex;
        sum[i]! += ex;
      }
    }
    if (log) {
      for (let i = 0; i < inner; i++) sum[i] = Math.log(sum[i]!);
      for (let k = 0; k < len; k++) {
        const row = base + k * inner;
        for (let i = 0; i < inner; i++) Y[row + i] = X[row + i]! - max[i]! - sum[i]!;
      }
    } else {
      for (let k = 0; k < len; k++) {
        const row = base + k * inner;
        for (let i = 0; i < inner; i++) Y[row + i] = e[k * inner + i]! / sum[i]!;
      }
    }
  }
}

function softmaxKernel(axisAttr: string, log: boolean) {
  return (inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>): boolean => {
    const x = inputs[0]!;
    const y = outputs[0]!;
    if (x.dtype !== 'float32' || y.dtype !== 'float32' || y.size !== x.size) return false;
    const axis = axisOf(attrs[axisAttr] as number, x.rank);
    if (axis < 0) return false;
    const len = x.shape[axis]!;
    let inner = 1;
    for (let k = axis + 1; k < x.rank; k++) inner *= x.shape[k]!;
    if (x.size === 0) return true;
    const outer = x.size / (len * inner);
    const X = x.data as Float32Array;
    const Y = y.data as Float32Array;
    if (inner === 1) lastAxis(X, Y, outer, len, log);
    else innerAxis(X, Y, outer, len, inner, log);
    return true;
  };
}

export const softmaxKernels: Readonly<Record<string, CpuKernel>> = {
  softmax: softmaxKernel('dim', false),
  logSoftmax: softmaxKernel('axis', true),
};
