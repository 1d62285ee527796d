import { describe, expect, it } from '@jest/globals';
import { Graph, KilnError, Tensor, computeFans, getInitializer, initializers } from '../src/index.js';

function stats(t: Tensor): { mean: number; std: number; min: number; max: number } {
  const d = Array.from(t.data);
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  const std = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
  return { mean, std, min: Math.min(...d), max: Math.max(...d) };
}

describe('initializers', () => {
  it('computes Keras fans for matrices, vectors and HWIO filters', () => {
    expect(computeFans([784, 512])).toEqual({ fanIn: 784, fanOut: 512 });
    expect(computeFans([10])).toEqual({ fanIn: 10, fanOut: 10 });
    expect(computeFans([3, 3, 16, 32])).toEqual({ fanIn: 144, fanOut: 288 });
  });

  it('glorotUniform stays within sqrt(6 / (fanIn + fanOut)) with the matching variance', () => {
    const t = initializers.glorotUniform({ seed: 1 }).apply([200, 300]);
    const limit = Math.sqrt(6 / 500);
    const s = stats(t);
    expect(s.max).toBeLessThanOrEqual(limit);
    expect(s.min).toBeGreaterThanOrEqual(-limit);
    expect(s.std).toBeCloseTo(limit / Math.sqrt(3), 2);
    expect(Math.abs(s.mean)).toBeLessThan(0.005);
  });

  it('heNormal has variance 2 / fanIn, truncated at two standard deviations of the underlying normal', () => {
    const t = initializers.heNormal({ seed: 3 }).apply([400, 300]);
    const s = stats(t);
    expect(s.std).toBeCloseTo(Math.sqrt(2 / 400), 3);
    expect(s.max).toBeLessThanOrEqual((2 * Math.sqrt(2 / 400)) / 0.87962566103423978 + 1e-6);
  });

  it('is deterministic with a seed and differs across seeds', () => {
    const a = initializers.glorotNormal({ seed: 7 }).apply([5, 4]);
    const b = initializers.glorotNormal({ seed: 7 }).apply([5, 4]);
    const c = initializers.glorotNormal({ seed: 8 }).apply([5, 4]);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
  });

  it('orthogonal gives orthonormal rows (or columns)', () => {
    for (const shape of [
      [4, 6],
      [6, 4],
    ]) {
      const t = initializers.orthogonal({ seed: 2 }).apply(shape);
      const [r, c] = shape as [number, number];
      const at = (i: number, j: number) => t.data[i * c + j]!;
      const k = Math.min(r, c);
      for (let p = 0; p < k; p++) {
        for (let q = 0; q < k; q++) {
          let dot = 0;
          for (let j = 0; j < Math.max(r, c); j++) dot += r <= c ? at(p, j) * at(q, j) : at(j, p) * at(j, q);
          expect(dot).toBeCloseTo(p === q ? 1 : 0, 5);
        }
      }
    }
  });

  it('constant, zeros, ones and identity', () => {
    expect(Array.from(initializers.constant({ value: 2.5 }).apply([3]).data)).toEqual([2.5, 2.5, 2.5]);
    expect(Array.from(initializers.zeros().apply([2], 'int32').data)).toEqual([0, 0]);
    expect(Array.from(initializers.ones().apply([2]).data)).toEqual([1, 1]);
    expect(Array.from(initializers.identity().apply([2, 2]).data)).toEqual([1, 0, 0, 1]);
  });

  it('resolves TensorFlow.js identifiers and rejects unknown ones', () => {
    expect(getInitializer('heUniform').className).toBe('HeUniform');
    expect(() => getInitializer('nope')).toThrow(KilnError);
    expect(() => initializers.randomNormal({ stddev: Number.NaN })).toThrow(/stddev must be a finite number/);
  });

  it('g.variable takes an initializer and a shape', () => {
    const g = new Graph();
    const w = g.variable(initializers.glorotUniform({ seed: 1 }), [784, 512], 'w1');
    expect(w.shape).toEqual([784, 512]);
    expect(w.name).toBe('w1');
    const init = w.node.attrs.value as Tensor;
    expect(Array.from(init.data.slice(0, 4))).toEqual(Array.from(initializers.glorotUniform({ seed: 1 }).apply([784, 512]).data.slice(0, 4)));
    const b = g.variable(initializers.zeros(), [3], { trainable: false } as never);
    expect(b.shape).toEqual([3]);
    expect(() => g.variable(initializers.zeros() as never)).toThrow(/needs a shape/);
  });
});
