/**
 * depthwiseConv2d (NHWC input x [n,h,w,C], filter [kh,kw,C,M], output [n,oh,ow,C*M] with
 * channel c*M+m) and its two gradients as direct loops over float32 views of engine.memory.
 * The op is memory-bound, so each output pixel walks only the in-bounds taps, with the
 * channel loop innermost over contiguous data (M = 1, the common case, has its own loop).
 * The forward conv and the input gradient accumulate in float32 (short sums of kh*kw terms);
 * the filter gradient (long sums over n*oh*ow) accumulates in float64.
 */
import { KilnError, fmtShape } from '@kiln/graph';
import type { GemmEngine } from './gemm-engine.js';

type Shape4 = [number, number, number, number];
type Pair = [number, number];

interface Window {
  strides: Pair;
  dilations: Pair;
  /** Explicit padding (the caller resolves 'same'/'valid' with geometry2D). */
  padTop: number;
  padLeft: number;
}

export interface DepthwiseConv2dParams extends Window {
  /** Byte offsets into engine.memory of x (NHWC), filter [kh,kw,C,M] and out [n,oh,ow,C*M] (overwritten). */
  x: number;
  xShape: Shape4;
  filter: number;
  filterShape: Shape4;
  out: number;
  outShape: Shape4;
}

export interface DepthwiseBackpropInputParams extends Window {
  dy: number;
  dyShape: Shape4;
  filter: number;
  filterShape: Shape4;
  /** The input gradient [n,h,w,C] (overwritten). */
  dx: number;
  xShape: Shape4;
}

export interface DepthwiseBackpropFilterParams extends Window {
  x: number;
  xShape: Shape4;
  dy: number;
  dyShape: Shape4;
  /** The filter gradient [kh,kw,C,M] (overwritten). */
  dFilter: number;
  filterShape: Shape4;
}

const size = (s: Shape4): number => s[0] * s[1] * s[2] * s[3];

function check(what: string, x: Shape4, f: Shape4, y: Shape4, g: Window): void {
  const fail = (msg: string): never => {
    throw new KilnError('INVALID_ARGUMENT', `${what}: ${msg} (x ${fmtShape(x)}, filter ${fmtShape(f)}, y ${fmtShape(y)})`);
  };
  for (const [name, s] of [['x', x], ['filter', f], ['y', y]] as const) {
    if (s.length !== 4 || !s.every((d) => Number.isInteger(d) && d >= 0)) fail(`${name} shape must be 4 non-negative integers`);
  }
  if (x[3] !== f[2]) fail(`input channels ${x[3]} != filter channels ${f[2]}`);
  if (y[3] !== f[2] * f[3]) fail(`output channels ${y[3]} != channels * multiplier ${f[2] * f[3]}`);
  if (y[0] !== x[0]) fail(`output batch ${y[0]} != input batch ${x[0]}`);
  for (const [name, v] of [['strides', g.strides], ['dilations', g.dilations]] as const) {
    if (v.length !== 2 || !v.every((d) => Number.isInteger(d) && d >= 1)) fail(`${name} must be two integers >= 1, got [${v.join(',')}]`);
  }
  if (!Number.isInteger(g.padTop) || !Number.isInteger(g.padLeft) || g.padTop < 0 || g.padLeft < 0) {
    fail(`padTop/padLeft must be integers >= 0, got ${g.padTop}/${g.padLeft}`);
  }
}

/**
 * Calls tap(xBase, fBase, yBase) for every output pixel and in-bounds filter tap: element
 * offsets (in floats) of x[b,iy,ix,0], filter[kh,kw,0,0] and y[b,oy,ox,0].
 */
function forEachTap(x: Shape4, f: Shape4, y: Shape4, g: Window, tap: (xb: number, fb: number, yb: number) => void): void {
  const [nb, h, w, C] = x;
  const [fh, fw, , M] = f;
  const [, oh, ow, CM] = y;
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
  for (let b = 0; b < nb; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const iy0 = oy * sh - g.padTop;
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * sw - g.padLeft;
        const yb = ((b * oh + oy) * ow + ox) * CM;
        for (let kh = 0; kh < fh; kh++) {
          const iy = iy0 + kh * dh;
          if (iy < 0 || iy >= h) continue;
          for (let kw = 0; kw < fw; kw++) {
            const ix = ix0 + kw * dw;
            if (ix < 0 || ix >= w) continue;
            tap(((b * h + iy) * w + ix) * C, (kh * fw + kw) * C * M, yb);
          }
        }
      }
    }
  }
}

