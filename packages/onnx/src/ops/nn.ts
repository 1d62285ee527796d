/**
 * ONNX neural-network operators: MatMul (NumPy 1-D rules), Gemm, Conv and ConvTranspose
 * (2-D, NCHW/OIHW transposed to Kiln's NHWC/HWIO, groups, auto_pad, dilations), MaxPool,
 * AveragePool, GlobalAverage/MaxPool, BatchNormalization, LayerNormalization (with its Mean
 * and InvStdDev outputs), Softmax and LogSoftmax.
 */
import {
  KilnError,
  type SymbolicTensor,
  add,
  avgPool,
  batchNorm,
  concat,
  conv2d,
  conv2dTranspose,
  depthwiseConv2d,
  expandDims,
  layerNorm,
  logSoftmax,
  matMul,
  max,
  maxPool,
  mean,
  mul,
  pad,
  reshape,
  rsqrt,
  slice,
  softmax,
  split,
  squeeze,
  sub,
  transpose,
  type PadArg,
} from '@kiln/graph';
import type { ConvertContext, Produced } from '../context.js';
import { register } from '../registry.js';
import { onnxAxis, staticDim, toNCHW, toNHWC } from './util.js';

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

/** Spatial window settings of an ONNX conv/pool node, resolved to Kiln's pad argument. */
interface Window {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  pad: PadArg;
}

function pair(ctx: ConvertContext, name: string, v: number[] | undefined, dflt: number): [number, number] {
  if (!v) return [dflt, dflt];
  if (v.length !== 2) ctx.unsupported(`${name} of length ${v.length} (only 2-D convolution and pooling)`);
  return [v[0]!, v[1]!];
}

function resolveWindow(ctx: ConvertContext, x: SymbolicTensor, kernel: [number, number]): Window {
  if (x.shape.length !== 4) ctx.unsupported(`input of rank ${x.shape.length} (only 2-D, NCHW rank-4 inputs)`);
  const strides = pair(ctx, 'strides', ctx.intList('strides'), 1);
  const dilations = pair(ctx, 'dilations', ctx.intList('dilations'), 1);
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  let padArg: PadArg;
  if (autoPad === 'VALID') padArg = 'valid';
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const hw = [2, 3].map((a) => staticDim(ctx, x, a, `auto_pad ${autoPad}`));
    const p = [0, 1].map((i) => {
      const out = Math.ceil(hw[i]! / strides[i]!);
      const total = Math.max((out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - hw[i]!, 0);
      const small = Math.floor(total / 2);
      return autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    });
    padArg = [[0, 0], p[0]!, p[1]!, [0, 0]];
  } else if (autoPad === 'NOTSET') {
    const pads = ctx.intList('pads') ?? [0, 0, 0, 0];
    if (pads.length !== 4) ctx.unsupported(`pads of length ${pads.length} (only 2-D)`);
    if (pads.some((p) => p < 0)) ctx.unsupported('negative pads');
    padArg = [[0, 0], [pads[0]!, pads[2]!], [pads[1]!, pads[3]!], [0, 0]];
  } else {
    return ctx.unsupported(`auto_pad '${autoPad}'`);
  }
  return { kernel, strides, dilations, pad: padArg };
}

