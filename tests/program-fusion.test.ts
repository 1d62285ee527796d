/**
 * What the compiler makes of whole workloads: the MLP training step of the benchmarks (kernel
 * count, one kernel per Adam update, matmul epilogues, no copy kernels, memory plan quality),
 * fused training against the reference executor (losses within 1e-4), softmax cross-entropy
 * as reductions with fused prologues, and variables shared by several compiled signatures.
 */
import { describe, expect, it } from '@jest/globals';
import {
  Graph,
  type SymbolicTensor,
  Tensor,
  add,
  cast,
  clipByValue,
  compile,
  concat,
  div,
  equal,
  exp,
  less,
  log,
  pow,
  conv2d,
  maxPool,
  logSoftmax,
  makeRandom,
  matMul,
  mean,
  mul,
  neg,
  relu,
  session,
  pad,
  slice,
  softmaxCrossEntropy,
  sum,
  transpose,
  tensor,
  train,
} from 'kiln';
import { referenceConstantEvaluator } from '@kiln/runtime-cpu';

function randomTensor(rand: () => number, shape: number[], scale = 1): Tensor {
  const t = new Tensor('float32', shape);
  for (let i = 0; i < t.size; i++) t.data[i] = (rand() * 2 - 1) * scale;
  return t;
}

function mlp(sizes: number[], batch: number | null) {
  const rand = makeRandom(7);
  const g = new Graph();
  const x = g.placeholder('float32', [batch, sizes[0]!], 'x');
  const y = g.placeholder('float32', [batch, sizes[sizes.length - 1]!], 'y');
  let h: SymbolicTensor = x;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const w = g.variable(randomTensor(rand, [sizes[l]!, sizes[l + 1]!], Math.sqrt(6 / sizes[l]!)), `w${l}`);
    const b = g.variable(randomTensor(rand, [sizes[l + 1]!], 0.1), `b${l}`);
    h = add(matMul(h, w), b);
    if (l + 2 < sizes.length) h = relu(h);
  }
  const loss = softmaxCrossEntropy(y, h);
  const step = train.adam(0.01).minimize(loss);
  return { g, x, y, logits: h, loss, step, rand };
}

function labels(n: number, classes: number): Tensor {
  return tensor(
    Array.from({ length: n * classes }, (_, i) => (i % classes === Math.floor(i / classes) % classes ? 1 : 0)),
    [n, classes],
  );
}

describe('the MLP training step (784-512-256-10, batch 128, Adam)', () => {
  const { g, x, y, loss, step } = mlp([784, 512, 256, 10], 128);
  const program = compile(g, { fetches: [step, loss], feeds: [x, y] }, { constantEvaluator: referenceConstantEvaluator });
  const unfused = compile(g, { fetches: [step, loss], feeds: [x, y] }, { fuse: false, constantEvaluator: referenceConstantEvaluator });
  const text = program.toString();

  it('compiles to at most 24 kernels, far fewer than unfused', () => {
    expect(program.stats.kernels).toBeLessThanOrEqual(24);
    expect(unfused.stats.kernels).toBeGreaterThan(100);
  });

  it('updates each variable (and its two Adam moments) in one kernel', () => {
    for (const v of ['w0', 'b0', 'w1', 'b1', 'w2', 'b2']) {
      const writers = program.kernels.filter(
        (k) => k.spec.kind === 'elementwise' && k.spec.outputs.some((o) => program.buffers[o]!.kind === 'variable' && program.buffers[o]!.source === v),
      );
      expect(writers).toHaveLength(1);
      const spec = writers[0]!.spec as { outputs: number[] };
      expect(spec.outputs.map((o) => program.buffers[o]!.kind)).toEqual(['variable', 'variable', 'variable']);
    }
  });

  it('runs bias + relu as matmul epilogues and relu masks in the backward matmuls', () => {
    const contractions = program.kernels.filter((k) => k.spec.kind === 'contraction');
    expect(contractions).toHaveLength(8);
    const withEpilogue = contractions.filter((k) => k.reasons.some((r) => r.startsWith('epilogue of matMul')));
    expect(withEpilogue.length).toBeGreaterThanOrEqual(5);
    expect(text).toMatch(/contraction %b\d+ = select\(le\(add\(%0, %1\), 0\), 0, add\(%0, %1\)\) where %0 = matMul/);
  });

  it('has no copy kernels', () => {
    const ops = program.kernels.filter((k) => k.spec.kind === 'op').map((k) => (k.spec as { op: string }).op);
    expect(ops.filter((o) => ['identity', 'broadcastTo', 'broadcastLike', 'transpose', 'reshape', 'slice', 'tile'].includes(o))).toEqual([]);
  });

  it('plans memory within 1.1x the live lower bound and at most 0.8x the naive total', () => {
    const s = program.stats;
    expect(s.arenaBytes).toBeLessThanOrEqual(1.1 * s.liveLowerBoundBytes);
    expect(s.arenaBytes).toBeLessThanOrEqual(0.8 * s.naiveBytes);
    expect(s.arenaBytes).toBeLessThanOrEqual(8 * 2 ** 20);
  });
});

