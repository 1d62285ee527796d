/**
 * maxPool and avgPool forward on the WebAssembly loop (pool.ts, the kernel's pool2d export)
 * against the reference kernels, bit for bit: each case builds the op on a placeholder,
 * resolves the window with geometry2D as conv-kernels.ts does, runs pool2d on a copy of x in
 * engine memory (output NaN-filled, so every element must be written) and requires every
 * element to equal the reference's exactly (Object.is, any NaN for NaN): windows 2x2/2,
 * 3x3/2 and 3x3/1 'same', 2x3 with strides [1,2] and explicit pads, stride > window, dilation 2,
 * dimRoundingMode 'ceil', countIncludePad, channel counts 1/4/6/32, batch 1 and 3; inputs with
 * NaNs and signed-zero ties; empty windows; 1 vs 2 threads; argument errors.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type DimRoundingMode, Graph, KilnError, type Node, type PadArg, type PoolOptions, Tensor, avgPool, geometry2D, maxPool } from '@kiln/graph';
import { GemmEngine } from '../src/compiled/wasm/gemm-engine.js';
import { type PoolMode, pool2d } from '../src/compiled/wasm/pool.js';
import '../src/reference/kernels/index.js';
import { makeRandom } from '../src/reference/random.js';
import { type RefContext, getRefKernel } from '../src/reference/registry.js';
import { statelessContext } from './wasm-test-helpers.js';

type Shape4 = [number, number, number, number];

/** Random values in [-1, 1) with NaNs (about 1 in 20) and +-0 (about 1 in 10) mixed in when `special`. */
function rand(shape: number[], seed: number, special: boolean): Tensor {
  const r = makeRandom(seed);
  const t = new Tensor('float32', shape);
  for (let i = 0; i < t.size; i++) {
    const u = r();
    t.data[i] = !special ? 2 * u - 1 : u < 0.05 ? Number.NaN : u < 0.1 ? 0 : u < 0.15 ? -0 : u < 0.3 ? -0.25 : 2 * r() - 1;
  }
  return t;
}

interface Case {
  mode: PoolMode;
  x: Shape4;
  k: [number, number];
  s: [number, number];
  pad: PadArg;
  round?: DimRoundingMode;
  opts?: PoolOptions;
}

const label = (c: Case) =>
  `${c.mode} x[${c.x}] k[${c.k}] s[${c.s}] pad ${JSON.stringify(c.pad)}${c.round ? ` ${c.round}` : ''}${c.opts ? ` ${JSON.stringify(c.opts)}` : ''}`;

function run(e: GemmEngine, c: Case, seed: number, special: boolean, threads?: number): [Float32Array, Tensor] {
  const x = rand(c.x, seed, special);
  const g = new Graph();
  const build = c.mode === 'max' ? maxPool : avgPool;
  const node = build(g.placeholder('float32', c.x, 'x'), c.k, c.s, c.pad, c.round, c.opts ?? {}).node;
  const want = getRefKernel(node.op)([x], node.attrs, statelessContext(node))[0]!;
  const geometry = geometry2D(c.x, c.k[0], c.k[1], node.attrs, node.name);
  const xo = e.alloc(x.size * 4);
  e.f32(xo, x.size).set(x.data as Float32Array);
  const out = e.alloc(want.size * 4);
  e.f32(out, want.size).fill(Number.NaN);
  pool2d(e, { mode: c.mode, countIncludePad: node.attrs.countIncludePad === true, x: xo, out, c: c.x[3], geometry, threads });
  return [e.f32(out, want.size).slice(), want];
}

function expectExact(got: Float32Array, want: Tensor, what: string): void {
  expect(got.length).toBe(want.size);
  for (let i = 0; i < want.size; i++) {
    const w = want.data[i]!;
    const ok = Number.isNaN(w) ? Number.isNaN(got[i]!) : Object.is(got[i], w);
    if (!ok) throw new Error(`${what}: element ${i} is ${got[i]}, expected ${w}`);
  }
}

/** Pool pads must be smaller than the window (2x3 here). */
const EXPLICIT: PadArg = [
  [0, 0],
  [1, 1],
  [2, 0],
  [0, 0],
];

