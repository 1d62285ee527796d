/** Reference kernels: reduce family. */
import { registerRefKernel } from '../registry.js';
void registerRefKernel;
