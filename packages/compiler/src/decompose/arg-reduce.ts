/**
 * argMax / argMin (float32) as two reductions, with the reference's NaN rule (the first
 * element wins when it is NaN; a later NaN never wins):
 *   xs  = where(x != x, -Inf, x)                         (+Inf for argMin)
 *   m   = max(xs, axis)                                   a reduce kernel
 *   hit = xs == m, or (x != x and position == 0)
 *   out = int32(min(where(hit, position, n), axis))       a reduce kernel (first hit)
 * `position` is a constant 0..n-1 along the axis.
 */
import { normalizeAxis } from '@kiln/graph';
import type { Decomposition } from './decomposition.js';

const argReduce =
  (best: 'max' | 'min'): Decomposition =>
  (node, [x], b) => {
    const shape = x!.shape as number[];
    if (x!.dtype !== 'float32') return undefined;
    const axis = normalizeAxis(node.attrs.axis as number, shape.length, `${node.op} '${node.name}'`);
    const n = shape[axis]!;
    if (n === 0) return undefined; // the routine reports the empty axis
    const isNaN = b.op('notEqual', [x!, x!]);
    const xs = b.op('where', [isNaN, b.scalar(best === 'max' ? -Infinity : Infinity), x!]);
    const m = b.op(best, [xs], { axis: [axis], keepDims: true });
    const position = b.iota(n, axis, shape.length);
    const first = b.op('logicalAnd', [isNaN, b.op('equal', [position, b.scalar(0)])]);
    const hit = b.op('logicalOr', [b.op('equal', [xs, m]), first]);
    const at = b.op('min', [b.op('where', [hit, position, b.scalar(n)])], { axis: [axis], keepDims: false });
    return [b.result('cast', [at], { dtype: 'int32' })];
  };

export const argReduceDecompositions = { argMax: argReduce('max'), argMin: argReduce('min') };