function cases(): Case[] {
  const windows: Omit<Case, 'mode' | 'x'>[] = [
    { k: [2, 2], s: [2, 2], pad: 'valid' },
    { k: [3, 3], s: [2, 2], pad: 'same' },
    { k: [3, 3], s: [1, 1], pad: 'same' },
    { k: [2, 3], s: [1, 2], pad: EXPLICIT },
    { k: [2, 2], s: [3, 3], pad: 'valid' },
    { k: [3, 2], s: [2, 1], pad: 'same', opts: { dilations: 2 } },
    {
      k: [3, 3],
      s: [2, 2],
      pad: [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
      round: 'ceil',
    },
  ];
  const out: Case[] = [];
  let i = 0;
  for (const mode of ['max', 'avg'] as const) {
    for (const c of [1, 4, 6, 32]) {
      for (const w of windows) {
        const x: Shape4 = [i++ % 2 === 0 ? 1 : 3, 9, 10, c];
        out.push({ mode, x, ...w });
        if (mode === 'avg' && w.pad !== 'valid') out.push({ mode, x, ...w, opts: { ...w.opts, countIncludePad: true } });
      }
    }
  }
  return out;
}

describe('pool2d vs the reference maxPool/avgPool, exactly', () => {
  let e: GemmEngine;
  beforeAll(async () => {
    e = await GemmEngine.create({ threads: 2 });
  });
  afterAll(() => e.dispose());

  it.each(cases().map((c, i) => [label(c), c, i] as const))('%s', (_, c, i) => {
    const [got, want] = run(e, c, 200 + i, false);
    expectExact(got, want, label(c));
    const [gotSpecial, wantSpecial] = run(e, c, 300 + i, true);
    expectExact(gotSpecial, wantSpecial, `${label(c)} with NaN and signed zeros`);
  });

  it('keeps the first of tied signed zeros and propagates NaN like the reference', () => {
    const x = new Tensor('float32', [1, 2, 2, 4], new Float32Array([-0, 0, Number.NaN, 1, 0, -0, 5, Number.NaN, 0, 0, 1, -1, -0, 0, 2, 3]));
    const g = new Graph();
    const node = maxPool(g.placeholder('float32', [1, 2, 2, 4], 'x'), 2, 2, 'valid').node;
    const want = getRefKernel('maxPool')([x], node.attrs, statelessContext(node))[0]!;
    const xo = e.alloc(64);
    e.f32(xo, 16).set(x.data as Float32Array);
    const out = e.alloc(16);
    pool2d(e, { mode: 'max', x: xo, out, c: 4, geometry: geometry2D([1, 2, 2, 4], 2, 2, node.attrs, 'x') });
    const got = e.f32(out, 4).slice();
    expectExact(got, want, 'ties');
    expect(Object.is(got[0], -0) && Object.is(got[1], 0) && Number.isNaN(got[2]!) && Number.isNaN(got[3]!)).toBe(true);
  });

  it('writes 0 for windows with no input pixel (dilation 3, all-padding corners)', () => {
    for (const mode of ['max', 'avg'] as const) {
      const c: Case = {
        mode,
        x: [1, 2, 2, 5],
        k: [2, 2],
        s: [1, 1],
        pad: [
          [0, 0],
          [3, 3],
          [3, 3],
          [0, 0],
        ],
        opts: { dilations: 3 },
      };
      const [got, want] = run(e, c, 9, true);
      expect(Array.from(want.data).some((v) => v === 0)).toBe(true);
      expectExact(got, want, label(c));
    }
  });

  it('gives the same bits on 1 and 2 threads (8x28x28x32, 3x3 same)', () => {
    for (const mode of ['max', 'avg'] as const) {
      const c: Case = { mode, x: [8, 28, 28, 32], k: [3, 3], s: [1, 1], pad: 'same' };
      const [one, want] = run(e, c, 21, true, 1);
      const [two] = run(e, c, 21, true, 2);
      expectExact(two, want, label(c));
      expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer))).toBe(true);
    }
  });

  it('rejects bad modes, geometry and offsets with KilnError', () => {
    const geometry = geometry2D([1, 4, 4, 2], 2, 2, { strides: [2, 2], dilations: [1, 1], pad: 'valid', explicitPaddings: [] }, 'x');
    const x = e.alloc(128);
    const out = e.alloc(32);
    expect(() => pool2d(e, { mode: 'min' as PoolMode, x, out, c: 2, geometry })).toThrow(/mode must be 'max' or 'avg', got min/);
    expect(() => pool2d(e, { mode: 'max', x, out, c: 2, geometry: { ...geometry, strideH: 0 } })).toThrow(/strideH must be an integer >= 1, got 0/);
    expect(() => pool2d(e, { mode: 'max', x: 0, out, c: 2, geometry })).toThrow(KilnError);
  });
});
