/**
 * Routine decomposition (packages/compiler/src/decompose/): each composite op, compiled fused,
 * becomes elementwise / reduce / contraction / view kernels only (no op kernel), and every
 * compiled backend's result equals the reference executor's, on edge values (NaN, +-Infinity,
 * ties, out-of-range indices) and on every attribute combination that changes the lowering.
 * Cases a decomposition declines stay the routine of the same name. Programs are compiled for
 * each backend's device and for a device with no routines (where pooling decomposes too).
 */
import { describe, expect, it } from '@jest/globals';
import { ROUTINES, compile } from '@kiln/compiler';
import * as k from '@kiln/graph';
import { Graph, type SymbolicTensor, Tensor, tensor } from '@kiln/graph';
import { evaluate, makeRandom, referenceConstantEvaluator } from '@kiln/runtime-cpu';
import { COMPILED_BACKENDS, compileFor, runOn } from './helpers/backends.js';
import { expectClose } from './helpers/reference-compare.js';

type Case = (g: Graph, feed: (t: Tensor) => SymbolicTensor) => SymbolicTensor;

function randn(shape: number[], seed: number, scale = 2): Tensor {
  const r = makeRandom(seed);
  const t = new Tensor('float32', shape);
  for (let i = 0; i < t.size; i++) t.data[i] = (r() * 2 - 1) * scale;
  return t;
}

const NAN_ROWS = tensor([
  [NaN, 1, 5, 2],
  [1, NaN, 5, 5],
  [-Infinity, -Infinity, NaN, -Infinity],
  [NaN, NaN, NaN, NaN],
  [3, 3, -1, 3],
  [Infinity, 2, Infinity, -Infinity],
]);

/** Per op: cases that decompose fully (no op kernel when fused). */
const DECOMPOSED: Record<string, Case[]> = {
  softmax: [
    (g, f) => k.softmax(f(randn([3, 5], 1))),
    (g, f) => k.softmax(f(randn([2, 3, 4], 2, 30)), 1),
    (g, f) =>
      k.softmax(
        f(
          tensor([
            [-Infinity, -Infinity],
            [1e30, -1e30],
            [Infinity, 0],
          ]),
        ),
      ),
  ],
  logSoftmax: [
    (g, f) => k.logSoftmax(f(randn([3, 5], 3))),
    (g, f) => k.logSoftmax(f(randn([4, 3], 4, 50)), 0),
    (g, f) =>
      k.logSoftmax(
        f(
          tensor([
            [-Infinity, -Infinity],
            [1e30, -1e30],
          ]),
        ),
      ),
  ],
  layerNorm: [
    (g, f) => k.layerNorm(f(randn([2, 3, 4], 5)), f(randn([4], 6)), f(randn([4], 7))),
    (g, f) => k.layerNorm(f(randn([2, 3, 4], 8)), f(randn([3, 4], 9)), null, [1, 2], 1e-5),
    (g, f) => k.layerNorm(f(randn([3, 4], 10)), null, null, [0]),
  ],
  batchNorm: [(g, f) => k.batchNorm(f(randn([2, 3, 4], 11)), f(randn([4], 12)), f(tensor([0.5, 1, 2, 0.1])), f(randn([4], 13)), f(randn([4], 14)), 1e-3)],
  argMax: [
    (g, f) => k.argMax(f(randn([3, 4], 15)), 1),
    (g, f) => k.argMax(f(randn([3, 4, 2], 16)), 1),
    (g, f) => k.argMax(f(NAN_ROWS), 1),
    (g, f) => k.argMax(f(NAN_ROWS), 0),
  ],
  argMin: [(g, f) => k.argMin(f(randn([3, 4], 17)), 0), (g, f) => k.argMin(f(NAN_ROWS), 1), (g, f) => k.argMin(f(NAN_ROWS), 0)],
  cumsum: [
    (g, f) => k.cumsum(f(randn([3, 5], 18)), 1),
    (g, f) => k.cumsum(f(randn([3, 5], 19)), 0, true),
    (g, f) => k.cumsum(f(randn([2, 5, 2], 20)), 1, false, true),
    (g, f) => k.cumsum(f(tensor([[1, Infinity, 2, -Infinity, NaN, 3]])), 1, true, true),
    (g, f) => k.cumsum(f(tensor([1, Infinity, 2, 3])), 0),
  ],
  tile: [(g, f) => k.tile(f(randn([2, 3], 21)), [2, 3]), (g, f) => k.tile(f(new Tensor('int32', [2, 1, 2], Int32Array.of(1, -2, 3, 4))), [1, 3, 2])],
  oneHot: [
    (g, f) => k.oneHot(f(new Tensor('int32', [5], Int32Array.of(0, 2, -1, 3, 1))), 3),
    (g, f) => k.oneHot(f(new Tensor('int32', [2, 2], Int32Array.of(1, 0, 4, 2))), 4, 2.5, -1, 'float32'),
  ],
  matMul: [
    (g, f) => k.matMul(f(randn([2, 3, 4], 22)), f(randn([2, 4, 5], 23))),
    (g, f) => k.matMul(f(randn([2, 4, 3], 24)), f(randn([2, 4, 5], 25)), true, false),
    (g, f) => k.matMul(f(randn([2, 3, 4], 26)), f(randn([2, 5, 4], 27)), false, true),
    (g, f) => k.matMul(f(randn([2, 4, 3], 28)), f(randn([5, 4], 29)), true, true),
    (g, f) => k.matMul(f(randn([1, 3, 4], 30)), f(randn([2, 1, 4, 2], 31))),
  ],
  maxPool: [
    (g, f) => k.maxPool(f(randn([2, 4, 6, 3], 32)), 2, 2, 'valid'),
    (g, f) => k.maxPool(f(tensor([NaN, 1, -Infinity, 2, 3, 4, 5, 6], [1, 2, 4, 1])), [2, 2], [2, 2], 'same'),
  ],
  avgPool: [(g, f) => k.avgPool(f(randn([2, 6, 4, 2], 33)), [3, 2], [3, 2], 'valid')],
};

