/** Initializers (as the `initializers` namespace, TensorFlow.js style) and the shared random streams. */
export * as initializers from './initializers.js';
export { type Initializer, isInitializer, getInitializer, computeFans } from './initializers.js';
export { makeRandom, makeNormal, makeTruncatedNormal } from './random-stream.js';
