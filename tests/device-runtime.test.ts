/**
 * The compiler's shared orchestration of compiled backends (packages/compiler/src/runtime/):
 * the bounded per-feed-shape program cache and what eviction does to variable state, the
 * compile-time routine check, and a device whose downloads are asynchronous. The CPU device
 * runs the kernels; the reference backend is the oracle.
 */
import { describe, expect, it } from '@jest/globals';
import { type Device, type DeviceProgram, type DeviceExecutable, ProgramCache, ProgramRunner, Session, deviceBackend, makePlan } from '@kiln/compiler';
import { Graph, Tensor, assignSub, gather, matMul, mul, sum, relu, tensor } from '@kiln/graph';
import { CpuProgram, cpuDevice, referenceBackend } from '@kiln/runtime-cpu';
import { expectClose } from './helpers/reference-compare.js';

/** A CPU device that counts the programs it loads and disposes. */
function countingDevice(): Device & { loads: number; disposes: number } {
  const base = cpuDevice();
  const counts = { loads: 0, disposes: 0 };
  const device = {
    ...base,
    get loads() {
      return counts.loads;
    },
    get disposes() {
      return counts.disposes;
    },
    load(program: Parameters<Device['load']>[0]): DeviceProgram {
      const d = base.load(program);
      counts.loads++;
      return {
        program,
        upload: (id, data) => d.upload(id, data),
        runKernel: (i, run) => d.runKernel(i, run),
        download: (id) => d.download(id),
        commit: (ids) => d.commit(ids),
        variableValue: (id) => d.variableValue(id),
        dispose: () => {
          counts.disposes++;
          d.dispose();
        },
      };
    },
  };
  return device;
}

/** A training step on a batch of unknown size: w -= 0.1 * x^T relu(x w). */
function trainGraph() {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 3], 'x');
  const w = g.variable(
    tensor([
      [0.5, -1],
      [1, 0.25],
      [-0.5, 2],
    ]),
    'w',
  );
  const h = relu(matMul(x, w));
  const loss = sum(h);
  const step = assignSub(w, mul(matMul(x, h, true), 0.1));
  return { g, x, loss, step };
}

function batch(n: number, seed: number): Tensor {
  const t = new Tensor('float32', [n, 3]);
  for (let i = 0; i < t.size; i++) t.data[i] = Math.sin(seed * 7 + i * 1.3);
  return t;
}

describe('program cache', () => {
  it('keeps the most recently used programs and evicts the oldest', () => {
    const evicted: string[] = [];
    const c = new ProgramCache<string>(2, (_v, k) => evicted.push(k));
    c.getOrCreate('a', () => 'A');
    c.getOrCreate('b', () => 'B');
    expect(c.getOrCreate('a', () => 'A2')).toBe('A');
    c.getOrCreate('c', () => 'C');
    expect(evicted).toEqual(['b']);
    expect(c.values()).toEqual(['A', 'C']);
    c.clear();
    expect(evicted).toEqual(['b', 'a', 'c']);
    expect(() => new ProgramCache(0, () => undefined)).toThrow(/capacity must be an integer >= 1, got 0/);
  });

  it('a bounded cache compiles per feed shape, evicts, and training state survives eviction', async () => {
    const { g, loss, step } = trainGraph();
    const device = countingDevice();
    const compiled = new Session(g, deviceBackend(device, { programCacheSize: 2 }), { seed: 1 });
    const oracle = new Session(g, referenceBackend(), { seed: 1 });
    const sizes = [1, 2, 3, 1, 4, 2, 2, 5];
    for (const [i, n] of sizes.entries()) {
      const x = batch(n, i);
      const [got] = await compiled.run([loss, step], { x });
      const [want] = await oracle.run([loss, step], { x });
      expectClose(got, want!, `loss of step ${i} (batch ${n})`);
      expectClose(compiled.getVariable('w'), oracle.getVariable('w'), `w after step ${i}`);
    }
    // Every new shape (1, 2, 3, 1 again after eviction, 4, 2 again, 5) compiled a program.
    expect(device.loads).toBe(7);
    // At most two programs stay cached; an evicted one is disposed once another program has
    // written w again (its value is no longer the session's), so at most one waits.
    expect(device.loads - device.disposes).toBeLessThanOrEqual(3);
    compiled.dispose();
    await new Promise((resolve) => setTimeout(resolve, 0)); // the Session disposes executables asynchronously
    expect(device.disposes).toBe(device.loads);
  });

  it('an executable lists its cached programs, least recently used first', () => {
    const { g, x, loss } = trainGraph();
    const exe = deviceBackend(cpuDevice(), { programCacheSize: 2 }).prepare(makePlan(g, [loss], [x.node]), {
      fuse: true,
      checkNumerics: false,
    }) as DeviceExecutable;
    for (const n of [1, 2, 3]) exe.runner({ x: [n, 3] });
    expect(exe.programs().map((p) => p.feeds.map((f) => p.buffers[f.buffer]!.shape))).toEqual([[[2, 3]], [[3, 3]]]);
    exe.dispose();
  });
});

