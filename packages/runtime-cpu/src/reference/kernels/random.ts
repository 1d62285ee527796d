/** Reference kernels: random family. */
import { registerRefKernel } from '../registry.js';
void registerRefKernel;
