/** Reference kernels: pool family. */
import { registerRefKernel } from '../registry.js';
void registerRefKernel;
