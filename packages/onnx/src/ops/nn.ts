/**
 * ONNX neural-network operators besides convolution and pooling (conv.ts, pool.ts): MatMul
 * (NumPy 1-D rules), Gemm, GlobalAverage/MaxPool, BatchNormalization, LayerNormalization (with
 * its Mean and InvStdDev outputs), Softmax and LogSoftmax (the pre-13 2-D view included).
 */
import {
  type SymbolicTensor,
  add,
  batchNorm,
  expandDims,
  layerNorm,
  logSoftmax,
  matMul,
  max,
  mean,
  mul,
  reshape,
  rsqrt,
  softmax,
  squeeze,
  sub,
} from '@kiln/graph';
import type { Produced } from '../context.js';
import { register } from '../registry.js';
import { onnxAxis } from './util.js';

register('MatMul', (ctx) => {
  let a = ctx.input(0);
  let b = ctx.input(1);
  const aVec = a.shape.length === 1;
  const bVec = b.shape.length === 1;
  if (aVec) a = expandDims(a, 0);
  if (bVec) b = expandDims(b, 1);
  let y = matMul(a, b);
  if (aVec) y = squeeze(y, [y.shape.length - 2]);
  if (bVec) y = squeeze(y, [y.shape.length - 1]);
  return [y];
});

register('Gemm', (ctx) => {
  const alpha = ctx.float('alpha', 1);
  const beta = ctx.float('beta', 1);
  let y = matMul(ctx.input(0), ctx.input(1), ctx.int('transA', 0) === 1, ctx.int('transB', 0) === 1);
  if (alpha !== 1) y = mul(y, alpha);
  if (ctx.has(2) && beta !== 0) {
    const c = ctx.input(2);
    y = add(y, beta === 1 ? c : mul(c, beta));
  }
  return [y];
});

function spatialAxes(x: SymbolicTensor): number[] {
  return [...Array(x.shape.length).keys()].slice(2);
}
register('GlobalAveragePool', (ctx) => [mean(ctx.input(0), spatialAxes(ctx.input(0)), true)]);
register('GlobalMaxPool', (ctx) => [max(ctx.input(0), spatialAxes(ctx.input(0)), true)]);

register('BatchNormalization', (ctx) => {
  const x = ctx.input(0);
  if (ctx.int('training_mode', 0) === 1) ctx.unsupported('training_mode=1 (Kiln imports inference graphs)');
  if (ctx.opset < 9 && ctx.int('spatial', 1) !== 1) ctx.unsupported('spatial=0');
  for (let i = 1; i < ctx.node.outputs.length; i++) if (ctx.wantsOutput(i)) ctx.unsupported(`training output ${i}`);
  const r = x.shape.length;
  const perChannel = (t: SymbolicTensor): SymbolicTensor =>
    t.shape.length === 1 && r > 2 ? reshape(t, [t.shape[0] ?? -1, ...new Array<number>(r - 2).fill(1)]) : t;
  const [scale, bias, m, v] = [1, 2, 3, 4].map((i) => perChannel(ctx.input(i)));
  return [batchNorm(x, m!, v!, bias, scale, ctx.float('epsilon', 1e-5))];
});

register('LayerNormalization', (ctx): Produced[] => {
  const x = ctx.input(0);
  const r = x.shape.length;
  const axis = onnxAxis(ctx, ctx.int('axis', -1), r);
  const eps = ctx.float('epsilon', 1e-5);
  const y = layerNorm(x, ctx.input(1), ctx.optInput(2) ?? null, axis, eps);
  const out: Produced[] = [y];
  if (ctx.wantsOutput(1) || ctx.wantsOutput(2)) {
    const axes = [...Array(r - axis).keys()].map((i) => axis + i);
    const m = mean(x, axes, true);
    const d = sub(x, m);
    out.push(m, rsqrt(add(mean(mul(d, d), axes, true), eps)));
  }
  return out;
});

function defineSoftmax(op: 'Softmax' | 'LogSoftmax'): void {
  const fn = op === 'Softmax' ? softmax : logSoftmax;
  register(op, (ctx) => {
    const x = ctx.input(0);
    const r = x.shape.length;
    if (ctx.opset >= 13) return [fn(x, onnxAxis(ctx, ctx.int('axis', -1), r))];
    // Before opset 13: the input is viewed as 2-D [prod(dims < axis), prod(dims >= axis)].
    const axis = onnxAxis(ctx, ctx.int('axis', 1), r);
    if (axis === r - 1) return [fn(x, -1)];
    const shape = ctx.staticShape(0, `${op} (opset < 13) on axis ${axis}`);
    const inner = shape.slice(axis).reduce((a, b) => a * b, 1);
    return [reshape(fn(reshape(x, [-1, inner]), -1), shape)];
  });
}
defineSoftmax('Softmax');
defineSoftmax('LogSoftmax');
