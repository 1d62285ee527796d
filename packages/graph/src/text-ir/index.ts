/** Text IR: printGraph writes a graph as readable SSA text; parseGraph reads it back exactly. */
export { printGraph, type PrintOptions } from './printer.js';
export { parseGraph } from './build.js';
export { TextIrError } from './parse-error.js';
