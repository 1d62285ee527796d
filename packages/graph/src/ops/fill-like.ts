/**
 * zerosLike(x) and onesLike(x) as in TensorFlow.js: x's dtype and its run-time shape (unknown
 * dims included). They are a scalar constant broadcast like x (broadcastLike), so the compiler
 * folds them into their consumers and x's values are never read.
 */
import type { SymbolicTensor } from '../graph.js';
import { KilnError } from '../errors.js';
import { isSymbolic } from '../graph.js';
import { broadcastLike } from './movement.js';

function filledLike(what: string, x: SymbolicTensor, value: number): SymbolicTensor {
  if (!isSymbolic(x)) throw new KilnError('INVALID_ARGUMENT', `${what}: x must be a SymbolicTensor, got ${typeof x}`);
  return broadcastLike(x.graph.constant(value, x.dtype), x);
}

/** Zeros with x's dtype and shape. */
export function zerosLike(x: SymbolicTensor): SymbolicTensor {
  return filledLike('zerosLike', x, 0);
}

/** Ones with x's dtype and shape. */
export function onesLike(x: SymbolicTensor): SymbolicTensor {
  return filledLike('onesLike', x, 1);
}
