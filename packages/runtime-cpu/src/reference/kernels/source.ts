/** Reference kernels: source family (placeholder and variable are handled by the executor). */
import type { Tensor } from '@kiln/graph';
import { registerRefKernel } from '../registry.js';

registerRefKernel('const', (_inputs, attrs) => [attrs.value as unknown as Tensor]);