describe('fused training equals the reference', () => {
  it('gives the reference losses within 1e-4 over 6 Adam steps', async () => {
    const { g, loss, step, rand } = mlp([12, 16, 8, 4], null);
    const feeds = { x: randomTensor(rand, [10, 12]), y: labels(10, 4) };
    const run = async (backend: 'cpu' | 'reference') => {
      const s = await session(g, { backend, poisonFreed: backend === 'cpu' });
      const out: number[] = [];
      for (let i = 0; i < 6; i++) out.push((await s.run([loss, step], feeds))[0]!.data[0]!);
      return { losses: out, w0: s.getVariable('w0') };
    };
    const want = await run('reference');
    const got = await run('cpu');
    got.losses.forEach((l, i) => expect(Math.abs(l - want.losses[i]!)).toBeLessThanOrEqual(1e-4));
    expect(want.losses[5]!).toBeLessThan(want.losses[0]!);
    got.w0.data.forEach((v, i) => expect(Math.abs(v - want.w0.data[i]!)).toBeLessThanOrEqual(1e-4));
  });

  it('keeps variables right across signatures (train step, then evaluation, then training again)', async () => {
    const { g, logits, loss, step, rand } = mlp([6, 5, 3], null);
    const feeds = { x: randomTensor(rand, [4, 6]), y: labels(4, 3) };
    const results: number[][] = [];
    for (const backend of ['reference', 'cpu'] as const) {
      const s = await session(g, { backend });
      const trace: number[] = [];
      for (let i = 0; i < 3; i++) {
        await s.run([step], feeds);
        trace.push(...(await s.run([logits], { x: feeds.x }))[0]!.data);
        trace.push((await s.run([loss], feeds))[0]!.data[0]!);
      }
      results.push(trace);
    }
    results[1]!.forEach((v, i) => expect(Math.abs(v - results[0]![i]!)).toBeLessThanOrEqual(1e-5));
  });

  it('a failed run leaves the variables as they were, and the next run still trains', async () => {
    const { g, loss, step, rand } = mlp([6, 5, 3], null);
    const s = await session(g);
    const feeds = { x: randomTensor(rand, [4, 6]), y: labels(4, 3) };
    await s.run([step], feeds);
    const before = s.getVariable('w0');
    await expect(s.run([step], { x: feeds.x })).rejects.toThrow();
    expect(Array.from(s.getVariable('w0').data)).toEqual(Array.from(before.data));
    await s.run([step], feeds);
    expect(Array.from(s.getVariable('w0').data)).not.toEqual(Array.from(before.data));
  });
});

