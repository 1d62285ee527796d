/**
 * Views and index lowering as data: the view operations compose as the movement ops they
 * fold (checked element by element against the ops' definitions), the printer and checker
 * say what a view is and what is wrong with it, and the index lowering gives generators the
 * loops, strides and guards that they render (hand-computed cases).
 */
import { describe, expect, it } from '@jest/globals';
import {
  type View,
  chainPieces,
  checkView,
  concatPieceView,
  elementwiseIndexing,
  identityView,
  padView,
  reduceIndexing,
  sliceView,
  transposeView,
  viewToString,
} from '@kiln/compiler';

/** The buffer element a view reads at a logical index, or undefined outside its valid box. */
function at(v: View, idx: readonly number[]): number | undefined {
  if (v.valid?.some(([lo, hi], d) => idx[d]! < lo || idx[d]! >= hi)) return undefined;
  return v.offset + idx.reduce((s, i, d) => s + i * v.strides[d]!, 0);
}

describe('view operations', () => {
  it('transpose of a slice reads the same elements as slicing then transposing a [4,6] buffer', () => {
    const s = sliceView(identityView([4, 6]), [1, 2], [3, 3]);
    const t = transposeView(s, [1, 0], [3, 3]);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(at(t, [i, j])).toBe((1 + j) * 6 + (2 + i));
    expect(viewToString(t)).toBe('[3,3] at 8 strides [1,6]');
  });

  it('a pad is a guarded view with its fill outside; a slice of it clips the guard', () => {
    const p = padView(identityView([2, 3]), [1, 0], [4, 3], -1);
    expect(viewToString(p)).toBe('[4,3] at -3 strides [3,1] valid 1:3,0:3 else -1');
    expect(at(p, [0, 1])).toBeUndefined();
    expect(at(p, [2, 2])).toBe(5);
    const s = sliceView(p, [2, 0], [2, 3]);
    expect(s.valid).toEqual([
      [0, 1],
      [0, 3],
    ]);
    expect(at(s, [0, 0])).toBe(3);
  });

  it('concat pieces chain to the next input and cover the axis once', () => {
    const pieces = chainPieces([concatPieceView(identityView([2, 2]), 1, 0, [2, 5]), concatPieceView(identityView([2, 3]), 1, 2, [2, 5])], 4);
    expect(pieces.map(viewToString)).toEqual(['[2,5] at 0 strides [2,1] valid 0:2,0:2 else %5', '[2,5] at -2 strides [3,1] valid 0:2,2:5 else 0']);
    for (let j = 0; j < 5; j++) expect(pieces.filter((v) => at(v, [1, j]) !== undefined)).toHaveLength(1);
    expect(at(pieces[1]!, [1, 4])).toBe(5);
  });

  it('the checker names what is wrong', () => {
    const ok = identityView([2, 3]);
    expect(checkView(ok, 6, 0, 1, () => null)).toBeNull();
    expect(checkView(ok, 5, 0, 1, () => null)).toBe('reaches outside its buffer (5 elements)');
    expect(checkView({ ...ok, strides: [3, -1] }, 6, 0, 1, () => null)).toBe('has a negative stride or a range outside its shape');
    expect(checkView({ ...ok, offset: 0.5 }, 6, 0, 1, () => null)).toBe('has non-integral fields or mismatched ranks');
    expect(checkView({ ...padView(ok, [1, 0], [3, 3], 0), orElse: 0 }, 6, 1, 2, () => null)).toBe(
      'falls back to input 0, which must be a later input with a view',
    );
  });
});

describe('index lowering', () => {
  it('flat and scalar inputs: one loop', () => {
    expect(elementwiseIndexing([4, 3], [[4, 3], [1], [12]])).toEqual({ kind: 'flat', size: 12, inputs: ['flat', 'scalar', 'flat'] });
  });

  it('a bias over [n,h,w,c] loops as [n*h*w, c] with zero strides where it broadcasts', () => {
    const ix = elementwiseIndexing([2, 3, 4, 5], [[2, 3, 4, 5], [5]]);
    expect(ix).toEqual({
      kind: 'nested',
      loops: [24, 5],
      inputs: [
        { offset: 0, strides: [5, 1], guards: [], never: false, fill: 0 },
        { offset: 0, strides: [0, 1], guards: [], never: false, fill: 0 },
      ],
    });
  });

  it('a transposed view keeps its strides; a guarded view keeps the output dims and its guards', () => {
    const t = elementwiseIndexing([3, 4], [[4, 3]], [transposeView(identityView([4, 3]), [1, 0], [3, 4])]);
    expect(t.kind === 'nested' && t.inputs[0]!.strides).toEqual([1, 3]);
    const p = elementwiseIndexing([4, 3], [[2, 3]], [padView(identityView([2, 3]), [1, 0], [4, 3], 7)]);
    expect(p).toEqual({ kind: 'nested', loops: [4, 3], inputs: [{ offset: -3, strides: [3, 1], guards: [{ dim: 0, lo: 1, hi: 3 }], never: false, fill: 7 }] });
  });

  it('reductions: rows for trailing axes over flat inputs, nested loops with accumulator strides otherwise', () => {
    expect(reduceIndexing([4, 6], [[4, 6], [1]], [1])).toEqual({ kind: 'rows', outer: 4, inner: 6, inputs: ['flat', 'scalar'] });
    expect(reduceIndexing([4, 6], [[4, 6]], [0])).toEqual({ kind: 'nested', loops: [4, 6], inputStrides: [[6, 1]], accStrides: [0, 1] });
  });
});
