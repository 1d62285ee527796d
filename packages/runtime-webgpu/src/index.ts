export * from './device.js';
export * from './webgpu-device.js';
export { WebGpuProgram } from './gpu-program.js';
