/**
 * cumsum (float32) as a reduction over a masked broadcast: out[.., j, ..] = sum over k of
 * (mask[k, j] ? x[.., k, ..] : 0), where the constant mask says which k enter position j
 * (k <= j; k < j when exclusive; reversed: k >= j, k > j). One reduce kernel whose prologue
 * reads x broadcast along a new axis; O(n^2) along the axis, so axes longer than
 * MAX_CUMSUM_LENGTH stay the 'cumsum' routine.
 */
import { Tensor, normalizeAxis } from '@kiln/graph';
import type { Decomposition } from './decomposition.js';

export const MAX_CUMSUM_LENGTH = 1024;

const cumsum: Decomposition = (node, [x], b) => {
  const shape = x!.shape as number[];
  if (x!.dtype !== 'float32') return undefined;
  const axis = normalizeAxis(node.attrs.axis as number, shape.length, `cumsum '${node.name}'`);
  const n = shape[axis]!;
  if (n === 0 || n > MAX_CUMSUM_LENGTH) return undefined;
  const exclusive = node.attrs.exclusive === true;
  const reverse = node.attrs.reverse === true;
  const mask = new Uint8Array(n * n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) mask[k * n + j] = (reverse ? k > j || (!exclusive && k === j) : k < j || (!exclusive && k === j)) ? 1 : 0;
  }
  // Dims: x's with a new dim j after the axis (k); the mask spans (k, j).
  const maskShape = [...shape.slice(0, axis).map(() => 1), n, n, ...shape.slice(axis + 1).map(() => 1)];
  const m = b.constant(new Tensor('bool', maskShape, mask));
  const xk = b.op('expandDims', [x!], { axis: axis + 1 });
  const masked = b.op('where', [m, xk, b.scalar(0)]);
  return [b.result('sum', [masked], { axis: [axis], keepDims: false })];
};

export const cumsumDecompositions = { cumsum };
