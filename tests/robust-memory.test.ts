/**
 * Memory that comes back (issue 15 item 3): compiled models have dispose() (and
 * Symbol.dispose); a disposed program's region goes back to the CPU backend's pool, where a
 * later program of any smaller size reuses it (best fit, merged with free neighbours) instead
 * of growing memory; memory that cannot grow is RESOURCE_EXHAUSTED naming the program, the
 * bytes asked for and what is in use. Oracles: heapStats() bookkeeping, hand-computed outputs.
 */
import { describe, expect, it } from '@jest/globals';
import { Graph, KilnError, Tensor, add, compileModel, matMul, relu, sum, tensor } from 'kiln';
import { heapStats } from '@kiln/runtime-cpu';

/** relu(x @ w + b) for x [batch, 64] with w = 1/64 and b = 0.5: each output is mean(x row) + 0.5 (x >= 0). */
async function model(batch: number) {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 64], 'x');
  const w = g.variable(new Tensor('float32', [64, 4], new Float32Array(256).fill(1 / 64)), 'w');
  const b = g.variable(tensor([0.5, 0.5, 0.5, 0.5]), 'b');
  const y = relu(add(matMul(x, w), b));
  return compileModel(g, { fetches: [y], feeds: [x], feedShapes: { x: [batch, 64] } }, { backend: 'cpu' });
}

function feed(batch: number): Tensor {
  const x = new Float32Array(batch * 64);
  for (let r = 0; r < batch; r++) x.fill(r % 7, r * 64, (r + 1) * 64);
  return tensor(x, [batch, 64]);
}

describe('compiled models give their memory back', () => {
  it('dispose() returns the region to the pool; run() afterwards is a KilnError', async () => {
    const before = heapStats();
    const m = await model(1000);
    const held = heapStats();
    expect(held.inUseBytes - before.inUseBytes).toBeGreaterThanOrEqual(1000 * 64 * 4);
    expect(held.regions).toBe(before.regions + 1);
    const [y] = await m.run({ x: feed(1000) });
    expect(Array.from(y!.data.subarray(0, 12))).toEqual([0.5, 0.5, 0.5, 0.5, 1.5, 1.5, 1.5, 1.5, 2.5, 2.5, 2.5, 2.5]);
    m.dispose();
    expect(m.disposed).toBe(true);
    const after = heapStats();
    expect([after.inUseBytes, after.regions]).toEqual([before.inUseBytes, before.regions]);
    const err = await m.run({ x: feed(1000) }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).message).toMatch(/CompiledModel.run: the model was disposed/);
    m.dispose(); // twice is harmless
    expect(m.serialize().length).toBeGreaterThan(0); // the state lives on in JS
  });

  it('Symbol.dispose disposes (for `using`), after the runs already queued', async () => {
    const m = await model(10);
    const pending = m.run({ x: feed(10) });
    m[Symbol.dispose]();
    const [y] = await pending;
    expect(y!.toFlat().slice(0, 8)).toEqual([0.5, 0.5, 0.5, 0.5, 1.5, 1.5, 1.5, 1.5]);
    expect(m.disposed).toBe(true);
  });

  it('a freed large region is reused by smaller programs (best fit), so memory does not grow', async () => {
    const big = await model(20000);
    big.dispose();
    const grown = heapStats();
    expect(grown.largestFreeBytes).toBeGreaterThanOrEqual(20000 * 64 * 4);
    // Smaller programs of several sizes, held together, all fit in what was freed.
    const smaller = await Promise.all([6000, 3000, 2000, 500].map(model));
    for (const [i, m] of smaller.entries()) {
      const n = [6000, 3000, 2000, 500][i]!;
      const [y] = await m.run({ x: feed(n) });
      expect(y!.data[4 * (n - 1)]).toBe(((n - 1) % 7) + 0.5);
    }
    expect(heapStats().memoryBytes).toBe(grown.memoryBytes);
    for (const m of smaller) m.dispose();
    // Freed neighbours merge back into one region that holds the big program again.
    expect(heapStats().largestFreeBytes).toBeGreaterThanOrEqual(20000 * 64 * 4);
    const again = await model(20000);
    expect(heapStats().memoryBytes).toBe(grown.memoryBytes);
    again.dispose();
  });

  it('60 compile-run-dispose cycles keep memory flat', async () => {
    const start = heapStats();
    for (let i = 0; i < 60; i++) {
      const m = await model(100 + (i % 13) * 50);
      await m.run({ x: feed(100 + (i % 13) * 50) });
      m.dispose();
    }
    const end = heapStats();
    expect(end.inUseBytes).toBe(start.inUseBytes);
    expect(end.memoryBytes - start.memoryBytes).toBeLessThanOrEqual(1 << 20);
  });

  it('a program larger than the memory can grow is RESOURCE_EXHAUSTED naming it, the bytes and what is in use', async () => {
    const g = new Graph();
    const x = g.placeholder('float32', [40000, 40000], 'huge_x');
    const y = sum(relu(x));
    const err = await compileModel(g, { fetches: [y], feeds: [x] }, { backend: 'cpu' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KilnError);
    const e = err as KilnError;
    expect(e.code).toBe('RESOURCE_EXHAUSTED');
    expect(e.message).toMatch(
      /the compiled program fetching 'sum' \(\d+ kernels, arena \d+ B\) needs 64000\d+ bytes .* cannot grow .* in use by \d+ live programs, .* free.* Dispose compiled models/,
    );
    // Nothing was taken: the pool still serves ordinary programs.
    const m = await model(10);
    expect((await m.run({ x: feed(10) }))[0]!.data[0]).toBe(0.5);
    m.dispose();
  });
});
