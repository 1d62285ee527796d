/** Reference kernels: linalg family. */
import { registerRefKernel } from '../registry.js';
void registerRefKernel;