describe('reductions with fused prologues and epilogues', () => {
  it('runs cross-entropy as logSoftmax (a max and a sum reduction) plus one reduction (the per-example sum and the batch mean combine)', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [4, 10], 'x');
    const y = g.placeholder('float32', [4, 10], 'y');
    const l = mean(neg(sum(mul(y, logSoftmax(x)), 1)));
    const p = compile(g, { fetches: [l], feeds: [x, y] }, { constantEvaluator: referenceConstantEvaluator });
    expect(p.stats.kernels).toBe(3);
    expect(p.kernels.filter((k) => k.spec.kind === 'reduce')).toHaveLength(3);
    const text = p.toString();
    expect(text).toMatch(/reduce %b\d+ = %0 where %0 = max\[axes 1\]/);
    expect(text).toMatch(/reduce %b\d+ = log\(%0\) where %0 = sum\[axes 1\]\(exp\(sub\(%0, %1\)\)/);
    expect(text).toMatch(/reduce %b\d+ = neg\(div\(%0, 4\)\) where %0 = sum\[axes 0,1\]\(mul\(%0, /);
  });

  it('reduces over leading, middle and trailing axes like the reference', async () => {
    const rand = makeRandom(3);
    const g = new Graph();
    const x = g.placeholder('float32', [3, 4, 5], 'x');
    const outs = [sum(mul(x, x), 0), mean(add(x, 1), [0, 2]), sum(relu(x), [1, 2], true), neg(sum(x, 1))];
    const feeds = { x: randomTensor(rand, [3, 4, 5]) };
    const want = await (await session(g, { backend: 'reference' })).run(outs, feeds);
    const got = await (await session(g, { poisonFreed: true })).run(outs, feeds);
    got.forEach((t, i) => {
      expect(t!.shape).toEqual(want[i]!.shape);
      t!.data.forEach((v, j) => expect(Math.abs(v - want[i]!.data[j]!)).toBeLessThanOrEqual(1e-5));
    });
  });
});

describe('in-place reuse', () => {
  it('gives an elementwise output the storage of an input that dies there', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [64, 64], 'x');
    const w = g.placeholder('float32', [64, 64], 'w');
    const h = matMul(x, w);
    const z = matMul(h, w);
    const out = add(mul(z, z), h);
    const p = compile(g, { fetches: [out], feeds: [x, w] });
    const ew = p.kernels.find((k) => k.spec.kind === 'elementwise')!.spec as { inputs: number[]; outputs: number[] };
    const outBuf = p.buffers[ew.outputs[0]!]!;
    expect(ew.inputs.some((i) => p.buffers[i]!.kind === 'temp' && p.buffers[i]!.offset === outBuf.offset)).toBe(true);
  });
});

describe('op epilogues', () => {
  it('runs conv2d + bias + relu as one kernel, equal to the reference', async () => {
    const rand = makeRandom(11);
    const g = new Graph();
    const x = g.placeholder('float32', [2, 9, 9, 3], 'x');
    const f = g.variable(randomTensor(rand, [3, 3, 3, 8], 0.5), 'f');
    const b = g.variable(randomTensor(rand, [8], 0.5), 'b');
    const y = maxPool(relu(add(conv2d(x, f, 1, 'same'), b)), 2, 2, 'valid');
    const p = compile(g, { fetches: [y], feeds: [x] }, { constantEvaluator: referenceConstantEvaluator });
    expect(p.stats.kernels).toBe(2);
    expect(p.toString()).toMatch(/conv %b\d+ = select\(le\(add\(%0, %1\), 0\), 0, add\(%0, %1\)\) where %0 = conv2d/);
    const feeds = { x: randomTensor(rand, [2, 9, 9, 3]) };
    const want = (await (await session(g, { backend: 'reference' })).run([y], feeds))[0]!;
    const got = (await (await session(g, { poisonFreed: true })).run([y], feeds))[0]!;
    got.data.forEach((v, i) => expect(Math.abs(v - want.data[i]!)).toBeLessThanOrEqual(1e-4 + 1e-3 * Math.abs(want.data[i]!)));
  });
});

