export * from './autodiff/registry.js';
import './autodiff/rules/index.js';
