import { describe, expect, it } from '@jest/globals';
import { Graph, add, relu, tensor } from '@kiln/graph';
import { evaluate } from '@kiln/runtime-cpu';

describe('reference executor', () => {
  it('evaluates a small graph with feeds and broadcasting', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 2], 'x');
    const y = relu(add(x, tensor([1, -10])));
    const [v] = evaluate([y], {
      x: tensor([
        [1, 2],
        [-3, 20],
      ]),
    });
    expect(v!.toArray()).toEqual([
      [2, 0],
      [0, 10],
    ]);
  });
  it('raises MISSING_FEED for an unfed placeholder', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [2], 'x');
    expect(() => evaluate([relu(x)])).toThrow(/placeholder 'x'/);
  });
});
