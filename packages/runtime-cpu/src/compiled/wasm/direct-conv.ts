/**
 * conv2d (NHWC input, HWIO filter, NHWC output) as a direct SIMD loop on GemmEngine, for few
 * input channels: with kh*kw*Cin small, im2col + GEMM spends its time copying. The kernel's
 * `directConv` export (gemm.wat) keeps a block of output channels per output pixel in v128
 * accumulators (2 pixels x 16 channels where two neighbours have the same in-bounds taps, then
 * 1 x 16, 1 x 4 and a scalar tail for Cout % 4), multiplies each in-bounds tap's splatted x
 * value by its contiguous filter row and skips the taps padding and dilation put outside the
 * input. Output rows (n, oh) are split across the engine's threads; each output's sum runs in
 * (kh, kw, ci) order from 0 whatever the split, so results do not depend on the thread count.
 */
import { KilnError, fmtShape } from '@kiln/graph';
import type { ConvForwardOperands, ConvWindow, Shape4 } from './conv-common.js';
import type { GemmEngine } from './gemm-engine.js';

/** A conv2d's operands and window, at most `threads` threads (default: all of the engine's). */
export interface DirectConv2dParams extends ConvForwardOperands, ConvWindow {
  threads?: number;
}

/**
 * Whether directConv2d should run this conv rather than im2col + GEMM: every conv with more
 * than one tap. Measured on this machine (batch 64, 2 threads) the direct loop beat im2col +
 * GEMM on every such shape tried: 5x5x1->32 3.0x, 5x5x32->64 1.7x (13.4 vs 22.8 ms), 3x3x64->64
 * and 3x3x128->128 1.2x (im2col's copies cost more than the GEMM's packing saves). A 1x1 conv
 * is a GEMM on x itself, with no im2col.
 */
export function directConvPays(xShape: Shape4, filterShape: Shape4): boolean {
  const [fh, fw, ci] = filterShape;
  return fh * fw > 1 && xShape[3] === ci;
}

function checkGeometry(p: DirectConv2dParams): void {
  const { xShape: x, filterShape: f, outShape: o } = p;
  const fail = (msg: string): never => {
    throw new KilnError('INVALID_ARGUMENT', `directConv2d: ${msg} (x ${fmtShape(x)}, filter ${fmtShape(f)}, out ${fmtShape(o)})`);
  };
  for (const [name, s] of [
    ['xShape', x],
    ['filterShape', f],
    ['outShape', o],
  ] as const) {
    if (s.length !== 4 || !s.every((d) => Number.isInteger(d) && d >= 0)) fail(`${name} must be 4 non-negative integers`);
  }
  if (x[3] !== f[2]) fail(`input channels ${x[3]} != filter input channels ${f[2]}`);
  if (o[3] !== f[3]) fail(`output channels ${o[3]} != filter output channels ${f[3]}`);
  if (o[0] !== x[0]) fail(`output batch ${o[0]} != input batch ${x[0]}`);
  for (const [name, v] of [
    ['strides', p.strides],
    ['dilations', p.dilations],
  ] as const) {
    if (v.length !== 2 || !v.every((d) => Number.isInteger(d) && d >= 1)) fail(`${name} must be two integers >= 1, got [${v.join(',')}]`);
  }
  if (!Number.isInteger(p.padTop) || !Number.isInteger(p.padLeft) || p.padTop < 0 || p.padLeft < 0) {
    fail(`padTop/padLeft must be integers >= 0, got ${p.padTop}/${p.padLeft}`);
  }
}

const size = (s: Shape4): number => s[0] * s[1] * s[2] * s[3];

/** out = conv2d(x, filter) in NHWC/HWIO with explicit padding, by the direct loop on `engine`. */
export function directConv2d(engine: GemmEngine, p: DirectConv2dParams): void {
  checkGeometry(p);
  const [nb, h, w, ci] = p.xShape;
  const [fh, fw, , co] = p.filterShape;
  const [, oh, ow] = p.outShape;
  const n = size(p.outShape);
  if (n === 0) return;
  engine.checkRange('directConv2d: out', p.out, n * 4);
  if (size(p.xShape) === 0 || fh * fw === 0) {
    engine.f32(p.out, n).fill(0); // no taps: every sum is empty
    return;
  }
  engine.checkRange('directConv2d: x', p.x, size(p.xShape) * 4);
  engine.checkRange('directConv2d: filter', p.filter, size(p.filterShape) * 4);
  const args = [p.x, p.filter, p.out, h, w, ci, co, fh, fw, p.strides[0], p.strides[1], p.dilations[0], p.dilations[1], p.padTop, p.padLeft, oh, ow];
  engine.runRows('directConv', nb * oh, args, { work: n * fh * fw * ci, threads: p.threads });
}
