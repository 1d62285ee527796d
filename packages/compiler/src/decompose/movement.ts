/**
 * Index maps as views and elementwise broadcasts:
 *   tile(x, reps)   = reshape(broadcastTo(reshape(x, [1, d0, 1, d1, ..]), [r0, d0, r1, d1, ..]), [r0*d0, ..])
 *   oneHot(i, depth) = where(expandDims(i, -1) == 0..depth-1, onValue, offValue)
 * Each is one elementwise kernel (any dtype); the reshapes are views.
 */
import { type DType, castScalar } from '@kiln/graph';
import type { Decomposition } from './decomposition.js';

const tile: Decomposition = (node, [x], b) => {
  const shape = x!.shape as number[];
  const reps = node.attrs.reps as number[];
  const interleaved = shape.flatMap((d) => [1, d]);
  const spread = shape.flatMap((d, i) => [reps[i]!, d]);
  const wide = b.op('broadcastTo', [b.op('reshape', [x!], { shape: interleaved })], { shape: spread });
  return [b.result('reshape', [wide], { shape: shape.map((d, i) => d * reps[i]!) })];
};

const oneHot: Decomposition = (node, [indices], b) => {
  const depth = node.attrs.depth as number;
  const dtype = node.attrs.dtype as DType;
  const rank = indices!.shape.length + 1;
  const hit = b.op('equal', [b.op('expandDims', [indices!], { axis: rank - 1 }), b.iota(depth, rank - 1, rank, 'int32')]);
  const on = b.scalar(castScalar(node.attrs.onValue as number, dtype), dtype);
  const off = b.scalar(castScalar(node.attrs.offValue as number, dtype), dtype);
  return [b.result('where', [hit, on, off])];
};

export const movementDecompositions = { tile, oneHot };
