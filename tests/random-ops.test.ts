/**
 * Random draws and the constant-making graph methods (g.randomNormal, g.randomUniform,
 * g.truncatedNormal, multinomial, g.zeros/ones/fill/eye/range/linspace, zerosLike/onesLike):
 * values against hand-computed ones, distributions against their moments (20,000 draws: the
 * bounds are > 5 standard errors wide), seeding as TF1 (fresh per run, reproducible from the
 * session seed, op seeds combined with it) and the same values on the compiled CPU backend as
 * on the reference executor.
 */
import { describe, expect, it } from '@jest/globals';
import * as kiln from 'kiln';
import { Graph, tensor } from 'kiln';

function moments(v: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) {
    s += v[i]!;
    min = Math.min(min, v[i]!);
    max = Math.max(max, v[i]!);
  }
  const mean = s / v.length;
  let q = 0;
  for (let i = 0; i < v.length; i++) q += (v[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(q / v.length), min, max };
}

describe('random draws', () => {
  it('have the asked distributions', async () => {
    const g = new Graph();
    const n = g.randomNormal([100, 200], 2, 3);
    const u = g.randomUniform([20000], -1, 3);
    const t = g.truncatedNormal([20000], 1, 0.5);
    const ui = g.randomUniform([20000], 0, 4, 'int32');
    const s = await kiln.session(g, { seed: 3 });
    const [nv, uv, tv, iv] = await s.run([n, u, t, ui]);
    expect(nv.shape).toEqual([100, 200]);
    const mn = moments(nv.dataSync());
    expect(Math.abs(mn.mean - 2)).toBeLessThan(0.1);
    expect(Math.abs(mn.std - 3)).toBeLessThan(0.1);
    const mu = moments(uv.dataSync());
    expect(mu.min).toBeGreaterThanOrEqual(-1);
    expect(mu.max).toBeLessThan(3);
    expect(Math.abs(mu.mean - 1)).toBeLessThan(0.05);
    const mt = moments(tv.dataSync());
    expect(mt.min).toBeGreaterThanOrEqual(0);
    expect(mt.max).toBeLessThanOrEqual(2);
    // A normal truncated at two standard deviations has std 0.8796 sigma.
    expect(Math.abs(mt.std - 0.8796 * 0.5)).toBeLessThan(0.01);
    expect(iv.dtype).toBe('int32');
    expect(new Set(iv.dataSync())).toEqual(new Set([0, 1, 2, 3]));
  });

  it('multinomial samples follow softmax(logits) and take one class when the others have no mass', async () => {
    const g = new Graph();
    const logits = g.constant([
      [Math.log(0.2), Math.log(0.5), Math.log(0.3)],
      [0, 0, 100],
    ]);
    const m = kiln.multinomial(logits, 10000, 5);
    const p = kiln.multinomial(g.constant([0, 1, 0, 0]), 20, undefined, true);
    const s = await kiln.session(g, { seed: 1 });
    const [mv, pv] = await s.run([m, p]);
    expect(mv.shape).toEqual([2, 10000]);
    const rows = mv.arraySync() as number[][];
    const freq = [0, 1, 2].map((c) => rows[0]!.filter((x) => x === c).length / 10000);
    [0.2, 0.5, 0.3].forEach((want, c) => expect(Math.abs(freq[c]! - want)).toBeLessThan(0.025));
    expect(rows[1]!.every((x) => x === 2)).toBe(true);
    expect(pv.arraySync()).toEqual(new Array(20).fill(1));
  });

  it('draw fresh values each run, the same sequence for the same session seed, on every backend', async () => {
    const g = new Graph();
    const a = g.randomNormal([6]);
    const b = g.randomNormal([6], 0, 1, 'float32', 42);
    const c = g.randomNormal([6], 0, 1, 'float32', 43);
    const d = kiln.multinomial(g.constant([[0.5, 0, -1, 2]]), 8);
    const draw = async (backend: 'cpu' | 'reference', seed: number) => {
      const s = await kiln.session(g, { seed, backend });
      const r1 = await s.run([a, b, c, d]);
      const r2 = await s.run([a, b, c, d]);
      return [...r1, ...r2].map((t) => Array.from(t.dataSync()));
    };
    const ref = await draw('reference', 9);
    expect(await draw('cpu', 9)).toEqual(ref);
    expect(ref[0]).not.toEqual(ref[4]);
    expect(ref[1]).not.toEqual(ref[5]);
    expect(ref[1]).not.toEqual(ref[2]);
    expect((await draw('reference', 10))[1]).not.toEqual(ref[1]);
  });

  it('round-trip through the text IR and model files', () => {
    const g = new Graph();
    g.randomNormal([2, 3], 1, 2, 'float32', 5);
    g.randomUniform([], -1, 1, 'int32');
    g.truncatedNormal([4]);
    kiln.multinomial(g.constant([[1, 2]]), 3, 9, true);
    const text = kiln.printGraph(g);
    expect(kiln.printGraph(kiln.parseGraph(text))).toBe(text);
    expect(kiln.printGraph(kiln.deserializeGraph(kiln.serializeGraph(g)))).toBe(text);
  });

  it('check their arguments, naming the op', () => {
    const g = new Graph();
    expect(() => g.randomNormal([2, -1])).toThrow(/randomNormal: shape must be an array of non-negative integers/);
    expect(() => g.randomUniform([2], 0, 1, 'float32', 1.5)).toThrow(/randomUniform: seed must be an integer/);
    expect(() => g.truncatedNormal([2], 0, NaN)).toThrow(/truncatedNormal: stdDev must be a finite number/);
    expect(() => g.randomNormal([2], 0, 1, 'bool' as 'float32')).toThrow(/dtype must be float32 or int32, got bool/);
    expect(() => kiln.multinomial(g.constant([[[1]]]), 2)).toThrow(/multinomial 'multinomial': logits must be rank 1/);
    expect(() => kiln.multinomial(g.constant([1, 2]), 0)).toThrow(/numSamples must be a positive integer/);
  });
});

