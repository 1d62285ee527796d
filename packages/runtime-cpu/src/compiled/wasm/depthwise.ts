/**
 * depthwiseConv2d (NHWC input x [n,h,w,C], filter [kh,kw,C,M], output [n,oh,ow,C*M] with
 * channel c*M+m) and its two gradients as direct loops: the kernel's `depthwise` export
 * (gemm.wat) on byte offsets into engine.memory. The op is memory-bound, so each output pixel
 * walks only the in-bounds taps, with the channel loop innermost over contiguous data (SIMD
 * for M = 1, the common case). Sums accumulate in float32 in a fixed order (deterministic);
 * each output is zeroed first, so it is overwritten, never accumulated into. Single-threaded.
 */
import { KilnError, fmtShape } from '@kiln/graph';
import type { GemmEngine } from './gemm-engine.js';
import { instantiateKernel, type GemmKernel } from './gemm-module.js';

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

type DwKernel = GemmKernel & { depthwise(...args: number[]): void };

/** One kernel instance per engine (on its memory) for the depthwise loops. */
const kernels = new WeakMap<GemmEngine, DwKernel>();
function kernelFor(engine: GemmEngine): DwKernel {
  let k = kernels.get(engine);
  if (!k) kernels.set(engine, (k = instantiateKernel(engine.memory) as DwKernel));
  return k;
}

const FORWARD = 0;
const INPUT_GRAD = 1;
const FILTER_GRAD = 2;

/** Runs the kernel's depthwise loop in `mode` over x, filter, y (the output already zeroed). */
function run(engine: GemmEngine, mode: number, x: number, f: number, y: number, xs: Shape4, fs: Shape4, ys: Shape4, g: Window): void {
  if (xs[3] === 0 || fs[3] === 0) return;
  kernelFor(engine).depthwise(
    mode, x, f, y, xs[0], xs[1], xs[2], xs[3], fs[3], fs[0], fs[1],
    g.strides[0], g.strides[1], g.dilations[0], g.dilations[1], g.padTop, g.padLeft, ys[1], ys[2],
  );
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
  engine.f32(p.out, n).fill(0);
  run(engine, FORWARD, p.x, p.filter, p.out, p.xShape, p.filterShape, p.outShape, p);
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
  engine.f32(p.dx, n).fill(0);
  run(engine, INPUT_GRAD, p.dx, p.filter, p.dy, p.xShape, p.filterShape, p.dyShape, p);
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
  engine.f32(p.dFilter, n).fill(0);
  run(engine, FILTER_GRAD, p.x, p.dFilter, p.dy, p.xShape, p.filterShape, p.dyShape, p);
}
