/**
 * Every fast CPU op kernel, as [op, kernel] pairs for op-kernels.ts to register. Kernel files
 * take the CpuKernel type from cpu-kernel.ts, so nothing here imports op-kernels.ts (no
 * import cycle, not even a type-only one).
 * Contract shared by all of them: outputs are preallocated with the inferred shape and dtype,
 * are written in place (every element, never `data` replaced) and do not overlap the inputs
 * (the memory plan shares storage in place only between elementwise kernels). A kernel
 * returns false for any case it does not handle, deciding so before it writes anything: from
 * shapes, dtypes and attrs (the device tries it once at load and binds the reference kernel
 * instead when it declines), or from data it cannot accept (gather's out-of-range indices: the
 * routine then fails with the reference kernel's wording).
 */
import type { CpuKernel } from './cpu-kernel.js';
import { argReduceKernels } from './arg-reduce.js';
import { gatherKernels } from './gather.js';
import { joinKernels } from './join.js';
import { movementKernels } from './movement.js';
import { normalizationKernels } from './normalization.js';
import { poolKernels } from './pool.js';
import { softmaxKernels } from './softmax.js';

export const FAST_KERNELS: ReadonlyArray<readonly [string, CpuKernel]> = [
  softmaxKernels,
  poolKernels,
  movementKernels,
  joinKernels,
  gatherKernels,
  argReduceKernels,
  normalizationKernels,
].flatMap((group) => Object.entries(group));
