/** Reference kernels: conv family. */
import { registerRefKernel } from '../registry.js';
void registerRefKernel;
