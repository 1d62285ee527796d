/** Every op family; importing this registers all ops and exposes their free functions. */
export * from './elementwise.js';
export * from './compare.js';
export * from './reduce.js';
export * from './movement.js';
export * from './linalg.js';
export * from './conv.js';
export * from './pool.js';
export * from './normalization.js';
export * from './random.js';
export * from './random-draws.js';
export * from './fill-like.js';
export * from './state.js';
export * from './losses.js';