describe('constant-making graph methods', () => {
  it('give TensorFlow.js values', async () => {
    const g = new Graph();
    const outs = [
      g.zeros([2, 2]),
      g.ones([3], 'int32'),
      g.fill([2], 7.5),
      g.eye(2, 3),
      g.range(1, 2, 0.25),
      g.range(5, 0, -2, 'int32'),
      g.linspace(0, 1, 5),
      g.fill([2], true),
    ];
    const s = await kiln.session(g);
    const got = await s.run(outs);
    expect(got.map((t) => t.arraySync())).toEqual([
      [
        [0, 0],
        [0, 0],
      ],
      [1, 1, 1],
      [7.5, 7.5],
      [
        [1, 0, 0],
        [0, 1, 0],
      ],
      [1, 1.25, 1.5, 1.75],
      [5, 3, 1],
      [0, 0.25, 0.5, 0.75, 1],
      [true, true],
    ]);
    expect(got[1]!.dtype).toBe('int32');
  });

  it('zerosLike and onesLike follow the run-time shape and dtype', async () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 2], 'x');
    const i = g.placeholder('int32', [3], 'i');
    const z = kiln.zerosLike(x);
    const o = kiln.onesLike(i);
    const s = await kiln.session(g);
    const [zv, ov] = await s.run([z, o], {
      x: tensor([
        [NaN, 1],
        [2, Infinity],
        [3, 4],
      ]),
      i: tensor(new Int32Array([4, 5, 6])),
    });
    expect(zv.arraySync()).toEqual([
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
    expect(ov.dtype).toBe('int32');
    expect(ov.arraySync()).toEqual([1, 1, 1]);
  });

  it('check their arguments', () => {
    const g = new Graph();
    expect(() => g.range(0, 1, 0)).toThrow(/range: step must not be 0/);
    expect(() => g.linspace(0, 1, 0)).toThrow(/linspace: num must be a positive integer/);
    expect(() => g.zeros([1.5])).toThrow(/zeros: shape must be an array of non-negative integers/);
    expect(() => g.eye(-1)).toThrow(/eye: shape must be/);
  });
});
