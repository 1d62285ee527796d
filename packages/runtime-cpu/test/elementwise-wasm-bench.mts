/**
 * The fused Adam update of the MLP's 784x512 weight (401408 elements; not a test): the JS
 * code generator's kernel vs the WebAssembly SIMD one, both on the engine's shared memory.
 * Median and best of timed runs after a warm-up.
 *   node --conditions=source --import tsx packages/runtime-cpu/test/elementwise-wasm-bench.mts
 */
import { Graph, Tensor, matMul, softmaxCrossEntropy } from '@kiln/graph';
import { compile, train } from '@kiln/compiler';
import { GemmEngine } from '../src/compiled/wasm/index.js';
import { compileElementwise } from '../src/compiled/js-codegen.js';
import { compileWasmElementwise, type ElementwiseInputKind } from '../src/compiled/wasm-codegen/elementwise-wasm.js';

const N = 784 * 512;
const g = new Graph();
const x = g.placeholder('float32', [128, 784], 'x');
const y = g.placeholder('float32', [128, 512], 'y');
const w = g.variable(new Tensor('float32', [784, 512]), 'w');
const step = train.adam(0.01).minimize(softmaxCrossEntropy(y, matMul(x, w)));
const p = compile(g, { fetches: [step], feeds: [x, y] });
const k = p.kernels.find((k) => k.spec.kind === 'elementwise' && k.spec.outputs.length === 3)!;
if (k.spec.kind !== 'elementwise') throw new Error('no Adam kernel');
const spec = k.spec;
const shapes = spec.inputs.map((i) => p.buffers[i]!.shape);
const kinds = shapes.map((s) => (s.reduce((a, b) => a * b, 1) === 1 ? 'scalar' : 'flat') as ElementwiseInputKind);

const e = await GemmEngine.create({ threads: 1 });
const ins = kinds.map((kind) => e.alloc((kind === 'flat' ? N : 1) * 4));
const outs = spec.exprs.map(() => e.alloc(N * 4));
ins.forEach((o, j) => {
  const v = e.f32(o, kinds[j] === 'flat' ? N : 1);
  for (let i = 0; i < v.length; i++) v[i] = kinds[j] === 'flat' ? Math.random() * 0.1 : 0.01;
});
const js = compileElementwise(spec.exprs, shapes, [784, 512]);
const wasmKernel = compileWasmElementwise(e, spec.exprs, kinds)!;
const inViews = ins.map((o, j) => e.f32(o, kinds[j] === 'flat' ? N : 1));
const outViews = outs.map((o) => e.f32(o, N));

function time(f: () => void, reps = 30): [number, number] {
  for (let i = 0; i < 5; i++) f();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return [t[Math.floor(reps / 2)]!, t[0]!];
}
const fmt = ([med, best]: [number, number]) => `median ${med.toFixed(3)} ms, best ${best.toFixed(3)} ms (${((med * 1e6) / N).toFixed(2)} ns/element)`;
console.log(`Adam update, ${N} elements, ${kinds.filter((k) => k === 'flat').length} flat + ${kinds.filter((k) => k === 'scalar').length} scalar inputs, 3 outputs`);
console.log(`  JS   : ${fmt(time(() => js(outViews, inViews)))}`);
console.log(`  wasm : ${fmt(time(() => wasmKernel.run(outs, ins, N)))}`);
// Streaming bound: one read of each flat input and one write of each output.
console.log(`  copy : ${fmt(time(() => e.f32(outs[0]!, N).set(e.f32(ins[0]!, N))))} (one 1.6 MB copy, for scale)`);
e.dispose();
