/** Reference kernels: state family. */
import { registerRefKernel } from '../registry.js';
void registerRefKernel;
