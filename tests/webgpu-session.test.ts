/**
 * The WebGPU backend end to end: MLP training tracks the CPU backend's losses, a training step
 * costs one submit and no new buffers or bind groups (1,000 runs leave the live GPU buffer
 * count unchanged), compiled models save and load on WebGPU, and faults are KilnErrors
 * (a program over the adapter's binding limit, a routine the device lacks). Without an
 * adapter (and without KILN_REQUIRE_WEBGPU=1) the backend must fail with UNSUPPORTED.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Session, deviceBackend } from '@kiln/compiler';
import { Graph, KilnError, type SymbolicTensor, Tensor, add, exp, gather, makeRandom, matMul, relu, softmaxCrossEntropy, tensor, train } from 'kiln';
import { compileModel, loadCompiled, session } from 'kiln';
import { type GpuContext, type WebGpuDevice, acquireGpu, webgpuDevice } from '@kiln/runtime-webgpu';
import { referenceConstantEvaluator } from '@kiln/runtime-cpu';
import { PipelineCache, PipelineError } from '../packages/runtime-webgpu/src/pipelines.js';

const required = process.env.KILN_REQUIRE_WEBGPU === '1';

function randomTensor(rand: () => number, shape: number[], scale = 1): Tensor {
  const t = new Tensor('float32', shape);
  for (let i = 0; i < t.size; i++) t.data[i] = (rand() * 2 - 1) * scale;
  return t;
}

function mlp(sizes: number[]) {
  const rand = makeRandom(7);
  const g = new Graph();
  const x = g.placeholder('float32', [null, sizes[0]!], 'x');
  const y = g.placeholder('float32', [null, sizes[sizes.length - 1]!], 'y');
  let h: SymbolicTensor = x;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const w = g.variable(randomTensor(rand, [sizes[l]!, sizes[l + 1]!], Math.sqrt(6 / sizes[l]!)), `w${l}`);
    const b = g.variable(randomTensor(rand, [sizes[l + 1]!], 0.1), `b${l}`);
    h = add(matMul(h, w), b);
    if (l + 2 < sizes.length) h = relu(h);
  }
  const loss = softmaxCrossEntropy(y, h);
  const step = train.adam(0.01).minimize(loss);
  const labels = (n: number, c: number) =>
    tensor(
      Array.from({ length: n * c }, (_, i) => (i % c === Math.floor(i / c) % c ? 1 : 0)),
      [n, c],
    );
  return { g, x, y, logits: h, loss, step, feeds: { x: randomTensor(rand, [16, sizes[0]!]), y: labels(16, sizes[sizes.length - 1]!) } };
}

/** GPU object counts, by wrapping the device's methods (outside any timed region). */
interface Counts {
  live: number;
  createBuffer: number;
  createBindGroup: number;
  submit: number;
  mapAsync: number;
  writeBuffer: number;
}

function instrument(device: GPUDevice): Counts {
  const c: Counts = { live: 0, createBuffer: 0, createBindGroup: 0, submit: 0, mapAsync: 0, writeBuffer: 0 };
  const createBuffer = device.createBuffer.bind(device);
  device.createBuffer = (d: GPUBufferDescriptor) => {
    const b = createBuffer(d);
    c.live++;
    c.createBuffer++;
    let alive = true;
    const destroy = b.destroy.bind(b);
    const mapAsync = b.mapAsync.bind(b);
    b.destroy = () => {
      if (alive) c.live--;
      alive = false;
      destroy();
    };
    b.mapAsync = (mode: GPUMapModeFlags, offset?: number, size?: number) => {
      c.mapAsync++;
      return mapAsync(mode, offset, size);
    };
    return b;
  };
  const createBindGroup = device.createBindGroup.bind(device);
  device.createBindGroup = (d: GPUBindGroupDescriptor) => {
    c.createBindGroup++;
    return createBindGroup(d);
  };
  const q = device.queue;
  const submit = q.submit.bind(q);
  q.submit = (cbs: Iterable<GPUCommandBuffer>) => {
    c.submit++;
    submit(cbs);
  };
  const writeBuffer = q.writeBuffer.bind(q) as (...a: unknown[]) => void;
  (q as { writeBuffer: unknown }).writeBuffer = (...a: unknown[]) => {
    c.writeBuffer++;
    writeBuffer(...a);
  };
  return c;
}

let ctx: GpuContext | undefined;
let unavailable: KilnError | undefined;

beforeAll(async () => {
  try {
    ctx = await acquireGpu();
  } catch (e) {
    if (!(e instanceof KilnError)) throw e;
    unavailable = e;
  }
});

afterAll(() => ctx?.device.destroy());

