/**
 * depthwiseConv2d (NHWC input x [n,h,w,C], filter [kh,kw,C,M], output [n,oh,ow,C*M] with
 * channel c*M+m) and its two gradients as direct loops: the kernel's `depthwise` export
 * (gemm.wat) on byte offsets into engine.memory. The op is memory-bound, so each output pixel
 * walks only the in-bounds taps, with the channel loop innermost over contiguous data (SIMD
 * for M = 1, the common case). Sums accumulate in float32 in a fixed order (deterministic);
 * each output is zeroed first, so it is overwritten, never accumulated into. Single-threaded.
 */
import {
  type ConvFilterGradOperands,
  type ConvForwardOperands,
  type ConvInputGradOperands,
  type ConvWindow,
  type Shape4,
  checkShapes,
  checkWindow,
  convFail,
  convKernel,
  size4,
} from './conv-common.js';
import type { GemmEngine } from './gemm-engine.js';

/** depthwiseConv2dDirect's operands (filter [kh,kw,C,M], out [n,oh,ow,C*M]) and window. */
export interface DepthwiseConv2dParams extends ConvForwardOperands, ConvWindow {}

/** depthwiseConv2dBackpropInputDirect's operands (the input gradient dx [n,h,w,C]) and window. */
export interface DepthwiseBackpropInputParams extends ConvInputGradOperands, ConvWindow {}

/** depthwiseConv2dBackpropFilterDirect's operands (the filter gradient dFilter [kh,kw,C,M]) and window. */
export interface DepthwiseBackpropFilterParams extends ConvFilterGradOperands, ConvWindow {}

function check(what: string, x: Shape4, f: Shape4, y: Shape4, g: ConvWindow): void {
  const fail = convFail(what, x, f, y, 'y');
  checkShapes(fail, [
    ['x shape', x],
    ['filter shape', f],
    ['y shape', y],
  ]);
  if (x[3] !== f[2]) fail(`input channels ${x[3]} != filter channels ${f[2]}`);
  if (y[3] !== f[2] * f[3]) fail(`output channels ${y[3]} != channels * multiplier ${f[2] * f[3]}`);
  if (y[0] !== x[0]) fail(`output batch ${y[0]} != input batch ${x[0]}`);
  checkWindow(fail, g);
}

const FORWARD = 0;
const INPUT_GRAD = 1;
const FILTER_GRAD = 2;

/** Runs the kernel's depthwise loop in `mode` over x, filter, y (the output already zeroed). */
function run(engine: GemmEngine, mode: number, x: number, f: number, y: number, xs: Shape4, fs: Shape4, ys: Shape4, g: ConvWindow): void {
  if (xs[3] === 0 || fs[3] === 0) return;
  convKernel(engine).depthwise(
    mode,
    x,
    f,
    y,
    xs[0],
    xs[1],
    xs[2],
    xs[3],
    fs[3],
    fs[0],
    fs[1],
    g.strides[0],
    g.strides[1],
    g.dilations[0],
    g.dilations[1],
    g.padTop,
    g.padLeft,
    ys[1],
    ys[2],
  );
}

/** out = depthwiseConv2d(x, filter) with explicit padding. */
export function depthwiseConv2dDirect(engine: GemmEngine, p: DepthwiseConv2dParams): void {
  const what = 'depthwiseConv2dDirect';
  check(what, p.xShape, p.filterShape, p.outShape, p);
  const n = size4(p.outShape);
  if (n === 0) return;
  engine.checkRange(`${what}: x`, p.x, size4(p.xShape) * 4);
  engine.checkRange(`${what}: filter`, p.filter, size4(p.filterShape) * 4);
  engine.checkRange(`${what}: out`, p.out, n * 4);
  engine.f32(p.out, n).fill(0);
  run(engine, FORWARD, p.x, p.filter, p.out, p.xShape, p.filterShape, p.outShape, p);
}

/** dx = the gradient of depthwiseConv2d w.r.t. x (only x's shape is used), given dy. */
export function depthwiseConv2dBackpropInputDirect(engine: GemmEngine, p: DepthwiseBackpropInputParams): void {
  const what = 'depthwiseConv2dBackpropInputDirect';
  check(what, p.xShape, p.filterShape, p.dyShape, p);
  const n = size4(p.xShape);
  if (n === 0) return;
  engine.checkRange(`${what}: dx`, p.dx, n * 4);
  engine.checkRange(`${what}: dy`, p.dy, size4(p.dyShape) * 4);
  engine.checkRange(`${what}: filter`, p.filter, size4(p.filterShape) * 4);
  engine.f32(p.dx, n).fill(0);
  run(engine, INPUT_GRAD, p.dx, p.filter, p.dy, p.xShape, p.filterShape, p.dyShape, p);
}

/** dFilter = the gradient of depthwiseConv2d w.r.t. filter (only its shape is used), given dy. */
export function depthwiseConv2dBackpropFilterDirect(engine: GemmEngine, p: DepthwiseBackpropFilterParams): void {
  const what = 'depthwiseConv2dBackpropFilterDirect';
  check(what, p.xShape, p.filterShape, p.dyShape, p);
  const n = size4(p.filterShape);
  if (n === 0) return;
  engine.checkRange(`${what}: dFilter`, p.dFilter, n * 4);
  engine.checkRange(`${what}: x`, p.x, size4(p.xShape) * 4);
  engine.checkRange(`${what}: dy`, p.dy, size4(p.dyShape) * 4);
  engine.f32(p.dFilter, n).fill(0);
  run(engine, FILTER_GRAD, p.x, p.dFilter, p.dy, p.xShape, p.filterShape, p.dyShape, p);
}