describe('routines', () => {
  it('compiling for a device that lacks a routine fails at compile time, naming it', async () => {
    const g = new Graph();
    const x = g.placeholder('float32', [2, 3], 'x');
    const i = g.placeholder('int32', [2], 'i');
    const y = g.nameScope('pick', () => gather(x, i));
    const device: Device = { ...cpuDevice(), name: 'tiny', routines: new Set(['conv2d']) };
    const s = new Session(g, deviceBackend(device));
    await expect(s.run([y], { x: batch(2, 0), i: new Tensor('int32', [2], new Int32Array([1, 0])) })).rejects.toThrow(
      /^compile for device 'tiny': routine 'gather' \(node 'pick\/gather'\) is not implemented by this device; it implements conv2d$/,
    );
  });
});

describe('CPU routines', () => {
  it('a routine whose fast kernel rejects its data fails with the reference wording, never a silent result', async () => {
    const g = new Graph();
    const x = g.placeholder('float32', [2, 3], 'x');
    const i = g.placeholder('int32', [2], 'i');
    const y = gather(x, i);
    const s = new Session(g, deviceBackend(cpuDevice()));
    const ok = await s.run([y], { x: batch(2, 0), i: new Tensor('int32', [2], Int32Array.of(1, 0)) });
    expectClose(ok[0], (await new Session(g, referenceBackend()).run([y], { x: batch(2, 0), i: new Tensor('int32', [2], Int32Array.of(1, 0)) }))[0]!, 'gather');
    await expect(s.run([y], { x: batch(2, 0), i: new Tensor('int32', [2], Int32Array.of(1, 2)) })).rejects.toThrow(
      /^gather 'gather': index 2 .*out of range \[0, 2\)/,
    );
  });
});

describe('asynchronous devices', () => {
  it('a device whose downloads are Promises runs the same program asynchronously', async () => {
    const { g, x, loss, step } = trainGraph();
    const program = new Session(g, deviceBackend(cpuDevice())).compiled([loss, step], ['x']);
    const sync = new CpuProgram(program);
    const base = cpuDevice().load(program);
    const asyncDevice: DeviceProgram = {
      program,
      upload: (id, data) => base.upload(id, data),
      runKernel: (i, run) => base.runKernel(i, run),
      download: (id) => Promise.resolve(base.download(id)),
      commit: (ids) => base.commit(ids),
      variableValue: (id) => Promise.resolve(base.variableValue(id)),
      dispose: () => base.dispose(),
    };
    const runner = new ProgramRunner(asyncDevice);
    const inputs = { feeds: new Map([['x', batch(1, 3)]]), variables: new Map([['w', g.variables()[0]!.attrs.value as Tensor]]), seed: 0 };
    const pending = runner.run(inputs);
    expect(pending).toBeInstanceOf(Promise);
    const got = await pending;
    const want = sync.run(inputs);
    expectClose(got.values[0], want.values[0]!, 'loss');
    expectClose(got.writes.get('w'), want.writes.get('w')!, 'w');
    runner.dispose();
    sync.dispose();
  });
});
