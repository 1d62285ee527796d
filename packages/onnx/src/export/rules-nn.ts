/**
 * Export rules for linalg, conv, pool and normalization. Kiln is NHWC with HWIO filters;
 * ONNX's Conv and pools are NCHW with OIHW weights, so each windowed op is wrapped in
 * Transposes (ONNX Runtime folds them into its layout choice). Paddings come from Kiln's own
 * window geometry when the spatial dims are known (so 'same', explicit pads and
 * dimRoundingMode all export exactly); with unknown spatial dims 'same' becomes auto_pad
 * SAME_UPPER (TensorFlow's convention: the extra pad goes at the end).
 *
 * The conv gradients map too: the input gradients are ConvTranspose with pads and
 * output_padding chosen so the output has x's size; the filter gradients are a Conv of x
 * (channels as the batch) with dy as the kernel, strides and dilations swapped.
 */
import { type Dim, window1D, normalizeAxes, normalizeAxis } from '@kiln/graph';
import { type OnnxAttrs, attr } from './builder.js';
import { type ExportContext, ExportUnsupported, registerExportRule } from './rule.js';

export const TO_NCHW = attr.ints([0, 3, 1, 2]);
export const TO_NHWC = attr.ints([0, 2, 3, 1]);

export function pair(ctx: ExportContext, name: string): [number, number] {
  const v = ctx.attrs[name] as number[];
  return [v[0]!, v[1]!];
}

/**
 * ONNX pads (or auto_pad) for a window of size k over NHWC input `inShape`. `extended` is
 * true when the end padding had to grow to reproduce a rounded-up output size.
 */
export function windowPads(ctx: ExportContext, inShape: readonly Dim[], k: readonly Dim[]): { attrs: OnnxAttrs; extended: boolean } {
  const strides = pair(ctx, 'strides');
  const dilations = pair(ctx, 'dilations');
  const mode = ctx.attrs.pad as string;
  const spatial = [inShape[1]!, inShape[2]!];
  if (spatial.every((d) => d !== null) && k.every((d) => d !== null)) {
    const begin: number[] = [];
    const end: number[] = [];
    let extended = false;
    for (const side of [0, 1] as const) {
      const inSize = spatial[side] as number;
      const w = window1D(inSize, k[side] as number, strides[side], dilations[side], ctx.attrs, side, ctx.node.name, side ? 'width' : 'height');
      const eff = ((k[side] as number) - 1) * dilations[side] + 1;
      const need = (w.out - 1) * strides[side] + eff - inSize - w.before;
      begin.push(w.before);
      end.push(Math.max(w.after, need));
      if (need > w.after) extended = true;
    }
    return { attrs: { pads: attr.ints([...begin, ...end]) }, extended };
  }
  if (mode === 'same') return { attrs: { auto_pad: attr.string('SAME_UPPER') }, extended: false };
  if (mode === 'valid') return { attrs: { pads: attr.ints([0, 0, 0, 0]) }, extended: false };
  if (ctx.attrs.dimRoundingMode !== 'floor') throw new ExportUnsupported(`dimRoundingMode '${String(ctx.attrs.dimRoundingMode)}' with unknown spatial dims`);
  const p = ctx.attrs.explicitPaddings as number[];
  return { attrs: { pads: attr.ints([p[0]!, p[2]!, p[1]!, p[3]!]) }, extended: false };
}

export function knownPositive(d: Dim | undefined, what: string): number {
  if (d === null || d === undefined) throw new ExportUnsupported(`${what} is unknown`);
  return d;
}