register('Conv', (ctx) => {
  const x = ctx.input(0);
  const w = ctx.input(1);
  if (w.shape.length !== 4) ctx.unsupported(`weights of rank ${w.shape.length} (only 2-D convolution)`);
  const kernel = pair(ctx, 'kernel_shape', ctx.intList('kernel_shape'), 0);
  const k: [number, number] = kernel[0] ? kernel : [staticDim(ctx, w, 2, 'kernel size'), staticDim(ctx, w, 3, 'kernel size')];
  const win = resolveWindow(ctx, x, k);
  const group = ctx.int('group', 1);
  const xh = toNHWC(x);
  const filter = transpose(w, [2, 3, 1, 0]); // OIHW -> HWIO
  let y: SymbolicTensor;
  const inC = x.shape[1];
  if (group === 1) {
    y = conv2d(xh, filter, win.strides, win.pad, 'NHWC', win.dilations);
  } else if (inC !== null && group === inC && w.shape[1] === 1) {
    // Depthwise: output channel c * mult + j comes from input channel c, as in ONNX.
    const m = staticDim(ctx, w, 0, 'a depthwise Conv');
    const f = transpose(reshape(w, [group, m / group, k[0], k[1]]), [2, 3, 0, 1]);
    y = depthwiseConv2d(xh, f, win.strides, win.pad, 'NHWC', win.dilations);
  } else {
    const xs = split(xh, group, 3);
    const fs = split(filter, group, 3);
    y = concat(xs.map((xi, i) => conv2d(xi, fs[i]!, win.strides, win.pad, 'NHWC', win.dilations)), 3);
  }
  if (ctx.has(2)) y = add(y, ctx.input(2));
  return [toNCHW(y)];
});

/** Dilates a HWOI filter along dim `axis` (0 or 1) by inserting d - 1 zeros between taps. */
function dilateFilter(f: SymbolicTensor, axis: 0 | 1, d: number): SymbolicTensor {
  if (d === 1) return f;
  const k = f.shape[axis] as number;
  const paddings: [number, number][] = [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]];
  paddings[axis + 1] = [0, d - 1];
  const padded = pad(expandDims(f, axis + 1), paddings);
  const shape = (f.shape as number[]).map((s, i) => (i === axis ? s * d : s));
  const begin = [0, 0, 0, 0];
  const size = [-1, -1, -1, -1];
  size[axis] = (k - 1) * d + 1;
  return slice(reshape(padded, shape), begin, size);
}

register('ConvTranspose', (ctx) => {
  const x = ctx.input(0);
  const w = ctx.input(1);
  if (x.shape.length !== 4 || w.shape.length !== 4) ctx.unsupported('only 2-D (rank-4) ConvTranspose');
  const wShape = ctx.staticShape(1, 'ConvTranspose');
  const inHW = [2, 3].map((a) => staticDim(ctx, x, a, 'ConvTranspose'));
  const group = ctx.int('group', 1);
  const kernel = pair(ctx, 'kernel_shape', ctx.intList('kernel_shape'), 0);
  const k = kernel[0] ? kernel : ([wShape[2]!, wShape[3]!] as [number, number]);
  const strides = pair(ctx, 'strides', ctx.intList('strides'), 1);
  const dil = pair(ctx, 'dilations', ctx.intList('dilations'), 1);
  const outPad = pair(ctx, 'output_padding', ctx.intList('output_padding'), 0);
  const outShapeAttr = ctx.intList('output_shape');
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  const effK = [0, 1].map((i) => (k[i]! - 1) * dil[i]! + 1);
  const full = [0, 1].map((i) => strides[i]! * (inHW[i]! - 1) + effK[i]!); // no padding, no output_padding
  const total = [0, 1].map((i) => full[i]! + outPad[i]!);
  let padsBegin: number[];
  let outHW: number[];
  if (outShapeAttr || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const target = outShapeAttr ? outShapeAttr.slice(-2) : [0, 1].map((i) => inHW[i]! * strides[i]!);
    const totalPad = [0, 1].map((i) => total[i]! - target[i]!);
    padsBegin = totalPad.map((t) => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : t - Math.floor(t / 2)));
    outHW = target;
  } else if (autoPad === 'NOTSET' || autoPad === 'VALID') {
    const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : (ctx.intList('pads') ?? [0, 0, 0, 0]);
    padsBegin = [pads[0]!, pads[1]!];
    outHW = [0, 1].map((i) => total[i]! - pads[i]! - pads[i + 2]!);
  } else {
    return ctx.unsupported(`auto_pad '${autoPad}'`);
  }
  if (padsBegin.some((p) => p < 0)) ctx.unsupported('negative padding');
  const mPer = wShape[1]!;
  const xh = toNHWC(x);
  // ONNX W is [C, M/group, kh, kw]; Kiln's conv2dTranspose filter is [kh, kw, out, in].
  let filter = transpose(w, [2, 3, 1, 0]);
  filter = dilateFilter(dilateFilter(filter, 0, dil[0]!), 1, dil[1]!);
  const run = (xi: SymbolicTensor, fi: SymbolicTensor): SymbolicTensor =>
    conv2dTranspose(xi, fi, [x.shape[0]!, full[0]!, full[1]!, mPer], strides, 'valid');
  let y: SymbolicTensor;
  if (group === 1) y = run(xh, filter);
  else {
    const xs = split(xh, group, 3);
    const fs = split(filter, group, 3);
    y = concat(xs.map((xi, i) => run(xi, fs[i]!)), 3);
  }
  // Crop the padding away (and add output_padding rows, which receive no contribution).
  const extra = [0, 1].map((i) => Math.max(padsBegin[i]! + outHW[i]! - full[i]!, 0));
  if (extra[0]! > 0 || extra[1]! > 0) y = pad(y, [[0, 0], [0, extra[0]!], [0, extra[1]!], [0, 0]]);
  y = slice(y, [0, padsBegin[0]!, padsBegin[1]!, 0], [-1, outHW[0]!, outHW[1]!, -1]);
  if (ctx.has(2)) y = add(y, ctx.input(2));
  return [toNCHW(y)];
});

