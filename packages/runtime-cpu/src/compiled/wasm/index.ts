/** The WebAssembly SIMD GEMM engine and the convolution built on it. */
export * from './gemm-engine.js';
export * from './conv2d.js';
export * from './wasm-api.js';
export * from './conv2d-backprop.js';
export * from './depthwise.js';
export * from './direct-conv.js';
export * from './pool.js';