/** Cases each decomposition declines: they stay the routine of the same name. */
const DECLINED: Record<string, Case> = {
  maxPool: (g, f) => k.maxPool(f(randn([1, 5, 5, 2], 34)), 3, 1, 'same'),
  avgPool: (g, f) => k.avgPool(f(randn([1, 5, 4, 2], 35)), 2, 2, 'valid'),
  argMax: (g, f) => k.argMax(f(new Tensor('int32', [2, 3], Int32Array.of(1, 5, 5, -3, -7, -3))), 1),
  cumsum: (g, f) => k.cumsum(f(new Tensor('int32', [4], Int32Array.of(1, 2, 3, 4))), 0),
  matMul: (g, f) =>
    k.matMul(f(new Tensor('int32', [2, 2, 2], Int32Array.of(1, 2, 3, 4, 5, 6, 7, 8))), f(new Tensor('int32', [2, 2], Int32Array.of(1, 0, 2, 1)))),
};

function build(c: Case): { g: Graph; out: SymbolicTensor; feeds: Record<string, Tensor> } {
  const g = new Graph();
  const feeds: Record<string, Tensor> = {};
  let n = 0;
  const f = (t: Tensor) => {
    const p = g.placeholder(t.dtype, t.shape, `in${n++}`);
    feeds[p.name] = t;
    return p;
  };
  return { g, out: c(g, f), feeds };
}

/** Each backend runs the program compiled for it, and the one compiled for a device with no routines. */
async function expectAgrees(g: Graph, out: SymbolicTensor, feeds: Record<string, Tensor>, what: string): Promise<void> {
  const [want] = evaluate([out], feeds);
  for (const backend of COMPILED_BACKENDS) {
    for (const program of [compileFor(backend, g, { fetches: [out], feeds: g.placeholders().map((p) => p.output) }), bare(g, out)]) {
      const got = await runOn(backend, program, { feeds: new Map(Object.entries(feeds)), variables: new Map(), seed: 0 });
      expectClose(got.values[0], want!, `${what} on ${backend.name}\n${program.toString()}`);
    }
  }
}

/** Compiled fused for a device with no routines at all (what decomposition leaves must be listed). */
const bare = (g: Graph, out: SymbolicTensor) =>
  compile(g, { fetches: [out], feeds: g.placeholders().map((p) => p.output) }, { constantEvaluator: referenceConstantEvaluator, routines: new Set() });
const opKernels = (g: Graph, out: SymbolicTensor) =>
  bare(g, out)
    .kernels.filter((kk) => kk.spec.kind === 'op')
    .map((kk) => (kk.spec as { op: string }).op);

describe('routine decomposition', () => {
  it.each(Object.keys(DECOMPOSED))('%s: fused, only elementwise / reduce / contraction / view kernels, equal to the reference', async (op) => {
    for (const [i, c] of DECOMPOSED[op]!.entries()) {
      const { g, out, feeds } = build(c);
      expect({ op, i, routines: opKernels(g, out) }).toEqual({ op, i, routines: [] });
      await expectAgrees(g, out, feeds, `${op} case ${i}`);
    }
  });

  it.each(Object.keys(DECLINED))('%s: a declined case stays the listed routine, equal to the reference', async (op) => {
    const { g, out, feeds } = build(DECLINED[op]!);
    expect(opKernels(g, out)).toEqual([op]);
    expect(ROUTINES[op]).toBeDefined();
    await expectAgrees(g, out, feeds, `${op} (declined)`);
  });

  it('pooling decomposes only for a device without the pooling routine (the CPU keeps its faster kernel)', () => {
    const { g, out } = build((_g, f) => k.maxPool(f(randn([1, 4, 4, 1], 36)), 2, 2, 'valid'));
    const withRoutine = compileFor(COMPILED_BACKENDS[0]!, g, { fetches: [out], feeds: g.placeholders().map((p) => p.output) });
    expect(withRoutine.kernels.map((kk) => (kk.spec.kind === 'op' ? kk.spec.op : kk.spec.kind))).toEqual(['maxPool']);
    expect(bare(g, out).kernels.map((kk) => kk.spec.kind)).toEqual(['view', 'reduce']);
  });

  it('unfused programs keep one kernel per graph node: composite ops stay routines there', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [2, 3], 'x');
    const y = k.logSoftmax(x);
    const p = compile(g, { fetches: [y], feeds: [x] }, { fuse: false, constantEvaluator: referenceConstantEvaluator });
    expect(p.kernels.map((kk) => kk.nodes)).toEqual([['logSoftmax']]);
    expect(ROUTINES.logSoftmax!.category).toBe('unfused');
  });

  it('the result keeps the node name of the op it replaces', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [2, 3], 'x');
    const y = g.nameScope('head', () => k.softmax(x));
    const p = compile(g, { fetches: [y], feeds: [x] }, { constantEvaluator: referenceConstantEvaluator });
    expect(p.graph.nodeByName('head/softmax')?.op).toBe('div');
    expect(p.kernels.flatMap((kk) => kk.nodes).filter((n) => !n.startsWith('head/softmax'))).toEqual([]);
  });
});
