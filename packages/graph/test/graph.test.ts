import { describe, expect, it } from '@jest/globals';
import { Graph, KilnError, add, relu, tensor } from '@kiln/graph';

describe('Graph', () => {
  it('builds nodes with inferred shapes and unique names', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 3], 'x');
    const y = add(x, 1);
    const z = g.nameScope('block', () => relu(add(y, y)));
    expect(y.shape).toEqual([null, 3]);
    expect(y.dtype).toBe('float32');
    expect(z.name).toBe('block/relu');
    expect(g.tensorByName('block/relu')).toBe(z);
    expect(add(x, x).name).toBe('add_1');
  });
  it('rejects float/int mixing with DTYPE_MISMATCH naming the node', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [2], 'x');
    const i = g.placeholder('int32', [2], 'i');
    expect(() => add(x, i)).toThrow(KilnError);
    expect(() => add(x, i)).toThrow(/add 'add.*float32 and int32/);
    expect(() => add(i, 1.5)).toThrow(/not an integer/);
  });
  it('broadcasts and reports mismatches', () => {
    const g = new Graph();
    const a = g.placeholder('float32', [4, 1, 3]);
    const b = g.placeholder('float32', [5, 1]);
    expect(add(a, b).shape).toEqual([4, 5, 3]);
    const c = g.placeholder('float32', [2]);
    try {
      add(a, c);
      throw new Error('no error');
    } catch (e) {
      expect((e as KilnError).code).toBe('SHAPE_MISMATCH');
      expect((e as Error).message).toContain('[4,1,3]');
    }
  });
  it('tensor() builds from nested, flat and typed arrays', () => {
    expect(
      tensor([
        [1, 2],
        [3, 4],
      ]).shape,
    ).toEqual([2, 2]);
    expect(tensor([1, 2, 3, 4], [2, 2]).toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(tensor(new Int32Array([1, 2])).dtype).toBe('int32');
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged/);
  });
});
