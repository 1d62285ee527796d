/**
 * The direct conv2d loop (direct-conv.ts, the kernel's directConv export) against the
 * reference kernel, the oracle: each case builds conv2d on placeholders, resolves the window
 * with geometry2D as conv-kernels.ts does, runs directConv2d on copies of the inputs in engine
 * memory (output NaN-filled, so every element must be written) and compares: 5x5x1, 3x3x3,
 * 3x3x4, 2x2x2 filters with Cout 1/4/7/20/32 (2x16, 1x16, 1x4 and scalar blocks), strides
 * 1/2 and mixed, dilation 2, 'same'/'valid'/explicit pads, windows entirely in the padding,
 * batch 1 and 3; 1 vs 2 threads bitwise equal; argument errors; the engine's row dispatch;
 * and a compiled CNN (conv + bias + relu -> maxPool -> conv -> avgPool) equal to the reference
 * executor. Tolerance: |got - ref| <= 1e-5 + 1e-4 * |ref| (float32 sums vs float64).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { compile } from '@kiln/compiler';
import { Graph, KilnError, type Node, type PadArg, type SymbolicTensor, Tensor, add, avgPool, conv2d, geometry2D, maxPool, relu } from '@kiln/graph';
import { GemmEngine } from '../src/compiled/wasm/gemm-engine.js';
import { directConv2d, directConvPays } from '../src/compiled/wasm/direct-conv.js';
import { CpuProgram, evaluate, referenceConstantEvaluator } from '../src/index.js';
import { planConv } from '../src/compiled/conv-kernels.js';
import '../src/reference/kernels/index.js';
import { makeRandom } from '../src/reference/random.js';
import { type RefContext, getRefKernel } from '../src/reference/registry.js';
import { randomTensor, statelessContext } from './wasm-test-helpers.js';

type Shape4 = [number, number, number, number];

interface Case {
  x: Shape4;
  f: Shape4;
  s: [number, number];
  pad: PadArg;
  d?: [number, number];
}

const label = (c: Case) => `x[${c.x}] f[${c.f}] s[${c.s}] d[${c.d ?? [1, 1]}] pad ${JSON.stringify(c.pad)}`;

/** Runs the case on `e` and returns [got (a copy), reference]. */
function run(e: GemmEngine, c: Case, seed: number, threads?: number): [Float32Array, Tensor] {
  const d = c.d ?? [1, 1];
  const x = randomTensor(c.x, seed);
  const f = randomTensor(c.f, seed + 1);
  const g = new Graph();
  const node = conv2d(g.placeholder('float32', c.x, 'x'), g.placeholder('float32', c.f, 'f'), c.s, c.pad, 'NHWC', d).node;
  const want = getRefKernel('conv2d')([x, f], node.attrs, statelessContext(node))[0]!;
  const geo = geometry2D(c.x, c.f[0], c.f[1], node.attrs, node.name);
  const put = (t: Tensor) => {
    const o = e.alloc(t.size * 4);
    e.f32(o, t.size).set(t.data as Float32Array);
    return o;
  };
  const out = e.alloc(want.size * 4);
  e.f32(out, want.size).fill(Number.NaN);
  directConv2d(e, {
    x: put(x),
    xShape: c.x,
    filter: put(f),
    filterShape: c.f,
    out,
    outShape: want.shape as Shape4,
    strides: [geo.strideH, geo.strideW],
    dilations: [geo.dilationH, geo.dilationW],
    padTop: geo.padTop,
    padLeft: geo.padLeft,
    threads,
  });
  return [e.f32(out, want.size).slice(), want];
}

function compare(got: Float32Array, want: Tensor, what: string): void {
  for (let i = 0; i < want.size; i++) {
    const w = want.data[i]!;
    if (!(Math.abs(got[i]! - w) <= 1e-5 + 1e-4 * Math.abs(w))) throw new Error(`${what}: element ${i} is ${got[i]}, expected ${w}`);
  }
  expect(got.length).toBe(want.size);
}

const EXPLICIT: PadArg = [
  [0, 0],
  [1, 2],
  [2, 0],
  [0, 0],
];

function cases(): Case[] {
  const out: Case[] = [];
  const filters: [number, number, number][] = [
    [5, 5, 1],
    [3, 3, 3],
    [3, 3, 4],
    [2, 2, 2],
  ];
  const windows: { s: [number, number]; d?: [number, number]; pad: PadArg }[] = [
    { s: [1, 1], pad: 'same' },
    { s: [1, 1], pad: 'valid' },
    { s: [2, 2], pad: 'same' },
    { s: [1, 2], pad: EXPLICIT },
    { s: [1, 1], d: [2, 2], pad: 'same' },
    { s: [2, 1], d: [1, 2], pad: 'valid' },
  ];
  let i = 0;
  for (const [kh, kw, ci] of filters) {
    for (const co of [1, 4, 7, 20, 32]) {
      for (const w of windows) {
        const batch = i++ % 2 === 0 ? 1 : 3;
        out.push({ x: [batch, 9, 11, ci], f: [kh, kw, ci, co], ...w });
      }
    }
  }
  return out;
}