describe('views fold into consumers', () => {
  it('reads transposes and slices through strides: no copy kernels', async () => {
    const rand = makeRandom(5);
    const g = new Graph();
    const x = g.placeholder('float32', [4, 6, 5], 'x');
    const y = g.placeholder('float32', [5, 3, 4], 'y');
    const a = add(transpose(x, [2, 0, 1]), 1); // [5,4,6]
    const c = mul(transpose(slice(x, [0, 1, 0], [4, 3, 5]), [2, 1, 0]), y); // [5,3,4]
    const p = compile(g, { fetches: [a, c], feeds: [x, y] });
    expect(p.kernels.filter((k) => k.spec.kind === 'op')).toEqual([]);
    expect(p.stats.kernels).toBe(2);
    expect(p.toString()).toMatch(/over \(%b\d+\{\[5,4,6\] at 0 strides \[1,30,5\]\}\)/);
    const feeds = { x: randomTensor(rand, [4, 6, 5]), y: randomTensor(rand, [5, 3, 4]) };
    const want = await (await session(g, { backend: 'reference' })).run([a, c], feeds);
    const got = await (await session(g, { poisonFreed: true })).run([a, c], feeds);
    got.forEach((t, i) => expect(Array.from(t!.data)).toEqual(Array.from(want[i]!.data)));
  });

  it('reads pads and concats as guarded views (constants outside the valid range; each concat input in its slot), composed with transposes and slices', async () => {
    const rand = makeRandom(6);
    const g = new Graph();
    const x = g.placeholder('float32', [3, 4], 'x');
    const y = g.placeholder('float32', [6, 5], 'y');
    const feeds0 = { x: randomTensor(makeRandom(12), [3, 4]), y: randomTensor(makeRandom(13), [6, 5]) };
    const a = add(
      pad(
        x,
        [
          [1, 2],
          [0, 1],
        ],
        0.5,
      ),
      y,
    ); // [6,5]
    const b = mul(
      slice(
        pad(
          transpose(x),
          [
            [2, 0],
            [1, 1],
          ],
          -1,
        ),
        [1, 1],
        [4, 4],
      ),
      2,
    ); // [4,4]
    const p = compile(g, { fetches: [a, b], feeds: [x, y] });
    expect(p.kernels.filter((k) => k.spec.kind === 'op')).toEqual([]);
    expect(p.toString()).toContain('valid 1:4,0:4 else 0.5');
    const c = mul(concat([x, neg(x), slice(y, [0, 0], [3, 2])], 1), 3); // [3,10]
    const d = add(
      pad(
        concat([transpose(x), transpose(x)], 0),
        [
          [1, 0],
          [0, 2],
        ],
        7,
      ),
      1,
    ); // [9,5]
    const p2 = compile(g, { fetches: [c, d], feeds: [x, y] });
    expect(p2.kernels.filter((k) => k.spec.kind === 'op')).toEqual([]);
    const want2 = await (await session(g, { backend: 'reference' })).run([c, d], { x: feeds0.x, y: feeds0.y });
    const got2 = await (await session(g, { poisonFreed: true })).run([c, d], { x: feeds0.x, y: feeds0.y });
    got2.forEach((t, i) => expect(Array.from(t!.data)).toEqual(Array.from(want2[i]!.data)));
    const feeds = { x: randomTensor(rand, [3, 4]), y: randomTensor(rand, [6, 5]) };
    const want = await (await session(g, { backend: 'reference' })).run([a, b], feeds);
    const got = await (await session(g, { poisonFreed: true })).run([a, b], feeds);
    got.forEach((t, i) => expect(Array.from(t!.data)).toEqual(Array.from(want[i]!.data)));
  });
});

describe('threads', () => {
  it('gives bitwise-identical results on 1 and 2 threads, and rejects a bad count', async () => {
    const rand = makeRandom(9);
    const g = new Graph();
    const a = g.placeholder('float32', [96, 300], 'a');
    const w = g.variable(randomTensor(rand, [300, 200]), 'w');
    const y = relu(matMul(a, w));
    const feeds = { a: randomTensor(rand, [96, 300]) };
    const one = (await (await session(g, { threads: 1 })).run([y], feeds))[0]!;
    const two = (await (await session(g, { threads: 2 })).run([y], feeds))[0]!;
    expect(Buffer.from(two.data.buffer).equals(Buffer.from(one.data.buffer))).toBe(true);
    await expect(session(g, { threads: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('float32 and int32 semantics in fused kernels (review findings)', () => {
  const same = (got: Tensor, want: Tensor) =>
    expect(Array.from(got.data).map((v) => (Object.is(v, -0) ? '-0' : v))).toEqual(Array.from(want.data).map((v) => (Object.is(v, -0) ? '-0' : v)));

  it('matches the reference exactly at relu(-Infinity), int32 overflow, float32 attr constants, float32 overflow and -0 variables', async () => {
    const g = new Graph();
    const x = g.placeholder('float32', [4], 'x');
    const i = g.placeholder('int32', [3], 'i');
    const v = g.variable(tensor([-0, -0, -0, -0]), 'v');
    const outs = [
      relu(log(x)), // log(0) = -Infinity
      less(pow(i, 31), 0), // 2^31 wraps to -2^31 in int32
      equal(clipByValue(x, 0, 0.1), x), // 0.1 is float32's 0.1
      mul(exp(mul(x, 90)), 1e-30), // exp(90) overflows float32
      div(1, add(v, x)), // -0 + 0 = +0, but -0 + -0 ...
      div(1, mul(v, 1)),
      cast(sub3(x), 'bool'),
    ];
    const feeds = { x: tensor([0, 1, Math.fround(0.1), 2]), i: tensor([2, 3, -2], [3], 'int32') };
    const want = await (await session(g, { backend: 'reference' })).run(outs, feeds);
    const got = await (await session(g, { poisonFreed: true })).run(outs, feeds);
    got.forEach((t, k) => same(t!, want[k]!));
  });

  function sub3(x: SymbolicTensor): SymbolicTensor {
    // x1 - (x0 + (x1 - x0)) style cancellation: 1e8 + 1 - 1e8 is 0 in float32
    return add(mul(add(x, 1e8), 1), -1e8);
  }
});
