/**
 * Reference kernels: conv family (NHWC, HWIO). Every conv op is the same sum of products
 * x[n, oh*s + kh*d - pad, ow*s + kw*d - pad, c] * filter[kh, kw, c, o] -> y[n, oh, ow, o];
 * forEachProduct enumerates those (x, filter, y) index triples once, and each kernel is one
 * line over it: the forward conv accumulates into y, the input gradient into x, the filter
 * gradient into the filter. Sums accumulate in float64.
 */
import { type Attrs, type Geometry2D, KilnError, Tensor, fmtShape, geometry2D } from '@kiln/graph';
import { type RefContext, registerRefKernel } from '../registry.js';

/** Channel layout of the filter: dense conv [kh,kw,C,O] or depthwise [kh,kw,C,M] (output c*M+m). */
interface Channels {
  inC: number;
  /** O for a dense conv, the multiplier M for a depthwise one. */
  f3: number;
  depthwise: boolean;
}

function outChannels(ch: Channels): number {
  return ch.depthwise ? ch.inC * ch.f3 : ch.f3;
}

/** Calls visit(xi, fi, yi) for every product x[xi] * filter[fi] that contributes to y[yi]. */
function forEachProduct(g: Geometry2D, ch: Channels, visit: (xi: number, fi: number, yi: number) => void): void {
  const { inC, f3 } = ch;
  const outC = outChannels(ch);
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        const yBase = ((n * g.outH + oh) * g.outW + ow) * outC;
        for (let kh = 0; kh < g.kH; kh++) {
          const ih = oh * g.strideH + kh * g.dilationH - g.padTop;
          if (ih < 0 || ih >= g.inH) continue;
          for (let kw = 0; kw < g.kW; kw++) {
            const iw = ow * g.strideW + kw * g.dilationW - g.padLeft;
            if (iw < 0 || iw >= g.inW) continue;
            const xBase = ((n * g.inH + ih) * g.inW + iw) * inC;
            const fBase = (kh * g.kW + kw) * inC * f3;
            for (let c = 0; c < inC; c++) {
              for (let o = 0; o < f3; o++) {
                const yo = ch.depthwise ? c * f3 + o : o;
                visit(xBase + c, fBase + c * f3 + o, yBase + yo);
              }
            }
          }
        }
      }
    }
  }
}

function what(ctx: RefContext): string {
  return `${ctx.node.op} '${ctx.node.name}'`;
}

/** Geometry of conv(xShape, filter), checking the run-time channel count (inference may have had nulls). */
function convSetup(xShape: number[], f: Tensor, attrs: Attrs, ctx: RefContext, depthwise: boolean): { g: Geometry2D; ch: Channels; yShape: number[] } {
  if (xShape[3] !== f.shape[2]) {
    throw new KilnError(
      'SHAPE_MISMATCH',
      `${what(ctx)}: filter has ${f.shape[2]} input channels but x has ${xShape[3]} (x: ${fmtShape(xShape)}, filter: ${fmtShape(f.shape)})`,
    );
  }
  const g = geometry2D(xShape, f.shape[0]!, f.shape[1]!, attrs, what(ctx));
  const ch: Channels = { inC: xShape[3]!, f3: f.shape[3]!, depthwise };
  return { g, ch, yShape: [g.batch, g.outH, g.outW, outChannels(ch)] };
}

function checkDyShape(dy: Tensor, yShape: number[], ctx: RefContext): void {
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== yShape[i])) {
    throw new KilnError('SHAPE_MISMATCH', `${what(ctx)}: dy has shape ${fmtShape(dy.shape)} but the forward output has shape ${fmtShape(yShape)}`);
  }
}

function toFloat32(shape: number[], acc: Float64Array): Tensor {
  return new Tensor('float32', shape, Float32Array.from(acc));
}

function convForward(x: Tensor, f: Tensor, attrs: Attrs, ctx: RefContext, depthwise: boolean): Tensor {
  const { g, ch, yShape } = convSetup(x.shape, f, attrs, ctx, depthwise);
  const y = new Float64Array(yShape.reduce((a, b) => a * b, 1));
  forEachProduct(g, ch, (xi, fi, yi) => (y[yi]! += x.data[xi]! * f.data[fi]!));
  return toFloat32(yShape, y);
}

/** The gradient w.r.t. an input of shape xShape: dx[xi] += dy[yi] * f[fi]. */
function convBackpropInput(xShape: number[], f: Tensor, dy: Tensor, attrs: Attrs, ctx: RefContext, depthwise: boolean): Tensor {
  const { g, ch, yShape } = convSetup(xShape, f, attrs, ctx, depthwise);
  checkDyShape(dy, yShape, ctx);
  const dx = new Float64Array(xShape.reduce((a, b) => a * b, 1));
  forEachProduct(g, ch, (xi, fi, yi) => (dx[xi]! += dy.data[yi]! * f.data[fi]!));
  return toFloat32(xShape, dx);
}

function convBackpropFilter(x: Tensor, f: Tensor, dy: Tensor, attrs: Attrs, ctx: RefContext, depthwise: boolean): Tensor {
  const { g, ch, yShape } = convSetup(x.shape, f, attrs, ctx, depthwise);
  checkDyShape(dy, yShape, ctx);
  const df = new Float64Array(f.size);
  forEachProduct(g, ch, (xi, fi, yi) => (df[fi]! += x.data[xi]! * dy.data[yi]!));
  return toFloat32(f.shape, df);
}

for (const depthwise of [false, true]) {
  const base = depthwise ? 'depthwiseConv2d' : 'conv2d';
  registerRefKernel(base, ([x, f], attrs, ctx) => [convForward(x!, f!, attrs, ctx, depthwise)]);
  registerRefKernel(`${base}BackpropInput`, ([x, f, dy], attrs, ctx) => [convBackpropInput(x!.shape, f!, dy!, attrs, ctx, depthwise)]);
  registerRefKernel(`${base}BackpropFilter`, ([x, f, dy], attrs, ctx) => [convBackpropFilter(x!, f!, dy!, attrs, ctx, depthwise)]);
}

// conv2dTranspose(x, filter [kh,kw,O,I], outputShape) is the input gradient of a conv2d from
// outputShape to x's shape, with x in the role of dy.
registerRefKernel('conv2dTranspose', ([x, f], attrs, ctx) => {
  const os = attrs.outputShape as (number | null)[];
  const batch = os[0] ?? x!.shape[0]!;
  if (batch !== x!.shape[0]) {
    throw new KilnError('SHAPE_MISMATCH', `${what(ctx)}: outputShape batch ${batch} differs from x batch ${x!.shape[0]}`);
  }
  return [convBackpropInput([batch, os[1]!, os[2]!, os[3]!], f!, x!, attrs, ctx, false)];
});
