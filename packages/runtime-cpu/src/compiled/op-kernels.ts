/**
 * Fast CPU kernels for op kernels (contractions first), writing straight into their arena
 * outputs. Ops without an entry run through the reference kernel on arena views.
 */
import type { Attrs, Tensor } from '@kiln/graph';

/** Returns false when it does not handle this case (the reference kernel runs instead). */
export type CpuKernel = (inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>) => boolean;

const table = new Map<string, CpuKernel>();

export function registerCpuKernel(op: string, k: CpuKernel): void {
  table.set(op, k);
}
export function getCpuKernel(op: string): CpuKernel | undefined {
  return table.get(op);
}

/**
 * matMul for rank-2 float32 operands (batched matMul falls back to the reference kernel):
 * i-k-j loop order over row-major data so the inner loop streams contiguous rows of B and C;
 * transposes handled by strides.
 */
function matMul2d(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>): boolean {
  const [a, b] = inputs as [Tensor, Tensor];
  if (a.dtype !== 'float32' || a.shape.length !== 2 || b.shape.length !== 2) return false;
  const c = outputs[0]!;
  const ta = attrs.transposeA === true;
  const tb = attrs.transposeB === true;
  const [ar, ac] = a.shape as [number, number];
  const [br, bc] = b.shape as [number, number];
  const m = ta ? ac : ar;
  const k = ta ? ar : ac;
  const n = tb ? br : bc;
  const A = a.data as Float32Array;
  const B = b.data as Float32Array;
  const C = c.data as Float32Array;
  const acc = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    for (let p = 0; p < k; p++) {
      const av = ta ? A[p * ac + i]! : A[i * ac + p]!;
      if (tb) {
        for (let j = 0; j < n; j++) acc[j]! += av * B[j * bc + p]!;
      } else {
        const row = p * bc;
        for (let j = 0; j < n; j++) acc[j]! += av * B[row + j]!;
      }
    }
    const out = i * n;
    for (let j = 0; j < n; j++) C[out + j] = acc[j]!;
  }
  return true;
}

registerCpuKernel('matMul', matMul2d);

// The fast kernels of the other op families (softmax, pooling, movement, gather, argMax, norms).
import { FAST_KERNELS } from './fast/index.js';
for (const [op, k] of FAST_KERNELS) registerCpuKernel(op, k);
