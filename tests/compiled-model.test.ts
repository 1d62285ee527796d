/**
 * compileModel / loadCompiled end to end on the CPU backend: an MLP forward and an Adam
 * training step compiled once, serialized, loaded and run. Loaded models give bit-identical
 * outputs to the original CompiledModel and agree with a Session (rtol 1e-5); training continued
 * after loading gives exactly the losses of training continued on the original (variables and
 * the random streams' run state travel in the file); loading does not recompile; damaged bytes
 * are CORRUPT_MODEL and feed mistakes are KilnErrors naming the feed, expected vs got.
 */
import { describe, expect, it } from '@jest/globals';
import {
  type CompiledModel,
  Graph,
  KilnError,
  type Program,
  Tensor,
  add,
  compileModel,
  dropout,
  loadCompiled,
  makeRandom,
  matMul,
  relu,
  session,
  softmax,
  softmaxCrossEntropy,
  tensor,
  train,
} from 'kiln';
import { call, deserializeProgram, input, serializeProgram } from '@kiln/compiler';
import { crc32 } from '@kiln/graph';

const BATCH = 16;

function randomTensor(rand: () => number, shape: number[], scale = 1): Tensor {
  const t = new Tensor('float32', shape);
  for (let i = 0; i < t.size; i++) t.data[i] = (rand() * 2 - 1) * scale;
  return t;
}

/** A 6-12-3 classifier with softmax cross-entropy, an Adam step, and fixed random data. */
function mlp(opts: { dropoutRate?: number } = {}) {
  const rand = makeRandom(5);
  const g = new Graph();
  const x = g.placeholder('float32', [null, 6], 'x');
  const y = g.placeholder('float32', [null, 3], 'y');
  const w1 = g.variable(randomTensor(rand, [6, 12], 0.6), 'w1');
  const b1 = g.variable(randomTensor(rand, [12], 0.1), 'b1');
  const w2 = g.variable(randomTensor(rand, [12, 3], 0.6), 'w2');
  const b2 = g.variable(new Tensor('float32', [3]), 'b2');
  let h = relu(add(matMul(x, w1), b1));
  if (opts.dropoutRate) h = dropout(h, opts.dropoutRate);
  const logits = add(matMul(h, w2), b2);
  const probs = softmax(logits);
  const loss = softmaxCrossEntropy(y, logits);
  const step = train.adam(0.05).minimize(loss);
  const xs = randomTensor(rand, [BATCH, 6]);
  const ys = new Tensor('float32', [BATCH, 3]);
  for (let i = 0; i < BATCH; i++) ys.data[3 * i + (xs.data[6 * i]! > 0 ? 0 : xs.data[6 * i + 1]! > 0 ? 1 : 2)] = 1;
  return { g, x, y, probs, loss, step, feeds: { x: xs, y: ys } };
}

const feedShapes = { x: [BATCH, 6], y: [BATCH, 3] };

function expectClose(got: Tensor, want: Tensor, rtol = 1e-5, atol = 1e-6): void {
  expect(got.shape).toEqual(want.shape);
  const bad: string[] = [];
  for (let i = 0; i < want.size; i++) {
    const [a, b] = [got.data[i]!, want.data[i]!];
    if (!(Math.abs(a - b) <= atol + rtol * Math.abs(b))) bad.push(`[${i}] ${a} vs ${b}`);
  }
  expect(bad.slice(0, 5)).toEqual([]);
}

async function trainSteps(m: CompiledModel, feeds: Record<string, Tensor>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const [l, target] = await m.run(feeds);
    expect(target).toBeNull(); // a target gives null in its position, as in Session.run
    out.push(l!.data[0]!);
  }
  return out;
}

async function kilnError(p: Promise<unknown> | (() => unknown)): Promise<KilnError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof KilnError) return e;
    throw new Error(`expected a KilnError, got ${String(e)}`);
  }
  throw new Error('expected a KilnError, got none');
}