describe('WebGPU backend', () => {
  it('is UNSUPPORTED without an adapter, and an adapter is present when required', async () => {
    if (!unavailable) return expect(ctx).toBeDefined();
    expect(required).toBe(false);
    expect(unavailable.code).toBe('UNSUPPORTED');
    await expect(session(new Graph(), { backend: 'webgpu' })).rejects.toThrow(/WebGPU/);
  });

  it('trains an MLP tracking the CPU losses within 1e-3 over 20 Adam steps', async () => {
    if (!ctx) return;
    const { g, loss, step, feeds } = mlp([12, 16, 8, 4]);
    const losses = async (backend: 'cpu' | 'webgpu') => {
      const s = await session(g, { backend });
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push((await s.run([loss, step], feeds))[0]!.data[0]!);
      const w0 = s.getVariable('w0');
      s.dispose();
      return { out, w0 };
    };
    const want = await losses('cpu');
    const got = await losses('webgpu');
    got.out.forEach((l, i) => expect(Math.abs(l - want.out[i]!)).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(want.out[i]!))));
    expect(want.out[19]!).toBeLessThan(want.out[0]!);
    got.w0.data.forEach((v, i) => expect(Math.abs(v - want.w0.data[i]!)).toBeLessThanOrEqual(1e-3));
  });

  it('runs a training step with one submit, no new buffers or bind groups; 1,000 runs leave the live buffer count unchanged', async () => {
    if (!ctx) return;
    const { g, loss, step, feeds, logits } = mlp([6, 5, 3]);
    const counts = instrument(ctx.device);
    const dev: WebGpuDevice = webgpuDevice(ctx, { constantEvaluator: referenceConstantEvaluator });
    const s = new Session(g, deviceBackend({ ...dev, dispose: undefined }), {});
    await s.run([step], feeds);
    await s.run([loss], feeds);
    const before = { ...counts };
    await s.run([step], feeds);
    // The step fetches nothing: it writes its feeds (two) and reads back only the written variables' new values.
    expect([
      counts.submit - before.submit,
      counts.mapAsync - before.mapAsync,
      counts.createBuffer - before.createBuffer,
      counts.createBindGroup - before.createBindGroup,
    ]).toEqual([1, 1, 0, 0]);
    expect(counts.writeBuffer - before.writeBuffer).toBe(2);
    const live = counts.live;
    let last = 0;
    for (let i = 0; i < 1000; i++) last = (await s.run([loss], feeds))[0]!.data[0]!;
    expect(Number.isFinite(last)).toBe(true);
    expect(counts.live).toBe(live);
    // Another signature, then disposal, frees every buffer its programs made.
    await s.run([logits], { x: feeds.x });
    s.dispose();
    await new Promise((r) => setTimeout(r, 50));
    expect(counts.live).toBeLessThanOrEqual(live);
  });

  it('compileModel / loadCompiled on WebGPU give the CPU results, and keep training', async () => {
    if (!ctx) return;
    const { g, x, y, loss, step, feeds } = mlp([6, 5, 3]);
    const spec = { fetches: [loss, step], feeds: [x, y], feedShapes: { x: [16, 6], y: [16, 3] } };
    const cpu = await compileModel(g, spec, { backend: 'cpu', seed: 1 });
    const gpu = await compileModel(g, spec, { backend: 'webgpu', seed: 1 });
    for (let i = 0; i < 3; i++) {
      const [a, b] = [(await cpu.run(feeds))[0]!.data[0]!, (await gpu.run(feeds))[0]!.data[0]!];
      expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(a)));
    }
    const again = await loadCompiled(gpu.serialize(), { backend: 'webgpu' });
    const [a, b] = [(await cpu.run(feeds))[0]!.data[0]!, (await again.run(feeds))[0]!.data[0]!];
    expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(a)));
  });

  it('rejects a program over the adapter binding limit before dispatching, naming the limit and the size', async () => {
    if (!ctx) return;
    const g = new Graph();
    const n = Math.ceil(ctx.device.limits.maxStorageBufferBindingSize / 4) + 1;
    const x = g.placeholder('float32', [n], 'x');
    const e = await compileModel(g, { fetches: [exp(x)], feeds: [x] }, { backend: 'webgpu' }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(KilnError);
    expect((e as KilnError).code).toBe('RESOURCE_EXHAUSTED');
    expect((e as KilnError).message).toMatch(new RegExp(`needs \\d+ bytes.*maxStorageBufferBindingSize ${ctx.device.limits.maxStorageBufferBindingSize}`));
  });

  it('a case of a routine the device declines (integer matMul) is UNSUPPORTED at compile time, never a wrong answer', async () => {
    if (!ctx) return;
    const g = new Graph();
    const a = g.placeholder('int32', [2, 3], 'a');
    const b = g.constant(tensor(new Int32Array([1, 2, 3, 4, 5, 6]), [3, 2]));
    const s = await session(g, { backend: 'webgpu' });
    const e = await Promise.resolve()
      .then(() => s.run([matMul(a, b)], { a: tensor(new Int32Array([1, 0, 2, -1, 3, 1]), [2, 3]) }))
      .catch((err: unknown) => err);
    expect((e as KilnError).code).toBe('UNSUPPORTED');
    expect((e as KilnError).message).toMatch(/routine 'matMul' \(node 'matMul'\) is not implemented by this device for this case: integer matMul/);
    s.dispose();
  });

  it('a routine the device lacks is UNSUPPORTED at compile time, naming it', async () => {
    if (!ctx) return;
    const g = new Graph();
    const x = g.placeholder('float32', [3, 4], 'x');
    const s = await session(g, { backend: 'webgpu' });
    const e = await Promise.resolve()
      .then(() => s.run([gather(x, g.constant(tensor(new Int32Array([2, 0]))), 1)], { x: randomTensor(makeRandom(1), [3, 4]) }))
      .catch((err: unknown) => err);
    expect((e as KilnError).code).toBe('UNSUPPORTED');
    expect((e as KilnError).message).toMatch(/routine 'gather' \(node 'gather'\) is not implemented by this device/);
    s.dispose();
  });

  it('a WGSL compile error carries the line and its text', async () => {
    if (!ctx) return;
    const bad = 'fn f() -> f32 {\n  return 1.0f + undefined_thing;\n}\n@compute @workgroup_size(1) fn main() { _ = f(); }\n';
    const e = await new PipelineCache(ctx.device).get(bad).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(PipelineError);
    expect((e as PipelineError).details).toMatch(/line 2: .*undefined_thing[\s\S]*return 1\.0f \+ undefined_thing;/);
  });
});
