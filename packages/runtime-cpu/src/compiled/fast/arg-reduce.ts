/**
 * Fast argMax and argMin (float32 or int32 in, int32 out): x viewed as [outer, n, inner]
 * around the axis. The first extreme wins on ties and, as in the reference kernel, a NaN
 * never beats the running best (a NaN first element stays the answer unless a later
 * element compares better than it, which none does). With inner > 1 the rows along the
 * axis are walked contiguously, keeping `inner` running bests.
 */
import type { Attrs, Tensor } from '@kiln/graph';
import type { CpuKernel } from './cpu-kernel.js';
import { axisOf, sizeBetween } from './axes.js';
import { scratch64 } from './scratch.js';

function argExtreme(isMax: boolean): CpuKernel {
  return (inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>): boolean => {
    const x = inputs[0]!;
    const y = outputs[0]!;
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || y.dtype !== 'int32') return false;
    const axis = axisOf(attrs.axis as number, x.rank);
    if (axis < 0) return false;
    const n = x.shape[axis]!;
    const outer = sizeBetween(x.shape, 0, axis);
    const inner = sizeBetween(x.shape, axis + 1, x.rank);
    if (n === 0 || y.size !== outer * inner) return false;
    const X = x.data;
    const Y = y.data as Int32Array;
    const sign = isMax ? 1 : -1;
    if (inner === 1) {
      for (let o = 0; o < outer; o++) {
        const base = o * n;
        let best = sign * X[base]!;
        let at = 0;
        for (let k = 1; k < n; k++) {
          const v = sign * X[base + k]!;
          if (v > best) {
            best = v;
            at = k;
          }
        }
        Y[o] = at;
      }
      return true;
    }
    const best = scratch64(0, inner);
    for (let o = 0; o < outer; o++) {
      const base = o * n * inner;
      const out = o * inner;
      for (let i = 0; i < inner; i++) {
        best[i] = sign * X[base + i]!;
        Y[out + i] = 0;
      }
      for (let k = 1; k < n; k++) {
        const row = base + k * inner;
        for (let i = 0; i < inner; i++) {
          const v = sign * X[row + i]!;
          if (v > best[i]!) {
            best[i] = v;
            Y[out + i] = k;
          }
        }
      }
    }
    return true;
  };
}

export const argReduceKernels: Readonly<Record<string, CpuKernel>> = {
  argMax: argExtreme(true),
  argMin: argExtreme(false),
};
