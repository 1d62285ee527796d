/** @kiln/runtime-cpu: the reference executor (the oracle), the compiled CPU backend and their kernels. */
import { setDefaultConstantEvaluator } from '@kiln/compiler';
import { referenceConstantEvaluator } from './compiled-backend.js';

export * from './reference/registry.js';
export * from './reference/executor.js';
export * from './reference-backend.js';
export * from './compiled/js-codegen.js';
export * from './compiled/op-kernels.js';
export * from './compiled/executor.js';
export * from './compiled-backend.js';
export { heapStats, type HeapStats } from './compiled/heap.js';

// compile() folds constants with the reference kernels once this runtime is loaded.
setDefaultConstantEvaluator(referenceConstantEvaluator);
