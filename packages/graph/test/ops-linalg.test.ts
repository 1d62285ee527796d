/** matMul: shape inference (transposes, broadcast batch dims, unknown dims) and every error path. */
import { describe, expect, it } from '@jest/globals';
import { Graph, matMul } from '@kiln/graph';
import { kilnErrorText } from '../../../tests/helpers/kiln-error.js';

describe('matMul inference', () => {
  const g = new Graph();
  it('plain and transposed products; attrs hold TF.js defaults', () => {
    const x = g.placeholder('float32', [null, 784], 'x');
    const w = g.placeholder('float32', [784, 10], 'w');
    const y = matMul(x, w);
    expect(y.shape).toEqual([null, 10]);
    expect(y.dtype).toBe('float32');
    expect(y.node.attrs).toEqual({ transposeA: false, transposeB: false });
    expect(matMul(w, x, true, true).shape).toEqual([10, null]);
    expect(matMul(x, x, false, true).shape).toEqual([null, null]);
    expect(matMul(x, x, true, false).shape).toEqual([784, 784]);
  });
  it('batch dims broadcast (also with unknown dims); rank-2 operands broadcast against batches', () => {
    const a = g.placeholder('float32', [null, 1, 2, 3]);
    const b = g.placeholder('float32', [5, 3, 4]);
    expect(matMul(a, b).shape).toEqual([null, 5, 2, 4]);
    expect(matMul(g.placeholder('float32', [2, 3]), b).shape).toEqual([5, 2, 4]);
    expect(matMul(g.placeholder('float32', [null, 2, null]), b).shape).toEqual([5, 2, 4]);
  });
  it('int32 operands are allowed and give int32', () => {
    expect(matMul(g.placeholder('int32', [2, 3]), g.placeholder('int32', [3, 1])).dtype).toBe('int32');
  });
  it('inner-dim mismatch is SHAPE_MISMATCH naming both shapes', () => {
    const a = g.placeholder('float32', [null, 28, 28, 1], 'img');
    const b = g.placeholder('float32', [5, 5, 3, 32], 'k');
    expect(kilnErrorText(() => matMul(a, b))).toBe(
      "SHAPE_MISMATCH: matMul 'matMul_8': inner dims differ: a has 1 columns but b has 3 rows (a: [?,28,28,1], b: [5,5,3,32])",
    );
    expect(kilnErrorText(() => matMul(g.placeholder('float32', [2, 3]), g.placeholder('float32', [4, 3]), false, false))).toMatch(
      /^SHAPE_MISMATCH: matMul '.*': inner dims differ: a has 3 columns but b has 4 rows \(a: \[2,3\], b: \[4,3\]\)$/,
    );
    expect(kilnErrorText(() => matMul(g.placeholder('float32', [2, 3]), g.placeholder('float32', [2, 3]), true, true))).toMatch(
      /a has 2 columns \(transposed\) but b has 3 rows \(transposed\)/,
    );
  });
  it('batch dims that cannot broadcast, rank < 2, dtype errors', () => {
    expect(kilnErrorText(() => matMul(g.placeholder('float32', [2, 2, 3]), g.placeholder('float32', [3, 3, 4])))).toMatch(
      /^SHAPE_MISMATCH: matMul '.*': batch dims: shapes \[2\] and \[3\] cannot be broadcast \(dim 0: 2 vs 3\)$/,
    );
    expect(kilnErrorText(() => matMul(g.placeholder('float32', [3]), g.placeholder('float32', [3, 4])))).toMatch(
      /^SHAPE_MISMATCH: matMul '.*': a must have rank >= 2, got \[3\] \(use expandDims or reshape\)$/,
    );
    expect(kilnErrorText(() => matMul(g.placeholder('float32', [2, 3]), g.placeholder('int32', [3, 4])))).toMatch(
      /^DTYPE_MISMATCH: matMul '.*': a and b must have the same dtype, got float32 and int32 \(use cast\(\)\)$/,
    );
    expect(kilnErrorText(() => matMul(g.placeholder('bool', [2, 3]), g.placeholder('bool', [3, 4])))).toMatch(/^DTYPE_MISMATCH: .*got bool$/);
  });
});
