export * from './reference/registry.js';
export * from './reference/executor.js';
