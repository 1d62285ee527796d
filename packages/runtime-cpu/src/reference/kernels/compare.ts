/** Reference kernels: compare family. */
import { registerRefKernel } from '../registry.js';
void registerRefKernel;