describe('compileModel / loadCompiled', () => {
  it('MLP forward: the loaded model gives exactly the original outputs, and both agree with a Session', async () => {
    const { g, x, probs, feeds } = mlp();
    const m = await compileModel(g, { fetches: [probs], feeds: [x], feedShapes: { x: [BATCH, 6] } }, { backend: 'cpu' });
    expect(m.stats).toEqual(m.program.stats);
    expect(m.stats.kernels).toBeGreaterThan(0);
    const [want] = await (await session(g)).run([probs], { x: feeds.x });
    const [got] = await m.run({ x: feeds.x });
    expectClose(got!, want!);
    const loaded = await loadCompiled(m.serialize(), { backend: 'cpu' });
    const [again] = await loaded.run({ x: feeds.x });
    expect(again!.data).toEqual(got!.data);
    expect(loaded.program.toString()).toBe(m.program.toString());
    expect(loaded.program.kernels).toEqual(m.program.kernels);
    expect(loaded.program.buffers).toEqual(m.program.buffers);
  });

  it('training step (Adam): continued after loading gives the losses of training continued on the original', async () => {
    const { g, x, y, loss, step, feeds } = mlp();
    const m = await compileModel(g, { fetches: [loss, step], feeds: [x, y], feedShapes }, { backend: 'cpu', seed: 3 });
    const first = await trainSteps(m, feeds, 4);
    const bytes = m.serialize();
    const loaded = await loadCompiled(bytes, { backend: 'cpu' });
    expect([loaded.seed, loaded.runCounter]).toEqual([3, 4]);
    expect(loaded.variable('w1').data).toEqual(m.variable('w1').data);
    expect(loaded.variable('Adam/w1/m').data).toEqual(m.variable('Adam/w1/m').data);
    const afterLoad = await trainSteps(loaded, feeds, 5);
    const onOriginal = await trainSteps(m, feeds, 5);
    expect(afterLoad).toEqual(onOriginal);
    expect(loaded.variable('w2').data).toEqual(m.variable('w2').data);
    expect(afterLoad[4]!).toBeLessThan(first[0]!); // it does train

    // A Session on the same graph takes the same 9 steps (rtol 1e-5).
    const s = await session(g);
    const want: number[] = [];
    for (let i = 0; i < 9; i++) want.push((await s.run([loss, step], feeds))[0]!.data[0]!);
    [...first, ...onOriginal].forEach((l, i) => expect(Math.abs(l - want[i]!)).toBeLessThanOrEqual(1e-5 * Math.abs(want[i]!) + 1e-7));
    expectClose(m.variable('w1'), s.getVariable('w1'));

    // The file saved earlier still holds the state after 4 steps.
    const reloaded = await loadCompiled(bytes, { backend: 'cpu' });
    expect(await trainSteps(reloaded, feeds, 5)).toEqual(afterLoad);
  });

  it('random streams (dropout) continue identically after loading: seed and run counter are saved', async () => {
    const { g, x, y, loss, step, feeds } = mlp({ dropoutRate: 0.3 });
    const m = await compileModel(g, { fetches: [loss, step], feeds: [x, y], feedShapes }, { backend: 'cpu', seed: 11 });
    expect(m.program.kernels.some((k) => k.spec.kind === 'op' && k.spec.op === 'dropout')).toBe(true);
    await trainSteps(m, feeds, 2);
    const loaded = await loadCompiled(m.serialize(), { backend: 'cpu' });
    expect(await trainSteps(loaded, feeds, 3)).toEqual(await trainSteps(m, feeds, 3));
  });

  it('loadCompiled runs the saved kernels as they are, without recompiling', async () => {
    const g = new Graph();
    const x = g.placeholder('float32', [4], 'x');
    const out = add(x, g.constant(tensor([10, 20, 30, 40])));
    const m = await compileModel(g, { fetches: [out], feeds: [x] }, { backend: 'cpu' });
    const ew = m.program.kernels.find((k) => k.spec.kind === 'elementwise')!;
    if (ew.spec.kind !== 'elementwise') throw new Error('no elementwise kernel');
    // Hand-edit the saved program: out = x * c instead of x + c. Recompiling the graph would undo it.
    const edited: Program = {
      ...m.program,
      kernels: m.program.kernels.map((k) =>
        k === ew ? { ...k, spec: { ...ew.spec, exprs: [call('mul', 'float32', input(0, 'float32'), input(1, 'float32'))] }, reasons: ['hand-edited'] } : k,
      ),
    } as Program;
    const loaded = await loadCompiled(serializeProgram(edited), { backend: 'cpu' });
    expect((await m.run({ x: tensor([1, 2, 3, 4]) }))[0]!.toArray()).toEqual([11, 22, 33, 44]);
    expect((await loaded.run({ x: tensor([1, 2, 3, 4]) }))[0]!.toArray()).toEqual([10, 40, 90, 160]);
    expect(loaded.program.kernels.some((k) => k.reasons.includes('hand-edited'))).toBe(true);
  });

  it('damaged bytes are CORRUPT_MODEL; a newer format is UNSUPPORTED_VERSION', async () => {
    const { g, x, probs } = mlp();
    const m = await compileModel(g, { fetches: [probs], feeds: [x], feedShapes: { x: [2, 6] } }, { backend: 'cpu' });
    const bytes = m.serialize();
    expect(deserializeProgram(bytes).program.toString()).toBe(m.program.toString());
    const flipped = bytes.slice();
    flipped[bytes.length >> 1] = flipped[bytes.length >> 1]! ^ 0x20;
    for (const bad of [flipped, bytes.subarray(0, bytes.length - 1), bytes.subarray(0, 10), new Uint8Array(0)]) {
      const e = await kilnError(loadCompiled(bad, { backend: 'cpu' }));
      expect(e.code).toBe('CORRUPT_MODEL');
      expect(e.message).toMatch(/^loadCompiled: corrupt compiled program: /);
    }
    // format version 2, re-sealed with a valid checksum
    const body = bytes.slice(0, bytes.length - 5);
    body[1] = 2;
    const crc = crc32(body);
    const newer = new Uint8Array([...body, 0x7d, crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24]);
    const e = await kilnError(loadCompiled(newer, { backend: 'cpu' }));
    expect([e.code, e.message]).toEqual(['UNSUPPORTED_VERSION', expect.stringMatching(/format version 2 but this Kiln reads format versions up to 1/)]);
  });

  it('feed mistakes: MISSING_FEED, DTYPE_MISMATCH, SHAPE_MISMATCH name the feed, expected vs got', async () => {
    const { g, x, y, loss, step, feeds } = mlp();
    const m = await compileModel(g, { fetches: [loss, step], feeds: [x, y], feedShapes }, { backend: 'cpu' });
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ x: feeds.x }, 'MISSING_FEED', /feed 'y' \(float32\[16,3\]\) is missing; the compiled model needs 'x', 'y'/],
      [{ x: feeds.x, y: new Tensor('int32', [BATCH, 3]) }, 'DTYPE_MISMATCH', /feed 'y' expects float32\[16,3\], got int32\[16,3\]/],
      [
        { x: new Tensor('float32', [8, 6]), y: feeds.y },
        'SHAPE_MISMATCH',
        /feed 'x' expects float32\[16,6\] \(the shape it was compiled for\), got float32\[8,6\]/,
      ],
      [{ x: [1, 2, 3], y: feeds.y }, 'INVALID_FEED', /feed 'x' must be a Tensor \(float32\[16,6\]\)/],
    ];
    for (const [f, code, msg] of cases) {
      const e = await kilnError(m.run(f as Record<string, Tensor>));
      expect([e.code, e.message]).toEqual([code, expect.stringMatching(msg)]);
    }
    // nothing ran: the state and run counter are unchanged, and a good run still works
    expect(m.runCounter).toBe(0);
    expect((await m.run({ 'x:0': feeds.x, y: feeds.y, unused: feeds.y }))[0]!.shape).toEqual([]);
  });

  it('compile-time mistakes: unknown dims without feedShapes, mismatching feedShapes, webgpu', async () => {
    const { g, x, loss, probs } = mlp();
    const cases: [() => Promise<unknown>, string, RegExp][] = [
      [
        () => compileModel(g, { fetches: [probs], feeds: [x] }, { backend: 'cpu' }),
        'INVALID_ARGUMENT',
        /feed 'x' has unknown dims \[\?,6\]; pass its concrete shape in spec\.feedShapes/,
      ],
      [
        () => compileModel(g, { fetches: [probs], feeds: [x], feedShapes: { x: [4, 5] } }, { backend: 'cpu' }),
        'SHAPE_MISMATCH',
        /feedShapes\['x'\] is \[4,5\] but placeholder 'x' is \[\?,6\] \(dim 1 must be 6, got 5\)/,
      ],
      [
        () => compileModel(g, { fetches: [probs], feeds: [x], feedShapes: { z: [1] } }, { backend: 'cpu' }),
        'INVALID_ARGUMENT',
        /feedShapes has 'z', which is not among the feeds/,
      ],
      [() => compileModel(g, { fetches: [loss], feeds: [x], feedShapes }, { backend: 'cpu' }), 'INVALID_ARGUMENT', /feedShapes has 'y'/],
      [() => compileModel(g, { fetches: [loss], feeds: [x], feedShapes: { x: [2, 6] } }, { backend: 'cpu' }), 'MISSING_FEED', /placeholder 'y'/],
      [() => compileModel(g, { fetches: [probs], feeds: [x], feedShapes }, { backend: 'webgpu' }), 'UNSUPPORTED', /backend 'webgpu' is not available/],
      [() => loadCompiled(new Uint8Array(0), { backend: 'webgpu' }), 'UNSUPPORTED', /backend 'webgpu'/],
      [() => compileModel(g, { fetches: [probs], feeds: [x], feedShapes }, { backend: 'tpu' as 'cpu' }), 'INVALID_ARGUMENT', /unknown backend 'tpu'/],
    ];
    for (const [f, code, msg] of cases) {
      const e = await kilnError(f());
      expect([e.code, e.message]).toEqual([code, expect.stringMatching(msg)]);
    }
  });
});
