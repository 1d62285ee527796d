/**
 * The signature of a fast CPU op kernel (fast/*.ts, collected by op-kernels.ts): it writes its
 * results straight into the arena outputs, or returns false to decline a case (the reference
 * kernel then runs). In a file of its own so the kernels and the table import it without a
 * cycle.
 */
import type { Attrs, Tensor } from '@kiln/graph';

/** Returns false when it does not handle this case (the reference kernel runs instead). */
export type CpuKernel = (inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>) => boolean;
