/**
 * Scalar semantics of the WGSL generator against the evaluator (compiler/src/lower/scalar-eval.ts)
 * on the same kind of edge table the CPU generators are checked on (±0, ±Infinity, NaN,
 * float32 and int32 extremes, all pairs for binary functions). Exact functions (arithmetic,
 * comparisons, rounding, conversions, logic, integer division) must match bit for bit;
 * transcendental functions within float32 accuracy (the GPU's exp, log, sin, ... are not
 * correctly rounded; sin and cos only where |x| <= 100). Subnormal inputs and results are
 * left out (WGSL lets an implementation flush them to zero), and so are int32 powers beyond
 * 2^53 in magnitude, where the evaluator's value is an artifact of float64 rounding.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SCALAR_FN_ARITY, type ScalarExpr, type ScalarFn, call, evaluateExpr, input } from '@kiln/compiler';
import { type DType, KilnError } from '@kiln/graph';
import { type GpuContext, acquireGpu } from '@kiln/runtime-webgpu';
import { elementwiseWgsl } from '../packages/runtime-webgpu/src/codegen/elementwise-wgsl.js';
import { PARAM_SLOTS } from '../packages/runtime-webgpu/src/codegen/wgsl-common.js';
import { PipelineCache } from '../packages/runtime-webgpu/src/pipelines.js';
import { EDGES as SHARED_EDGES, F, I, SIGNATURES, isSubnormal } from './helpers/scalar-edge-table.js';

/** Subnormals are excluded on WebGPU: WGSL lets implementations flush them to zero. */
const EDGES = { ...SHARED_EDGES, float32: SHARED_EDGES.float32.filter((v) => !isSubnormal(v)) };
/** Not correctly rounded on GPUs: compared within float32 accuracy. */
const APPROX = new Set<ScalarFn>(['exp', 'log', 'log1p', 'sqrt', 'tanh', 'sin', 'cos', 'atan', 'erf', 'pow', 'div', 'mod', 'floordiv']);

let ctx: GpuContext | undefined;
let pipelines: PipelineCache;
beforeAll(async () => {
  try {
    ctx = await acquireGpu();
    pipelines = new PipelineCache(ctx.device);
  } catch (e) {
    if (!(e instanceof KilnError) || process.env.KILN_REQUIRE_WEBGPU === '1') throw e;
  }
});
afterAll(() => ctx?.device.destroy());

const isSub = (v: number) => v !== 0 && Math.abs(v) < 1.1754943508222875e-38;

/** Runs `e` on the rows (one column per argument) through the WGSL generator; the results as stored. */
async function runWgsl(e: ScalarExpr, rows: number[][], args: readonly DType[], out: DType): Promise<number[]> {
  const dev = ctx!.device;
  const n = rows.length;
  const words = new Uint32Array(n * (args.length + 1));
  const f32 = new Float32Array(words.buffer);
  const i32 = new Int32Array(words.buffer);
  args.forEach((dt, j) => rows.forEach((r, i) => (dt === F ? (f32[j * n + i] = r[j]!) : dt === I ? (i32[j * n + i] = r[j]!) : (words[j * n + i] = r[j]!))));
  const k = elementwiseWgsl({
    exprs: [e],
    inShapes: args.map(() => [n]),
    inDTypes: args,
    inOffsets: args.map((_, j) => j * n),
    outShape: [n],
    outDTypes: [out],
    outOffsets: [args.length * n],
  });
  const storage = dev.createBuffer({ size: words.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
  const uniforms = dev.createBuffer({ size: PARAM_SLOTS * 4, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const read = dev.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  dev.queue.writeBuffer(storage, 0, words);
  const params = new Int32Array(PARAM_SLOTS);
  params.set(k.params);
  dev.queue.writeBuffer(uniforms, 0, params);
  const pipeline = await pipelines.get(k.wgsl);
  const bind = dev.createBindGroup({
    layout: pipelines.bindGroupLayout,
    entries: [
      { binding: 0, resource: { buffer: storage } },
      { binding: 1, resource: { buffer: uniforms, size: PARAM_SLOTS * 4 } },
    ],
  });
  const enc = dev.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind, [0]);
  pass.dispatchWorkgroups(...k.workgroups);
  pass.end();
  enc.copyBufferToBuffer(storage, args.length * n * 4, read, 0, n * 4);
  dev.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const raw = read.getMappedRange().slice(0);
  read.unmap();
  [storage, uniforms, read].forEach((b) => b.destroy());
  return Array.from(out === F ? new Float32Array(raw) : out === I ? new Int32Array(raw) : new Uint32Array(raw));
}

function table(args: readonly DType[]): number[][] {
  let rows: number[][] = [[]];
  for (const dt of args) rows = rows.flatMap((r) => EDGES[dt].map((v) => [...r, v]));
  return rows;
}

const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
const close = (a: number, b: number) => same(a, b) || (Number.isFinite(b) && Math.abs(a - b) <= 2e-6 + 1e-5 * Math.abs(b)) || (a === 0 && b === 0);

describe('WGSL scalar semantics == the evaluator on the edge table', () => {
  const cases = (Object.keys(SCALAR_FN_ARITY) as ScalarFn[]).flatMap((fn) =>
    SIGNATURES[fn].map(([args, out]) => [`${fn}(${args.join(', ')}) -> ${out}`, fn, args, out] as const),
  );
  it.each(cases)('%s', async (name, fn, args, out) => {
    if (!ctx) return;
    const e = call(fn, out, ...args.map((dt, i) => input(i, dt)));
    const rows = table(args).filter((r) => !((fn === 'sin' || fn === 'cos') && Math.abs(r[0]!) > 100));
    const got = await runWgsl(e, rows, args, out);
    const bad: string[] = [];
    rows.forEach((r, i) => {
      const want = evaluateExpr(e, r);
      if (r.some(isSub) || isSub(want)) return;
      if (fn === 'pow' && out === I && Math.abs(r[0]!) ** r[1]! > 2 ** 53) return;
      const approx = APPROX.has(fn) && out === F;
      if (!(approx ? close(got[i]!, want) : same(got[i]!, want))) bad.push(`${name.split('(')[0]}(${r.join(', ')}): wgsl ${got[i]}, evaluator ${want}`);
    });
    expect(bad).toEqual([]);
  });
});
