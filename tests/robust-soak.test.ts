/**
 * Soak (issue 15 item 7): many training steps on one session, many sessions and compiled
 * models created and disposed, and compiled models dropped without dispose (the garbage
 * collector left alone): RSS, JS heap and the CPU backend's pool stay bounded. Each phase warms
 * up first, then measures growth over the rest and reports it per 1,000 runs. Bounded here
 * (1,000 steps, 100 sessions, 50 + 50 models); KILN_SOAK_SCALE=10 (`npm run soak`, also in
 * `npm run fuzz`) runs the issue's full counts (10,000 / 1,000 / 500 + 500).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { Graph, Tensor, add, compileModel, matMul, relu, session, softmaxCrossEntropy, train } from 'kiln';
import { heapStats } from '@kiln/runtime-cpu';

const SCALE = Number(process.env.KILN_SOAK_SCALE ?? 1);
const MiB = 2 ** 20;
const report: string[] = [];
afterAll(() => console.log(`robust soak (scale ${SCALE}):\n${report.map((r) => `  ${r}`).join('\n')}`));

function rand(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

function mlp() {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 16], 'x');
  const y = g.placeholder('float32', [null, 4], 'y');
  const w1 = g.variable(new Tensor('float32', [16, 32], rand(512, 1)), 'w1');
  const w2 = g.variable(new Tensor('float32', [32, 4], rand(128, 2)), 'w2');
  const logits = matMul(relu(matMul(x, w1)), w2);
  const loss = softmaxCrossEntropy(y, logits);
  const step = train.adam(0.01).minimize(loss);
  const xs = new Tensor('float32', [8, 16], rand(128, 3));
  const ys = new Tensor(
    'float32',
    [8, 4],
    Float32Array.from({ length: 32 }, (_, i) => (i % 4 === (i >> 2) % 4 ? 1 : 0)),
  );
  return { g, x, y, logits, loss, step, xs, ys, w1 };
}

interface Sample {
  rss: number;
  heap: number;
  pool: number;
  inUse: number;
}

function sample(): Sample {
  const m = process.memoryUsage();
  const h = heapStats();
  return { rss: m.rss, heap: m.heapUsed, pool: h.memoryBytes, inUse: h.inUseBytes };
}

/** Runs `n` iterations of `body`: the first tenth warms up, growth is measured over the rest. */
async function soak(name: string, n: number, body: (i: number) => Promise<void>): Promise<{ perK: Sample; total: Sample }> {
  const warm = Math.ceil(n / 10);
  for (let i = 0; i < warm; i++) await body(i);
  const a = sample();
  for (let i = warm; i < n; i++) await body(i);
  const b = sample();
  const total = { rss: b.rss - a.rss, heap: b.heap - a.heap, pool: b.pool - a.pool, inUse: b.inUse - a.inUse };
  const k = 1000 / (n - warm);
  const perK = { rss: total.rss * k, heap: total.heap * k, pool: total.pool * k, inUse: total.inUse * k };
  const f = (v: number) => `${(v / MiB).toFixed(2)} MiB`;
  report.push(
    `${name}: ${n} runs; growth per 1,000 runs: RSS ${f(perK.rss)}, JS heap ${f(perK.heap)}, pool memory ${f(perK.pool)}, pool in use ${f(perK.inUse)}`,
  );
  return { perK, total };
}

describe('soak', () => {
  it(`${1000 * SCALE} training steps on one session: memory flat, the loss goes down`, async () => {
    const t = mlp();
    const s = await session(t.g, { backend: 'cpu' });
    const feeds = { x: t.xs, y: t.ys };
    const [first] = await s.run([t.loss], feeds);
    const { total } = await soak('training steps', 1000 * SCALE, async () => {
      await s.run([t.step], feeds);
    });
    const [last] = await s.run([t.loss], feeds);
    expect(last!.data[0]!).toBeLessThan(first!.data[0]! * 0.5);
    expect(total.inUse).toBe(0);
    expect(total.pool).toBe(0);
    expect(total.rss).toBeLessThan(64 * MiB);
    s.dispose();
  });

  it(`${100 * SCALE} sessions created, run and disposed: the pool comes back`, async () => {
    const t = mlp();
    const { total } = await soak('sessions', 100 * SCALE, async (i) => {
      const s = await session(t.g, { backend: 'cpu' });
      await s.run([t.logits], { x: t.xs });
      if (i % 2 === 0) await s.run([t.step], { x: t.xs, y: t.ys });
      s.dispose();
    });
    expect(total.inUse).toBe(0);
    expect(total.pool).toBeLessThanOrEqual(MiB);
    expect(total.rss).toBeLessThan(96 * MiB);
  });

  it(`${50 * SCALE} compiled models disposed and ${50 * SCALE} dropped without dispose`, async () => {
    const t = mlp();
    const spec = { fetches: [t.loss, t.step], feeds: [t.x, t.y], feedShapes: { x: [8, 16], y: [8, 4] } };
    const disposed = await soak('compiled models, disposed', 50 * SCALE, async () => {
      const m = await compileModel(t.g, spec, { backend: 'cpu', seed: 1 });
      await m.run({ x: t.xs, y: t.ys });
      m.dispose();
    });
    expect(disposed.total.inUse).toBe(0);
    expect(disposed.total.pool).toBeLessThanOrEqual(MiB);
    // Dropped: the collector returns their regions when it runs; memory must stay bounded
    // whether or not it has run yet (each region is small; nothing else is retained).
    const dropped = await soak('compiled models, dropped', 50 * SCALE, async () => {
      const m = await compileModel(t.g, spec, { backend: 'cpu', seed: 1 });
      await m.run({ x: t.xs, y: t.ys });
    });
    const region = (8 * 16 + 8 * 4) * 4 + (512 + 128) * 4 * 2 * 3 + 64 * 1024;
    expect(dropped.total.inUse).toBeLessThanOrEqual(50 * SCALE * region);
    expect(dropped.total.rss).toBeLessThan(160 * MiB);
  });
});
