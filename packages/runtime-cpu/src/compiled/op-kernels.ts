/**
 * Fast CPU kernels for routines (softmax, pooling, movement, gather, argMax, norms: see
 * fast/), writing straight into their arena outputs. routines.ts binds one per op kernel when
 * a program is loaded, where it handles the kernel's shapes, dtypes and attrs; other routines
 * run their reference kernel on arena views. Contractions and convolutions do not come here:
 * the device runs them on the WebAssembly engine.
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