/** out = depthwiseConv2d(x, filter) with explicit padding. */
export function depthwiseConv2dDirect(engine: GemmEngine, p: DepthwiseConv2dParams): void {
  const what = 'depthwiseConv2dDirect';
  check(what, p.xShape, p.filterShape, p.outShape, p);
  const n = size(p.outShape);
  if (n === 0) return;
  engine.checkRange(`${what}: x`, p.x, size(p.xShape) * 4);
  engine.checkRange(`${what}: filter`, p.filter, size(p.filterShape) * 4);
  engine.checkRange(`${what}: out`, p.out, n * 4);
  const X = engine.f32(p.x, size(p.xShape));
  const F = engine.f32(p.filter, size(p.filterShape));
  const Y = engine.f32(p.out, n).fill(0);
  const C = p.xShape[3];
  const M = p.filterShape[3];
  if (M === 1) {
    forEachTap(p.xShape, p.filterShape, p.outShape, p, (xb, fb, yb) => {
      for (let c = 0; c < C; c++) Y[yb + c] += X[xb + c]! * F[fb + c]!;
    });
  } else {
    forEachTap(p.xShape, p.filterShape, p.outShape, p, (xb, fb, yb) => {
      for (let c = 0, j = 0; c < C; c++) {
        const v = X[xb + c]!;
        for (let m = 0; m < M; m++, j++) Y[yb + j] += v * F[fb + j]!;
      }
    });
  }
}

/** dx = the gradient of depthwiseConv2d w.r.t. x (only x's shape is used), given dy. */
export function depthwiseConv2dBackpropInputDirect(engine: GemmEngine, p: DepthwiseBackpropInputParams): void {
  const what = 'depthwiseConv2dBackpropInputDirect';
  check(what, p.xShape, p.filterShape, p.dyShape, p);
  const n = size(p.xShape);
  if (n === 0) return;
  engine.checkRange(`${what}: dx`, p.dx, n * 4);
  engine.checkRange(`${what}: dy`, p.dy, size(p.dyShape) * 4);
  engine.checkRange(`${what}: filter`, p.filter, size(p.filterShape) * 4);
  const DX = engine.f32(p.dx, n).fill(0);
  const DY = engine.f32(p.dy, size(p.dyShape));
  const F = engine.f32(p.filter, size(p.filterShape));
  const C = p.xShape[3];
  const M = p.filterShape[3];
  if (M === 1) {
    forEachTap(p.xShape, p.filterShape, p.dyShape, p, (xb, fb, yb) => {
      for (let c = 0; c < C; c++) DX[xb + c] += DY[yb + c]! * F[fb + c]!;
    });
  } else {
    forEachTap(p.xShape, p.filterShape, p.dyShape, p, (xb, fb, yb) => {
      for (let c = 0, j = 0; c < C; c++) {
        let s = 0;
        for (let m = 0; m < M; m++, j++) s += DY[yb + j]! * F[fb + j]!;
        DX[xb + c] += s;
      }
    });
  }
}

/** dFilter = the gradient of depthwiseConv2d w.r.t. filter (only its shape is used), given dy. */
export function depthwiseConv2dBackpropFilterDirect(engine: GemmEngine, p: DepthwiseBackpropFilterParams): void {
  const what = 'depthwiseConv2dBackpropFilterDirect';
  check(what, p.xShape, p.filterShape, p.dyShape, p);
  const n = size(p.filterShape);
  if (n === 0) return;
  engine.checkRange(`${what}: dFilter`, p.dFilter, n * 4);
  engine.checkRange(`${what}: x`, p.x, size(p.xShape) * 4);
  engine.checkRange(`${what}: dy`, p.dy, size(p.dyShape) * 4);
  const X = engine.f32(p.x, size(p.xShape));
  const DY = engine.f32(p.dy, size(p.dyShape));
  const acc = new Float64Array(n);
  const C = p.xShape[3];
  const M = p.filterShape[3];
  if (M === 1) {
    forEachTap(p.xShape, p.filterShape, p.dyShape, p, (xb, fb, yb) => {
      for (let c = 0; c < C; c++) acc[fb + c] += X[xb + c]! * DY[yb + c]!;
    });
  } else {
    forEachTap(p.xShape, p.filterShape, p.dyShape, p, (xb, fb, yb) => {
      for (let c = 0, j = 0; c < C; c++) {
        const v = X[xb + c]!;
        for (let m = 0; m < M; m++, j++) acc[fb + j] += v * DY[yb + j]!;
      }
    });
  }
  engine.f32(p.dFilter, n).set(acc);
}
