/** Reference kernels: movement family. */
import { registerRefKernel } from '../registry.js';
void registerRefKernel;