describe('directConv2d vs the reference conv2d', () => {
  let e: GemmEngine;
  beforeAll(async () => {
    e = await GemmEngine.create({ threads: 2 });
  });
  afterAll(() => e.dispose());

  it.each(cases().map((c, i) => [label(c), c, i] as const))('%s', (_, c, i) => {
    const [got, want] = run(e, c, 100 + i);
    compare(got, want, label(c));
  });

  it('writes 0 where a window lies entirely in the padding', () => {
    // dilation 3 with 3 pixels of padding: corner windows see no input pixel at all
    const c: Case = {
      x: [2, 2, 3, 2],
      f: [2, 2, 2, 7],
      s: [1, 1],
      d: [3, 3],
      pad: [
        [0, 0],
        [3, 3],
        [3, 3],
        [0, 0],
      ],
    };
    const [got, want] = run(e, c, 7);
    expect(Array.from(want.data).some((v) => v === 0)).toBe(true);
    compare(got, want, label(c));
  });

  it('splits rows across threads with bitwise equal results (batch 3, 28x28, 5x5x1x32)', () => {
    const c: Case = { x: [3, 28, 28, 1], f: [5, 5, 1, 32], s: [1, 1], pad: 'same' };
    const [one, want] = run(e, c, 11, 1);
    const [two] = run(e, c, 11, 2);
    compare(two, want, label(c));
    expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer))).toBe(true);
  });

  it('runs every conv with more than one tap, never 1x1 filters (a GEMM on x itself)', () => {
    expect(directConvPays([64, 28, 28, 1], [5, 5, 1, 32])).toBe(true);
    expect(directConvPays([64, 28, 28, 4], [5, 5, 4, 32])).toBe(true);
    expect(directConvPays([8, 16, 16, 7], [3, 3, 7, 16])).toBe(true);
    expect(directConvPays([64, 14, 14, 32], [5, 5, 32, 64])).toBe(true);
    expect(directConvPays([8, 16, 16, 2], [1, 1, 2, 16])).toBe(false);
  });

  it('rejects inconsistent shapes and out-of-heap offsets with KilnError', () => {
    const base = {
      x: e.alloc(4 * 9 * 9),
      xShape: [1, 9, 9, 1] as Shape4,
      filter: e.alloc(4 * 9),
      filterShape: [3, 3, 1, 1] as Shape4,
      out: e.alloc(4 * 81),
      outShape: [1, 9, 9, 1] as Shape4,
      strides: [1, 1] as [number, number],
      dilations: [1, 1] as [number, number],
      padTop: 1,
      padLeft: 1,
    };
    expect(() => directConv2d(e, { ...base, filterShape: [3, 3, 2, 1] })).toThrow(/input channels 1 != filter input channels 2/);
    expect(() => directConv2d(e, { ...base, strides: [0, 1] })).toThrow(KilnError);
    expect(() => directConv2d(e, { ...base, x: 0 })).toThrow(/directConv2d: x/);
  });

  it("validates runRows' arguments", () => {
    expect(() => e.runRows('nope' as 'pool2d', 1, [])).toThrow(/name must be one of directConv, pool2d/);
    expect(() => e.runRows('pool2d', -1, [])).toThrow(/rows must be an integer >= 0/);
    expect(() => e.runRows('pool2d', 1, [1.5])).toThrow(/int32 values/);
    expect(() => e.runRows('pool2d', 1, new Array(49).fill(0))).toThrow(/at most 48/);
    expect(() => e.runRows('pool2d', 0, [])).not.toThrow();
  });
});

describe('a compiled CNN with direct conv and WASM pooling == the reference executor', () => {
  it.each([true, false])('fuse=%s', (fuse) => {
    const g = new Graph();
    const x = g.placeholder('float32', [3, 12, 12, 1], 'x');
    const f1 = g.placeholder('float32', [5, 5, 1, 8], 'f1');
    const b1 = g.placeholder('float32', [8], 'b1');
    const f2 = g.placeholder('float32', [3, 3, 8, 6], 'f2');
    let h: SymbolicTensor = relu(add(conv2d(x, f1, 1, 'same'), b1));
    h = maxPool(h, 2, 2, 'valid');
    const y1 = h;
    h = relu(conv2d(h, f2, 1, 'same')); // k = 72: direct as well
    const y2 = avgPool(h, 3, 2, 'same');
    const feeds: Record<string, Tensor> = {
      x: randomTensor([3, 12, 12, 1], 1),
      f1: randomTensor([5, 5, 1, 8], 2),
      b1: randomTensor([8], 3),
      f2: randomTensor([3, 3, 8, 6], 4),
    };
    const want = evaluate([y1, y2], feeds);
    const program = compile(g, { fetches: [y1, y2], feeds: g.placeholders().map((p) => p.output) }, { fuse, constantEvaluator: referenceConstantEvaluator });
    // both convs run direct (no workspace), both pools the WASM loop
    const plans = program.kernels.flatMap((k) => (k.spec.kind === 'op' ? [[k.spec.op, planConv(k.spec, program.buffers)?.scratchBytes]] : []));
    expect(plans.map(([op, bytes]) => [op, bytes === undefined ? 'none' : bytes === 0 ? 'direct' : 'gemm'])).toEqual([
      ['conv2d', 'direct'],
      ['maxPool', 'direct'],
      ['conv2d', 'direct'],
      ['avgPool', 'direct'],
    ]);
    const cp = new CpuProgram(program, { poisonFreed: true });
    const got = cp.run({ feeds: new Map(Object.entries(feeds)), variables: new Map(), seed: 1 });
    want.forEach((w, i) => {
      const gv = got.values[i]!;
      expect(gv.shape).toEqual(w.shape);
      compare(gv.data as Float32Array, w, `fetch ${i}`);
    });
    cp.dispose();
  });
});
