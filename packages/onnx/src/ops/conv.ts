/**
 * ONNX Conv and ConvTranspose (1-D and 2-D): NCHW inputs and OIHW weights are transposed to
 * Kiln's NHWC / HWIO, groups become depthwiseConv2d (group = channels) or per-group convs
 * joined by concat, and ConvTranspose is Kiln's conv2dTranspose with 'valid' padding followed
 * by a crop (pads) and zero rows (output_padding); its dilations dilate the filter.
 */
import { type SymbolicTensor, add, concat, conv2d, conv2dTranspose, depthwiseConv2d, expandDims, pad, reshape, slice, split, transpose } from '@kiln/graph';
import { register } from '../registry.js';
import { staticDim, toNCHW, toNHWC } from './util.js';
import { Spatial, resolveWindow } from './window.js';

register('Conv', (ctx) => {
  const sp = new Spatial(ctx, ctx.input(0).shape.length);
  const x = sp.lift(ctx.input(0));
  const w = sp.lift(ctx.input(1));
  if (w.shape.length !== 4) ctx.unsupported(`weights of rank ${ctx.input(1).shape.length} for input of rank ${ctx.input(0).shape.length}`);
  const kernel = sp.pair('kernel_shape', 1, 0);
  const k: [number, number] = kernel[1] ? kernel : [staticDim(ctx, w, 2, 'kernel size'), staticDim(ctx, w, 3, 'kernel size')];
  const win = resolveWindow(ctx, sp, x, k);
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
    y = concat(
      xs.map((xi, i) => conv2d(xi, fs[i]!, win.strides, win.pad, 'NHWC', win.dilations)),
      3,
    );
  }
  if (ctx.has(2)) y = add(y, ctx.input(2));
  return [sp.lower(toNCHW(y))];
});

/** Dilates a [kh, kw, O, I] filter along dim `axis` (0 or 1) by inserting d - 1 zeros between taps. */
function dilateFilter(f: SymbolicTensor, axis: 0 | 1, d: number): SymbolicTensor {
  if (d === 1) return f;
  const k = f.shape[axis] as number;
  const paddings: [number, number][] = [
    [0, 0],
    [0, 0],
    [0, 0],
    [0, 0],
    [0, 0],
  ];
  paddings[axis + 1] = [0, d - 1];
  const padded = pad(expandDims(f, axis + 1), paddings);
  const shape = (f.shape as number[]).map((s, i) => (i === axis ? s * d : s));
  const size = [-1, -1, -1, -1];
  size[axis] = (k - 1) * d + 1;
  return slice(reshape(padded, shape), [0, 0, 0, 0], size);
}

register('ConvTranspose', (ctx) => {
  const sp = new Spatial(ctx, ctx.input(0).shape.length);
  const x = sp.lift(ctx.input(0));
  const w = sp.lift(ctx.input(1));
  if (w.shape.length !== 4) ctx.unsupported(`weights of rank ${ctx.input(1).shape.length} for input of rank ${ctx.input(0).shape.length}`);
  const wShape = [0, 1, 2, 3].map((a) => staticDim(ctx, w, a, 'ConvTranspose weights'));
  const inHW = [2, 3].map((a) => staticDim(ctx, x, a, 'ConvTranspose'));
  const group = ctx.int('group', 1);
  const kernel = sp.pair('kernel_shape', 1, 0);
  const k = kernel[1] ? kernel : [wShape[2]!, wShape[3]!];
  const strides = sp.pair('strides', 1, 1);
  const dil = sp.pair('dilations', 1, 1);
  const outPad = sp.pair('output_padding', 0, 0);
  const outShapeAttr = sp.outputShape();
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  const effK = [0, 1].map((i) => (k[i]! - 1) * dil[i]! + 1);
  const full = [0, 1].map((i) => strides[i]! * (inHW[i]! - 1) + effK[i]!); // no padding, no output_padding
  const total = [0, 1].map((i) => full[i]! + outPad[i]!);
  let padsBegin: number[];
  let outHW: number[];
  if (outShapeAttr || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const target = outShapeAttr ?? [0, 1].map((i) => inHW[i]! * strides[i]!);
    const totalPad = [0, 1].map((i) => total[i]! - target[i]!);
    padsBegin = totalPad.map((t) => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : t - Math.floor(t / 2)));
    outHW = target;
  } else if (autoPad === 'NOTSET' || autoPad === 'VALID') {
    const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : (sp.pads() ?? [0, 0, 0, 0]);
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
  const run = (xi: SymbolicTensor, fi: SymbolicTensor): SymbolicTensor => conv2dTranspose(xi, fi, [x.shape[0]!, full[0]!, full[1]!, mPer], strides, 'valid');
  let y: SymbolicTensor;
  if (group === 1) y = run(xh, filter);
  else {
    const xs = split(xh, group, 3);
    const fs = split(filter, group, 3);
    y = concat(
      xs.map((xi, i) => run(xi, fs[i]!)),
      3,
    );
  }
  // Crop the padding away (and add output_padding rows, which receive no contribution).
  const extra = [0, 1].map((i) => Math.max(padsBegin[i]! + outHW[i]! - full[i]!, 0));
  if (extra[0]! > 0 || extra[1]! > 0)
    y = pad(y, [
      [0, 0],
      [0, extra[0]!],
      [0, extra[1]!],
      [0, 0],
    ]);
  y = slice(y, [0, padsBegin[0]!, padsBegin[1]!, 0], [-1, outHW[0]!, outHW[1]!, -1]);
  if (ctx.has(2)) y = add(y, ctx.input(2));
  return [sp.lower(toNCHW(y))];
});