function definePool(op: 'MaxPool' | 'AveragePool'): void {
  register(op, (ctx) => {
    const x = ctx.input(0);
    if (op === 'MaxPool' && ctx.wantsOutput(1)) ctx.unsupported('the Indices output (argmax) of MaxPool');
    if (op === 'MaxPool' && ctx.int('storage_order', 0) !== 0 && ctx.wantsOutput(1)) ctx.unsupported('storage_order=1');
    const k = pair(ctx, 'kernel_shape', ctx.intList('kernel_shape'), 0);
    if (!k[0]) throw new KilnError('INVALID_ATTR', `${ctx.what}: missing kernel_shape`);
    const win = resolveWindow(ctx, x, k);
    const ceil = ctx.int('ceil_mode', 0) === 1;
    const rounding = ceil ? 'ceil' : undefined;
    const xh = toNHWC(x);
    const y =
      op === 'MaxPool'
        ? maxPool(xh, k, win.strides, win.pad, rounding, { dilations: win.dilations })
        : avgPool(xh, k, win.strides, win.pad, rounding, {
            dilations: win.dilations,
            countIncludePad: ctx.int('count_include_pad', 0) === 1,
          });
    return [toNCHW(y)];
  });
}
definePool('MaxPool');
definePool('AveragePool');

function spatialAxes(x: SymbolicTensor): number[] {
  return [...Array(x.shape.length).keys()].slice(2);
}
register('GlobalAveragePool', (ctx) => [mean(ctx.input(0), spatialAxes(ctx.input(0)), true)]);
register('GlobalMaxPool', (ctx) => [max(ctx.input(0), spatialAxes(ctx.input(0)), true)]);

register(
  'BatchNormalization',
  (ctx) => {
    const x = ctx.input(0);
    if (ctx.int('training_mode', 0) === 1) ctx.unsupported('training_mode=1 (Kiln imports inference graphs)');
    if (ctx.opset < 9 && ctx.int('spatial', 1) !== 1) ctx.unsupported('spatial=0');
    for (let i = 1; i < ctx.node.outputs.length; i++) if (ctx.wantsOutput(i)) ctx.unsupported(`training output ${i}`);
    const r = x.shape.length;
    const perChannel = (t: SymbolicTensor): SymbolicTensor =>
      t.shape.length === 1 && r > 2 ? reshape(t, [t.shape[0] ?? -1, ...new Array<number>(r - 2).fill(1)]) : t;
    const [scale, bias, m, v] = [1, 2, 3, 4].map((i) => perChannel(ctx.input(i)));
    return [batchNorm(x, m!, v!, bias, scale, ctx.float('epsilon', 1e-5))];
  },
);

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
