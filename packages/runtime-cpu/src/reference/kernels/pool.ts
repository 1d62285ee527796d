/**
 * Reference kernels: pool family (NHWC). forEachWindow lists, for each output pixel, the input
 * pixels its window covers (taps outside the input skipped) and how many taps lie inside the
 * padded input (the divisor of avgPool with countIncludePad). maxPool takes the first maximum
 * in row-major window order (so maxPoolGrad routes dy there, as TensorFlow does). A window
 * with no input element (possible only with dilations) yields 0. Sums in float64.
 */
import { type Attrs, type Geometry2D, KilnError, Tensor, fmtShape, geometry2D } from '@kiln/graph';
import { type RefContext, registerRefKernel } from '../registry.js';

interface Window {
  /** Output pixel index (n, oh, ow) flattened, to be multiplied by the channel count. */
  out: number;
  /** Flattened input pixel indices (n, ih, iw) the window covers, in row-major window order. */
  pixels: number[];
  /** Taps inside the padded input. */
  padded: number;
}

function forEachWindow(g: Geometry2D, visit: (w: Window) => void): void {
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        const pixels: number[] = [];
        let padded = 0;
        for (let kh = 0; kh < g.kH; kh++) {
          const ih = oh * g.strideH + kh * g.dilationH - g.padTop;
          for (let kw = 0; kw < g.kW; kw++) {
            const iw = ow * g.strideW + kw * g.dilationW - g.padLeft;
            if (ih >= -g.padTop && ih < g.inH + g.padBottom && iw >= -g.padLeft && iw < g.inW + g.padRight) padded++;
            if (ih >= 0 && ih < g.inH && iw >= 0 && iw < g.inW) pixels.push((n * g.inH + ih) * g.inW + iw);
          }
        }
        visit({ out: (n * g.outH + oh) * g.outW + ow, pixels, padded });
      }
    }
  }
}

function what(ctx: RefContext): string {
  return `${ctx.node.op} '${ctx.node.name}'`;
}

function setup(x: Tensor, attrs: Attrs, ctx: RefContext): { g: Geometry2D; c: number; yShape: number[] } {
  const [kh, kw] = attrs.filterSize as [number, number];
  const g = geometry2D(x.shape, kh, kw, attrs, what(ctx));
  const c = x.shape[3]!;
  return { g, c, yShape: [g.batch, g.outH, g.outW, c] };
}

function checkDy(dy: Tensor, yShape: number[], ctx: RefContext): void {
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== yShape[i])) {
    throw new KilnError('SHAPE_MISMATCH', `${what(ctx)}: dy has shape ${fmtShape(dy.shape)} but the pool output has shape ${fmtShape(yShape)}`);
  }
}

function checkSameShape(t: Tensor, x: Tensor, ctx: RefContext): void {
  if (t.shape.length !== x.shape.length || t.shape.some((d, i) => d !== x.shape[i])) {
    throw new KilnError('SHAPE_MISMATCH', `${what(ctx)}: g has shape ${fmtShape(t.shape)} but x has shape ${fmtShape(x.shape)}`);
  }
}

/** Index into x of the first maximum of window `w` in channel `ch`, or -1 for an empty window. */
function argMaxIn(x: Tensor, w: Window, c: number, ch: number): number {
  let best = -1;
  for (const p of w.pixels) {
    const i = p * c + ch;
    if (best < 0 || x.data[i]! > x.data[best]! || (Number.isNaN(x.data[i]!) && !Number.isNaN(x.data[best]!))) best = i;
  }
  return best;
}

function divisor(w: Window, attrs: Attrs): number {
  return attrs.countIncludePad ? w.padded : w.pixels.length;
}

registerRefKernel('maxPool', ([x], attrs, ctx) => {
  const { g, c, yShape } = setup(x!, attrs, ctx);
  const y = new Float32Array(yShape.reduce((a, b) => a * b, 1));
  forEachWindow(g, (w) => {
    for (let ch = 0; ch < c; ch++) {
      const i = argMaxIn(x!, w, c, ch);
      y[w.out * c + ch] = i < 0 ? 0 : x!.data[i]!;
    }
  });
  return [new Tensor('float32', yShape, y)];
});

registerRefKernel('avgPool', ([x], attrs, ctx) => {
  const { g, c, yShape } = setup(x!, attrs, ctx);
  const y = new Float32Array(yShape.reduce((a, b) => a * b, 1));
  forEachWindow(g, (w) => {
    const count = divisor(w, attrs);
    for (let ch = 0; ch < c; ch++) {
      let sum = 0;
      for (const p of w.pixels) sum += x!.data[p * c + ch]!;
      y[w.out * c + ch] = count > 0 ? sum / count : 0;
    }
  });
  return [new Tensor('float32', yShape, y)];
});

registerRefKernel('maxPoolGrad', ([x, dy], attrs, ctx) => {
  const { g, c, yShape } = setup(x!, attrs, ctx);
  checkDy(dy!, yShape, ctx);
  const dx = new Float64Array(x!.size);
  forEachWindow(g, (w) => {
    for (let ch = 0; ch < c; ch++) {
      const i = argMaxIn(x!, w, c, ch);
      if (i >= 0) dx[i]! += dy!.data[w.out * c + ch]!;
    }
  });
  return [new Tensor('float32', x!.shape, Float32Array.from(dx))];
});

registerRefKernel('avgPoolGrad', ([x, dy], attrs, ctx) => {
  const { g, c, yShape } = setup(x!, attrs, ctx);
  checkDy(dy!, yShape, ctx);
  const dx = new Float64Array(x!.size);
  forEachWindow(g, (w) => {
    const count = divisor(w, attrs);
    if (count === 0) return;
    for (let ch = 0; ch < c; ch++) {
      const share = dy!.data[w.out * c + ch]! / count;
      for (const p of w.pixels) dx[p * c + ch]! += share;
    }
  });
  return [new Tensor('float32', x!.shape, Float32Array.from(dx))];
});

registerRefKernel('maxPoolGradGrad', ([x, gIn], attrs, ctx) => {
  const { g, c, yShape } = setup(x!, attrs, ctx);
  checkSameShape(gIn!, x!, ctx);
  const y = new Float32Array(yShape.reduce((a, b) => a * b, 1));
  forEachWindow(g, (w) => {
    for (let ch = 0; ch < c; ch++) {
      const i = argMaxIn(x!, w, c, ch);
      y[w.out * c + ch] = i < 0 ? 0 : gIn!.data[i]!;
    }
  });
  return [new Tensor('float32', yShape, y)];
});
