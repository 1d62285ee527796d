/**
 * Reference matMul kernel against hand-computed products (exact for these small integers) and
 * its gradient rule, for all four transpose combinations and broadcast batch dims, against
 * central finite differences (tol 1e-3, see grad-fd.ts).
 */
import { describe, expect, it } from '@jest/globals';
import { Graph, KilnError, matMul, tensor } from '@kiln/graph';
import { evaluate } from '@kiln/runtime-cpu';
import { checkGrad, randn } from './grad-fd.js';

const A = [
  [1, 2, 3],
  [4, 5, 6],
];
const B = [
  [1, 0],
  [0, 1],
  [2, -1],
];
const AB = [
  [7, -1],
  [16, -1],
];

describe('matMul kernel', () => {
  it('computes a @ b and every transpose combination', () => {
    const g = new Graph();
    const a = g.constant(A);
    const b = g.constant(B);
    const at = g.constant([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    const bt = g.constant([
      [1, 0, 2],
      [0, 1, -1],
    ]);
    const vals = evaluate([matMul(a, b), matMul(at, b, true), matMul(a, bt, false, true), matMul(at, bt, true, true)]);
    for (const v of vals) expect(v.toArray()).toEqual(AB);
  });
  it('int32 operands give int32', () => {
    const g = new Graph();
    const v = evaluate([matMul(g.constant(A, 'int32'), g.constant(B, 'int32'))])[0]!;
    expect(v.dtype).toBe('int32');
    expect(v.toArray()).toEqual(AB);
  });
  it('broadcasts batch dims ([2,1,2,3] @ [3,3,2] -> [2,3,2,2])', () => {
    const g = new Graph();
    const a = g.constant(tensor([...A.flat(), ...A.flat().map((v) => -v)], [2, 1, 2, 3]));
    const b = g.constant(tensor([...B.flat(), ...B.flat().map((v) => 2 * v), ...B.flat().map(() => 0)], [3, 3, 2]));
    const v = evaluate([matMul(a, b)])[0]!;
    expect(v.shape).toEqual([2, 3, 2, 2]);
    const neg = (m: number[][], k: number) => m.map((r) => r.map((x) => x * k + 0));
    expect(v.toArray()).toEqual([
      [AB, neg(AB, 2), neg(AB, 0)],
      [neg(AB, -1), neg(AB, -2), neg(AB, 0)],
    ]);
  });
  it('accumulates in float64 (2^24 + 1 + ... not lost)', () => {
    const g = new Graph();
    const a = g.constant(tensor([16777216, 1, 1, 1], [1, 4]));
    const b = g.constant(tensor([1, 1, 1, 1], [4, 1]));
    expect(evaluate([matMul(a, b)])[0]!.data[0]).toBe(16777220);
  });
  it('a run-time inner-dim mismatch (unknown dims) is SHAPE_MISMATCH naming both shapes', () => {
    const g = new Graph();
    const y = matMul(g.placeholder('float32', [2, null], 'a'), g.placeholder('float32', [null, 2], 'b'));
    try {
      evaluate([y], { a: tensor([1, 2, 3, 4], [2, 2]), b: tensor([1, 2, 3, 4, 5, 6], [3, 2]) });
      throw new Error('expected an error');
    } catch (e) {
      expect((e as KilnError).code).toBe('SHAPE_MISMATCH');
      expect((e as KilnError).message).toBe("matMul 'matMul': inner dims differ: 2 vs 3 (a: [2,2], b: [3,2])");
    }
  });
});

describe('matMul gradient (central differences, tol 1e-3)', () => {
  for (const [tA, tB] of [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ] as const) {
    it(`transposeA=${tA} transposeB=${tB}`, () => {
      const a = randn(tA ? [4, 2] : [2, 4], 1);
      const b = randn(tB ? [3, 4] : [4, 3], 2);
      checkGrad([{ value: a }, { value: b }], (x, y) => matMul(x, y, tA, tB));
    });
  }
  it('batch dims broadcast and summed back ([2,1,2,4] x [3,4,3], both transposed [3,2] x [2,4,3])', () => {
    checkGrad([{ value: randn([2, 1, 2, 4], 3) }, { value: randn([3, 4, 3], 4) }], (x, y) => matMul(x, y));
    checkGrad([{ value: randn([3, 2], 5) }, { value: randn([2, 4, 3], 6) }], (x, y) => matMul(x, y, true, true));
  });
  it('unknown batch dim', () => {
    checkGrad([{ value: randn([2, 2, 4], 7), shape: [null, 2, 4] }, { value: randn([4, 3], 8) }], (x, y) => matMul(x, y));
  });
});
