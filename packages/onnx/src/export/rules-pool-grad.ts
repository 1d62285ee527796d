/**
 * Export rules for the pooling gradients. maxPoolGrad routes dy to each window's first
 * maximum: ONNX MaxPool's Indices output (flat positions in the NCHW input, first maximum in
 * row-major window order, as Kiln) drives a ScatterElements 'add' into zeros; maxPoolGradGrad
 * gathers g at the same positions. avgPoolGrad spreads dy / (taps counted by avgPool) over
 * each window: a ConvTranspose with an all-ones kernel per channel, the per-window divisors
 * computed at export time from Kiln's window geometry.
 */
import { Tensor, window1D } from '@kiln/graph';
import { type OnnxAttrs, attr } from './builder.js';
import { TO_NCHW, TO_NHWC, knownPositive, pair, transposedConv, windowPads } from './rules-nn.js';
import { type ExportContext, registerExportRule } from './rule.js';

/** MaxPool over NCHW x with the node's window; returns [xN, indices]. */
function maxPoolIndices(ctx: ExportContext): [string, string] {
  const k = pair(ctx, 'filterSize');
  const { attrs: pads } = windowPads(ctx, ctx.inShape(0), k);
  const xN = ctx.tmp('Transpose', [ctx.in(0)], { perm: TO_NCHW });
  const y = ctx.b.fresh(`${ctx.node.name}/MaxPool`);
  const idx = ctx.b.fresh(`${ctx.node.name}/MaxPool_indices`);
  const attrs: OnnxAttrs = { kernel_shape: attr.ints(k), strides: attr.ints(pair(ctx, 'strides')), dilations: attr.ints(pair(ctx, 'dilations')), ...pads };
  ctx.b.node('MaxPool', [xN], [y, idx], attrs, ctx.b.fresh(`${ctx.node.name}/MaxPool_node`));
  return [xN, idx];
}

const FLAT = (ctx: ExportContext) => ctx.b.int64([-1]);

registerExportRule('maxPoolGrad', (ctx) => {
  const [xN, idx] = maxPoolIndices(ctx);
  const flatX = ctx.tmp('Reshape', [xN, FLAT(ctx)]);
  const zeros = ctx.tmp('Expand', [ctx.b.scalar(0, 'float32', 'zero'), ctx.tmp('Shape', [flatX])]);
  const dy = ctx.tmp('Reshape', [ctx.tmp('Transpose', [ctx.in(1)], { perm: TO_NCHW }), FLAT(ctx)]);
  const dx = ctx.tmp('ScatterElements', [zeros, ctx.tmp('Reshape', [idx, FLAT(ctx)]), dy], { axis: attr.int(0), reduction: attr.string('add') });
  ctx.emit('Transpose', [ctx.tmp('Reshape', [dx, ctx.tmp('Shape', [xN])])], { perm: TO_NHWC });
});

registerExportRule('maxPoolGradGrad', (ctx) => {
  const [, idx] = maxPoolIndices(ctx);
  const g = ctx.tmp('Reshape', [ctx.tmp('Transpose', [ctx.in(1)], { perm: TO_NCHW }), FLAT(ctx)]);
  const picked = ctx.tmp('GatherElements', [g, ctx.tmp('Reshape', [idx, FLAT(ctx)])], { axis: attr.int(0) });
  ctx.emit('Transpose', [ctx.tmp('Reshape', [picked, ctx.tmp('Shape', [idx])])], { perm: TO_NHWC });
});

/** avgPool's divisor along one spatial dim: taps inside the input (or the padded input). */
function tapCounts(ctx: ExportContext, side: 0 | 1, inSize: number, k: number): number[] {
  const stride = pair(ctx, 'strides')[side];
  const dilation = pair(ctx, 'dilations')[side];
  const w = window1D(inSize, k, stride, dilation, ctx.attrs, side, ctx.node.name, side ? 'width' : 'height');
  const counts: number[] = [];
  for (let o = 0; o < w.out; o++) {
    let n = 0;
    for (let t = 0; t < k; t++) {
      const pos = o * stride - w.before + t * dilation;
      if (ctx.attrs.countIncludePad ? pos >= -w.before && pos < inSize + w.after : pos >= 0 && pos < inSize) n++;
    }
    counts.push(n);
  }
  return counts;
}

registerExportRule('avgPoolGrad', (ctx) => {
  const x = ctx.inShape(0);
  const [kh, kw] = pair(ctx, 'filterSize');
  const h = knownPositive(x[1], 'the input height');
  const w = knownPositive(x[2], 'the input width');
  const c = knownPositive(x[3] ?? ctx.inShape(1)[3], 'the channel count');
  const rows = tapCounts(ctx, 0, h, kh);
  const cols = tapCounts(ctx, 1, w, kw);
  const inv = new Tensor('float32', [1, rows.length, cols.length, 1]);
  rows.forEach((r, i) => cols.forEach((q, j) => (inv.data[i * cols.length + j] = r * q > 0 ? 1 / (r * q) : 0)));
  const scaled = ctx.tmp('Mul', [ctx.in(1), ctx.b.tensor(ctx.b.fresh(`${ctx.node.name}/inverse_counts`), inv)]);
  const ones = new Tensor('float32', [c, 1, kh, kw]);
  ones.data.fill(1);
  transposedConv(ctx, scaled, ctx.b.tensor(ctx.b.fresh(`${ctx.node.name}/ones`), ones), [h, w], [kh, kw], c);
});
