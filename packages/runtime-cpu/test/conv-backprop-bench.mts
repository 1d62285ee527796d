/**
 * Conv gradient timings (not a test): conv2d-backprop.ts and depthwise.ts against the
 * reference kernels on the CNN's gradient shapes (batch 64, 'same'): x [64,28,28,1] with a
 * 5x5x1x32 filter, x [64,14,14,32] with 5x5x32x64, plus a 3x3 depthwise [64,28,28,32].
 * Best of several runs after a warm-up (the reference runs once: it is slow).
 *   node --conditions=source --import tsx packages/runtime-cpu/test/conv-backprop-bench.mts [threads]
 */
import {
  Graph, type Node, type SymbolicTensor, Tensor, conv2d, conv2dBackpropFilter, conv2dBackpropInput, depthwiseConv2d,
  depthwiseConv2dBackpropFilter, depthwiseConv2dBackpropInput, geometry2D,
} from '@kiln/graph';
import {
  GemmEngine, conv2dBackpropFilterGemm, conv2dBackpropFilterScratchBytes, conv2dBackpropInputGemm,
  conv2dBackpropInputScratchBytes, conv2dGemm, conv2dScratchBytes, depthwiseConv2dBackpropFilterDirect,
  depthwiseConv2dBackpropInputDirect, depthwiseConv2dDirect,
} from '../src/compiled/wasm/index.js';
import '../src/reference/kernels/index.js';
import { getRefKernel } from '../src/reference/registry.js';

type Shape4 = [number, number, number, number];
const threads = Number(process.argv[2] ?? 2);
const e = await GemmEngine.create({ threads });

function rand(shape: number[]): Tensor {
  const t = new Tensor('float32', shape);
  for (let i = 0; i < t.size; i++) t.data[i] = Math.random() - 0.5;
  return t;
}

function put(t: Tensor): number {
  const o = e.alloc(t.size * 4);
  e.f32(o, t.size).set(t.data as Float32Array);
  return o;
}

function best(fn: () => void, runs = 5): number {
  fn();
  let b = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    b = Math.min(b, performance.now() - t);
  }
  return b;
}

function refMs(inputs: Tensor[], build: (...xs: SymbolicTensor[]) => SymbolicTensor): number {
  const g = new Graph();
  const node: Node = build(...inputs.map((t, i) => g.placeholder('float32', t.shape, `in${i}`))).node;
  const none = (): never => { throw new Error('stateless'); };
  const t = performance.now();
  getRefKernel(node.op)(inputs, node.attrs, { node, random: none, readVariable: none, writeVariable: none });
  return performance.now() - t;
}

const row = (name: string, fast: number, ref: number) =>
  console.log(`${name.padEnd(58)} ${fast.toFixed(2).padStart(9)} ms   ref ${ref.toFixed(0).padStart(7)} ms   x${(ref / fast).toFixed(0)}`);

console.log(`threads ${threads}`);
for (const [xs, fs] of [[[64, 28, 28, 1], [5, 5, 1, 32]], [[64, 14, 14, 32], [5, 5, 32, 64]]] as [Shape4, Shape4][]) {
  const attrs = { strides: [1, 1], dilations: [1, 1], pad: 'same', explicitPaddings: [] };
  const g = geometry2D(xs, fs[0], fs[1], attrs, 'bench');
  const ys: Shape4 = [xs[0], g.outH, g.outW, fs[3]];
  const x = rand(xs), f = rand(fs), dy = rand(ys);
  const [xo, fo, dyo] = [put(x), put(f), put(dy)];
  const out = e.alloc(Math.max(x.size, dy.size, f.size) * 4);
  const w = { strides: [1, 1] as [number, number], dilations: [1, 1] as [number, number], padTop: g.padTop, padLeft: g.padLeft };
  const sf = conv2dBackpropFilterScratchBytes(xs, fs, ys, w.strides, w.dilations);
  const si = conv2dBackpropInputScratchBytes(xs, fs, ys, w.strides, w.dilations);
  const s0 = conv2dScratchBytes(xs, fs, ys, w.strides, w.dilations);
  const scratch = e.alloc(Math.max(sf, si, s0));
  const tag = `x[${xs}] f[${fs}]`;
  row(`conv2d forward ${tag}`,
    best(() => conv2dGemm(e, { x: xo, xShape: xs, filter: fo, filterShape: fs, out, outShape: ys, ...w, scratch, scratchBytes: s0 })),
    refMs([x, f], (a, b) => conv2d(a, b, 1, 'same')));
  row(`conv2dBackpropFilter ${tag}`,
    best(() => conv2dBackpropFilterGemm(e, { x: xo, xShape: xs, dy: dyo, dyShape: ys, dFilter: out, filterShape: fs, ...w, scratch, scratchBytes: sf })),
    refMs([x, f, dy], (a, b, c) => conv2dBackpropFilter(a, b, c, 1, 'same')));
  row(`conv2dBackpropInput ${tag}`,
    best(() => conv2dBackpropInputGemm(e, { dy: dyo, dyShape: ys, filter: fo, filterShape: fs, dx: out, xShape: xs, ...w, scratch, scratchBytes: si })),
    refMs([x, f, dy], (a, b, c) => conv2dBackpropInput(a, b, c, 1, 'same')));
}

{
  const xs: Shape4 = [64, 28, 28, 32], fs: Shape4 = [3, 3, 32, 1];
  const x = rand(xs), f = rand(fs), dy = rand(xs);
  const [xo, fo, dyo] = [put(x), put(f), put(dy)];
  const out = e.alloc(x.size * 4);
  const w = { strides: [1, 1] as [number, number], dilations: [1, 1] as [number, number], padTop: 1, padLeft: 1 };
  const tag = `x[${xs}] f[${fs}]`;
  row(`depthwiseConv2d ${tag}`,
    best(() => depthwiseConv2dDirect(e, { x: xo, xShape: xs, filter: fo, filterShape: fs, out, outShape: xs, ...w })),
    refMs([x, f], (a, b) => depthwiseConv2d(a, b, 1, 'same')));
  row(`depthwiseConv2dBackpropInput ${tag}`,
    best(() => depthwiseConv2dBackpropInputDirect(e, { dy: dyo, dyShape: xs, filter: fo, filterShape: fs, dx: out, xShape: xs, ...w })),
    refMs([x, f, dy], (a, b, c) => depthwiseConv2dBackpropInput(a, b, c, 1, 'same')));
  row(`depthwiseConv2dBackpropFilter ${tag}`,
    best(() => depthwiseConv2dBackpropFilterDirect(e, { x: xo, xShape: xs, dy: dyo, dyShape: xs, dFilter: out, filterShape: fs, ...w })),
    refMs([x, f, dy], (a, b, c) => depthwiseConv2dBackpropFilter(a, b, c, 1, 'same')));
}
e.dispose();