// ---- matMul ----------------------------------------------------------------------------------
registerExportRule('matMul', (ctx) => {
  const operand = (i: number, transpose: boolean): string => {
    if (!transpose) return ctx.in(i);
    const r = ctx.inShape(i).length;
    const perm = [...Array(r).keys()];
    [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
    return ctx.tmp('Transpose', [ctx.in(i)], { perm: attr.ints(perm) });
  };
  ctx.emit('MatMul', [operand(0, ctx.attrs.transposeA as boolean), operand(1, ctx.attrs.transposeB as boolean)]);
});

// ---- forward convolutions ------------------------------------------------------------------
for (const depthwise of [false, true]) {
  registerExportRule(depthwise ? 'depthwiseConv2d' : 'conv2d', (ctx) => {
    const f = ctx.inShape(1);
    const { attrs: pads } = windowPads(ctx, ctx.inShape(0), [f[0]!, f[1]!]);
    let weight: string;
    const extra: OnnxAttrs = {};
    if (depthwise) {
      // [kh, kw, C, M] -> [kh, kw, 1, C*M] -> (C*M, 1, kh, kw), one group per input channel.
      const flat = ctx.tmp('Reshape', [ctx.in(1), ctx.b.int64([0, 0, 1, -1])]);
      weight = ctx.tmp('Transpose', [flat], { perm: attr.ints([3, 2, 0, 1]) });
      extra.group = attr.int(knownPositive(ctx.inShape(0)[3] ?? f[2], 'the channel count'));
    } else {
      weight = ctx.tmp('Transpose', [ctx.in(1)], { perm: attr.ints([3, 2, 0, 1]) });
    }
    const xN = ctx.tmp('Transpose', [ctx.in(0)], { perm: TO_NCHW });
    const y = ctx.tmp('Conv', [xN, weight], { strides: attr.ints(pair(ctx, 'strides')), dilations: attr.ints(pair(ctx, 'dilations')), ...pads, ...extra });
    ctx.emit('Transpose', [y], { perm: TO_NHWC });
  });
}

// ---- transposed convolutions (conv2dTranspose and the input gradients) --------------------
/**
 * ConvTranspose of NHWC `dy` with ONNX weight `weight` (C_in, C_out/group, kh, kw) producing
 * spatial size `outHW`, the forward conv's geometry taken from the node's window attrs.
 */
export function transposedConv(ctx: ExportContext, dy: string, weight: string, outHW: readonly Dim[], k: readonly Dim[], group: number): void {
  const strides = pair(ctx, 'strides');
  const dilations = pair(ctx, 'dilations');
  const begin: number[] = [];
  const end: number[] = [];
  const outputPadding: number[] = [];
  for (const side of [0, 1] as const) {
    const size = knownPositive(outHW[side], `the output ${side ? 'width' : 'height'}`);
    const kk = knownPositive(k[side], `the filter ${side ? 'width' : 'height'}`);
    const w = window1D(size, kk, strides[side], dilations[side], ctx.attrs, side, ctx.node.name, side ? 'width' : 'height');
    const eff = (kk - 1) * dilations[side] + 1;
    const e = strides[side] * (w.out - 1) + eff - w.before - size;
    begin.push(w.before);
    end.push(Math.max(e, 0));
    outputPadding.push(Math.max(-e, 0));
  }
  const dyN = ctx.tmp('Transpose', [dy], { perm: TO_NCHW });
  const y = ctx.tmp('ConvTranspose', [dyN, weight], {
    strides: attr.ints(strides),
    dilations: attr.ints(dilations),
    pads: attr.ints([...begin, ...end]),
    output_padding: attr.ints(outputPadding),
    group: attr.int(group),
  });
  ctx.emit('Transpose', [y], { perm: TO_NHWC });
}

registerExportRule('conv2dTranspose', (ctx) => {
  // filter [kh, kw, O, I] -> (I, O, kh, kw)
  const weight = ctx.tmp('Transpose', [ctx.in(1)], { perm: attr.ints([3, 2, 0, 1]) });
  const os = ctx.attrs.outputShape as Dim[];
  const f = ctx.inShape(1);
  transposedConv(ctx, ctx.in(0), weight, [os[1]!, os[2]!], [f[0]!, f[1]!], 1);
});

registerExportRule('conv2dBackpropInput', (ctx) => {
  // filter [kh, kw, I, O] -> (O, I, kh, kw): dy has O channels, dx has I.
  const weight = ctx.tmp('Transpose', [ctx.in(1)], { perm: attr.ints([3, 2, 0, 1]) });
  const x = ctx.inShape(0);
  const f = ctx.inShape(1);
  transposedConv(ctx, ctx.in(2), weight, [x[1]!, x[2]!], [f[0]!, f[1]!], 1);
});

registerExportRule('depthwiseConv2dBackpropInput', (ctx) => {
  // filter [kh, kw, C, M] -> [kh, kw, C*M, 1] -> (C*M, 1, kh, kw), group C.
  const flat = ctx.tmp('Reshape', [ctx.in(1), ctx.b.int64([0, 0, -1, 1])]);
  const weight = ctx.tmp('Transpose', [flat], { perm: attr.ints([2, 3, 0, 1]) });
  const x = ctx.inShape(0);
  const f = ctx.inShape(1);
  transposedConv(ctx, ctx.in(2), weight, [x[1]!, x[2]!], [f[0]!, f[1]!], knownPositive(f[2], 'the channel count'));
});

// ---- filter gradients -----------------------------------------------------------------------
/**
 * dW[kh, kw, ...] = sum over n, oh, ow of x_padded[n, oh*s + kh*d, ...] * dy[n, oh, ow, ...]:
 * a Conv whose kernel is dy, with stride d and dilation s, sliced to the filter size.
 * Returns the ONNX Conv attrs and the filter's spatial size.
 */
function filterGradGeometry(ctx: ExportContext): { attrs: OnnxAttrs; k: [number, number] } {
  const x = ctx.inShape(0);
  const f = ctx.inShape(1);
  const strides = pair(ctx, 'strides');
  const dilations = pair(ctx, 'dilations');
  const begin: number[] = [];
  const end: number[] = [];
  const k: number[] = [];
  for (const side of [0, 1] as const) {
    const size = knownPositive(x[1 + side], `the input ${side ? 'width' : 'height'}`);
    const kk = knownPositive(f[side], `the filter ${side ? 'width' : 'height'}`);
    const w = window1D(size, kk, strides[side], dilations[side], ctx.attrs, side, ctx.node.name, side ? 'width' : 'height');
    begin.push(w.before);
    end.push(Math.max(0, (kk - 1) * dilations[side] + (w.out - 1) * strides[side] + 1 - size - w.before));
    k.push(kk);
  }
  return { attrs: { strides: attr.ints(dilations), dilations: attr.ints(strides), pads: attr.ints([...begin, ...end]) }, k: [k[0]!, k[1]!] };
}

registerExportRule('conv2dBackpropFilter', (ctx) => {
  const { attrs, k } = filterGradGeometry(ctx);
  const xT = ctx.tmp('Transpose', [ctx.in(0)], { perm: attr.ints([3, 0, 1, 2]) }); // (Ci, N, H, W)
  const dyT = ctx.tmp('Transpose', [ctx.in(2)], { perm: attr.ints([3, 0, 1, 2]) }); // (Co, N, OH, OW)
  const full = ctx.tmp('Conv', [xT, dyT], attrs); // (Ci, Co, >=kh, >=kw)
  const cut = ctx.tmp('Slice', [full, ctx.b.int64([0, 0]), ctx.b.int64(k), ctx.b.int64([2, 3])]);
  ctx.emit('Transpose', [cut], { perm: attr.ints([2, 3, 0, 1]) });
});

registerExportRule('depthwiseConv2dBackpropFilter', (ctx) => {
  const { attrs, k } = filterGradGeometry(ctx);
  const f = ctx.inShape(1);
  const c = knownPositive(f[2], 'the channel count');
  const m = knownPositive(f[3], 'the channel multiplier');
  const x = ctx.inShape(0);
  // x -> (C, N, H, W) -> (1, C*N, H, W): group c sees every image's channel c.
  const xT = ctx.tmp('Transpose', [ctx.in(0)], { perm: attr.ints([3, 0, 1, 2]) });
  const xG = ctx.tmp('Reshape', [xT, ctx.b.int64([1, -1, x[1] as number, x[2] as number])]);
  const dyT = ctx.tmp('Transpose', [ctx.in(2)], { perm: attr.ints([3, 0, 1, 2]) }); // (C*M, N, OH, OW)
  const full = ctx.tmp('Conv', [xG, dyT], { ...attrs, group: attr.int(c) }); // (1, C*M, >=kh, >=kw)
  const cut = ctx.tmp('Slice', [full, ctx.b.int64([0, 0]), ctx.b.int64(k), ctx.b.int64([2, 3])]);
  const split = ctx.tmp('Reshape', [cut, ctx.b.int64([c, m, k[0], k[1]])]);
  ctx.emit('Transpose', [split], { perm: attr.ints([2, 3, 0, 1]) });
});

// ---- pooling -------------------------------------------------------------------------------
for (const [op, onnx] of [
  ['maxPool', 'MaxPool'],
  ['avgPool', 'AveragePool'],
] as const) {
  registerExportRule(op, (ctx) => {
    const k = pair(ctx, 'filterSize');
    const { attrs: pads, extended } = windowPads(ctx, ctx.inShape(0), k);
    const extra: OnnxAttrs = {};
    if (op === 'avgPool') {
      if (pair(ctx, 'dilations').some((d) => d !== 1)) throw new ExportUnsupported('avgPool with dilations (AveragePool has none before opset 19)');
      if (ctx.attrs.countIncludePad && extended)
        throw new ExportUnsupported(`avgPool with countIncludePad and dimRoundingMode '${String(ctx.attrs.dimRoundingMode)}'`);
      extra.count_include_pad = attr.int(ctx.attrs.countIncludePad ? 1 : 0);
    } else {
      extra.dilations = attr.ints(pair(ctx, 'dilations'));
    }
    const xN = ctx.tmp('Transpose', [ctx.in(0)], { perm: TO_NCHW });
    const y = ctx.tmp(onnx, [xN], { kernel_shape: attr.ints(k), strides: attr.ints(pair(ctx, 'strides')), ...pads, ...extra });
    ctx.emit('Transpose', [y], { perm: TO_NHWC });
  });
}

// ---- normalization ---------------------------------------------------------------------------
registerExportRule('softmax', (ctx) =>
  ctx.emit('Softmax', [ctx.in(0)], { axis: attr.int(normalizeAxis(ctx.attrs.dim as number, ctx.inShape(0).length, ctx.node.name)) }),
);
registerExportRule('logSoftmax', (ctx) =>
  ctx.emit('LogSoftmax', [ctx.in(0)], { axis: attr.int(normalizeAxis(ctx.attrs.axis as number, ctx.inShape(0).length, ctx.node.name)) }),
);

/** (d) * 1/sqrt(v + eps) * scale + offset, written to the node's output. */
function normalizeTail(ctx: ExportContext, d: string, variance: string, eps: number, scale: string, offset: string): void {
  const inv = ctx.tmp('Reciprocal', [ctx.tmp('Sqrt', [ctx.tmp('Add', [variance, ctx.b.scalar(eps, 'float32', 'epsilon')])])]);
  ctx.emit('Add', [ctx.tmp('Mul', [ctx.tmp('Mul', [d, inv]), scale]), offset]);
}

registerExportRule('batchNorm', (ctx) => {
  // ONNX BatchNormalization wants NCHW and per-channel vectors; Kiln's broadcasts any operand.
  const d = ctx.tmp('Sub', [ctx.in(0), ctx.in(1)]);
  normalizeTail(ctx, d, ctx.in(2), ctx.attrs.varianceEpsilon as number, ctx.in(4), ctx.in(3));
});

registerExportRule('layerNorm', (ctx) => {
  const axes = attr.ints(normalizeAxes(ctx.attrs.axes as number[], ctx.inShape(0).length, ctx.node.name));
  const mean = ctx.tmp('ReduceMean', [ctx.in(0)], { axes, keepdims: attr.int(1) });
  const d = ctx.tmp('Sub', [ctx.in(0), mean]);
  const variance = ctx.tmp('ReduceMean', [ctx.tmp('Mul', [d, d])], { axes, keepdims: attr.int(1) });
  normalizeTail(ctx, d, variance, ctx.attrs.epsilon as number, ctx.in(1), ctx.in(2));
});
