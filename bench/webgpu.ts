/**
 * Kiln on WebGPU alone (Dawn in Node; lavapipe here): the MLP training step (784-512-256-10,
 * batch 128, Adam) and a 1024³ matmul, median of N runs after warm-up, with per-step counts
 * of dispatches, submits, writeBuffer, createBuffer, createBindGroup and mapAsync (the device's
 * methods are wrapped before the timed region; counting costs a few increments). The first
 * call (compile + pipelines) is timed separately; point MESA_SHADER_CACHE_DIR at an empty
 * folder for a cold shader cache.
 *   node --conditions=source --import tsx bench/webgpu.ts [runs]
 */
import { Session, deviceBackend } from '@kiln/compiler';
import { Graph, type SymbolicTensor, Tensor, add, makeRandom, matMul, relu, softmaxCrossEntropy, train } from 'kiln';
import { referenceConstantEvaluator } from '@kiln/runtime-cpu';
import { acquireGpu, webgpuDevice } from '@kiln/runtime-webgpu';

const runs = Number(process.argv[2] ?? 20);
const ctx = await acquireGpu();
const counts = { dispatch: 0, submit: 0, writeBuffer: 0, createBuffer: 0, createBindGroup: 0, mapAsync: 0 };
const dev = ctx.device;
const wrap = <T extends object>(o: T, name: keyof T & string, key: keyof typeof counts) => {
  const f = (o[name] as (...a: unknown[]) => unknown).bind(o);
  (o as Record<string, unknown>)[name] = (...a: unknown[]) => {
    counts[key]++;
    return f(...a);
  };
};
const createBuffer = dev.createBuffer.bind(dev);
dev.createBuffer = (d: GPUBufferDescriptor) => {
  counts.createBuffer++;
  const b = createBuffer(d);
  wrap(b, 'mapAsync', 'mapAsync');
  return b;
};
wrap(dev, 'createBindGroup', 'createBindGroup');
wrap(dev.queue, 'submit', 'submit');
wrap(dev.queue, 'writeBuffer', 'writeBuffer');
const createEncoder = dev.createCommandEncoder.bind(dev);
dev.createCommandEncoder = (d?: GPUCommandEncoderDescriptor) => {
  const e = createEncoder(d);
  const begin = e.beginComputePass.bind(e);
  e.beginComputePass = (pd?: GPUComputePassDescriptor) => {
    const p = begin(pd);
    wrap(p, 'dispatchWorkgroups', 'dispatch');
    return p;
  };
  return e;
};

const device = webgpuDevice(ctx, { constantEvaluator: referenceConstantEvaluator });
const backend = deviceBackend({ ...device, dispose: undefined });
const rand = makeRandom(3);
const randomTensor = (shape: number[], scale = 1) => {
  const t = new Tensor('float32', shape);
  for (let i = 0; i < t.size; i++) t.data[i] = (rand() * 2 - 1) * scale;
  return t;
};

async function measure(name: string, s: Session, run: () => Promise<unknown>, flops?: number): Promise<void> {
  const t0 = performance.now();
  await run();
  const first = performance.now() - t0;
  for (let i = 0; i < 2; i++) await run();
  const before = { ...counts };
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const med = times[runs >> 1]!;
  const per = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, (v - before[k as keyof typeof counts]) / runs]));
  const gf = flops ? ` ${((flops / med) * 1e-6).toFixed(1)} GFLOP/s` : '';
  console.log(
    `| ${name} | ${med.toFixed(2)} | ${times[0]!.toFixed(2)} | ${first.toFixed(0)} |${gf} | ${Object.entries(per)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} |`,
  );
  s.dispose();
}

console.log(`adapter: ${ctx.info}; ${runs} measured runs after 2 warm-up`);
console.log('| workload | median ms | min ms | first call ms | per step |');
console.log('| --- | --: | --: | --: | --- |');
{
  const g = new Graph();
  const sizes = [784, 512, 256, 10];
  const x = g.placeholder('float32', [128, 784], 'x');
  const y = g.placeholder('float32', [128, 10], 'y');
  let h: SymbolicTensor = x;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const w = g.variable(randomTensor([sizes[l]!, sizes[l + 1]!], Math.sqrt(6 / sizes[l]!)), `w${l}`);
    const b = g.variable(randomTensor([sizes[l + 1]!], 0.1), `b${l}`);
    h = add(matMul(h, w), b);
    if (l + 2 < sizes.length) h = relu(h);
  }
  const loss = softmaxCrossEntropy(y, h);
  const step = train.adam(0.001).minimize(loss);
  const feeds = { x: randomTensor([128, 784]), y: randomTensor([128, 10]) };
  const s = new Session(g, backend, {});
  await measure('MLP train step (784-512-256-10, b128, Adam)', s, () => Promise.resolve(s.run([step], feeds)));
}
{
  const g = new Graph();
  const a = g.placeholder('float32', [1024, 1024], 'a');
  const b = g.placeholder('float32', [1024, 1024], 'b');
  const c = matMul(a, b);
  const feeds = { a: randomTensor([1024, 1024]), b: randomTensor([1024, 1024]) };
  const s = new Session(g, backend, {});
  await measure('matmul 1024³ (feeds written, result read back)', s, () => Promise.resolve(s.run([c], feeds)), 2 * 1024 ** 3);
}
dev.destroy();
process.exit(0);
