/**
 * Fast CPU kernels for op kernels (softmax, pooling, movement, gather, argMax, norms: see
 * fast/), writing straight into their arena outputs. Ops without an entry, or cases a kernel
 * declines, run through the reference kernel on arena views. Contractions and convolutions do
 * not come here: the executor runs them on the WebAssembly engine.
 */
import type { CpuKernel } from './fast/cpu-kernel.js';
import { FAST_KERNELS } from './fast/index.js';

export type { CpuKernel } from './fast/cpu-kernel.js';

const table = new Map<string, CpuKernel>(FAST_KERNELS);

export function registerCpuKernel(op: string, k: CpuKernel): void {
  table.set(op, k);
}
export function getCpuKernel(op: string): CpuKernel | undefined {
  return table.get(op);
}
