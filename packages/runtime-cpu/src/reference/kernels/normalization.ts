/** Reference kernels: normalization family. */
import { registerRefKernel } from '../registry.js';
void registerRefKernel;
