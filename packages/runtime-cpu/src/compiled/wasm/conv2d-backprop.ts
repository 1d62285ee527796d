/**
 * The gradients of a 2-D convolution (NHWC input, HWIO filter) as GEMMs on GemmEngine, with
 * col = im2col(x) the [(n,oh,ow), (kh,kw,ci)] matrix of conv2d.ts:
 *   filter gradient  dW[(kh,kw,ci), co] = colᵀ · dy[(n,oh,ow), co]  (A = col transposed by strides,
 *                    one GEMM per im2col row block, accumulating into dW)
 *   input gradient   dcol = dy · Wᵀ per row block, then col2im (scatter-add) into the zeroed dx.
 * conv2dTranspose is the input gradient with x in the role of dy. A 1x1 stride-1 unpadded conv
 * needs no im2col/col2im: x (or dx) is the matrix itself.
 */
import {
  type ConvFilterGradOperands,
  type ConvForwardOperands,
  type ConvInputGradOperands,
  type ConvScratch,
  type ConvWindow,
  type Pair,
  type Shape4,
  blockRows,
  checkDenseConv,
  colRows,
  convDims,
  convKernel,
  im2colScratchBytes,
  isPointwise,
  size4,
} from './conv-common.js';
import type { GemmEngine } from './gemm-engine.js';

/** conv2dBackpropFilterGemm's operands, window and im2col workspace. */
export interface Conv2dBackpropFilterParams extends ConvFilterGradOperands, ConvWindow, ConvScratch {}

/** conv2dBackpropInputGemm's operands, window and dcol workspace. */
export interface Conv2dBackpropInputParams extends ConvInputGradOperands, ConvWindow, ConvScratch {}

/**
 * conv2dTransposeGemm's operands: x [n, h, w, I], filter [kh, kw, O, I], out [n, H, W, O]; the
 * window (no dilations) is that of the conv2d whose input gradient this is: geometry2D(outShape, ...).
 */
export interface Conv2dTransposeParams extends ConvForwardOperands, Omit<ConvWindow, 'dilations'>, ConvScratch {}

/** Bytes of workspace for the im2col / dcol row blocks (0 for a pointwise conv or no output channels). */
function blockBytes(x: Shape4, f: Shape4, dy: Shape4, s: Pair): number {
  return f[3] === 0 ? 0 : im2colScratchBytes(x, f, dy, s);
}

/** Bytes of im2col workspace conv2dBackpropFilterGemm uses (0 for a 1x1 stride-1 conv). */
export function conv2dBackpropFilterScratchBytes(xShape: Shape4, filterShape: Shape4, dyShape: Shape4, strides: Pair, _dilations: Pair): number {
  return blockBytes(xShape, filterShape, dyShape, strides);
}

/** Bytes of dcol workspace conv2dBackpropInputGemm uses (0 for a 1x1 stride-1 conv). */
export function conv2dBackpropInputScratchBytes(xShape: Shape4, filterShape: Shape4, dyShape: Shape4, strides: Pair, _dilations: Pair): number {
  return blockBytes(xShape, filterShape, dyShape, strides);
}

/** Bytes of workspace conv2dTransposeGemm uses. */
export function conv2dTransposeScratchBytes(xShape: Shape4, filterShape: Shape4, outShape: Shape4, strides: Pair): number {
  return blockBytes(outShape, filterShape, xShape, strides);
}

/** dFilter = the gradient of conv2d(x, filter) w.r.t. filter, given dy, via GEMM on `engine`. */
export function conv2dBackpropFilterGemm(engine: GemmEngine, p: Conv2dBackpropFilterParams): void {
  const what = 'conv2dBackpropFilterGemm';
  checkDenseConv(what, p.xShape, p.filterShape, p.dyShape, 'dy', p);
  const d = convDims(p.xShape, p.filterShape, p.dyShape);
  const { rows, K, ci, co } = d;
  if (K === 0 || co === 0) return;
  engine.checkRange(`${what}: dFilter`, p.dFilter, K * co * 4);
  if (rows === 0) {
    engine.f32(p.dFilter, K * co).fill(0);
    return;
  }
  // dW[K x co] = A · B with A[i, r] = col[r, i] (transposed by strides), B = dy rows.
  const out = { m: K, n: co, c: p.dFilter, ldc: co, bRowStride: co, bColStride: 1 };
  if (isPointwise(p.xShape, p.filterShape, p.dyShape, p.strides) && p.padTop === 0 && p.padLeft === 0) {
    engine.gemm({ ...out, k: rows, a: p.x, aRowStride: 1, aColStride: ci, b: p.dy });
    return;
  }
  const block = blockRows(what, rows, K, p);
  engine.checkRange(`${what}: x`, p.x, size4(p.xShape) * 4);
  engine.checkRange(`${what}: scratch`, p.scratch, block * K * 4);
  const im2col = convKernel(engine).im2col;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const m = Math.min(block, rows - r0);
    colRows(im2col, p.x, d, p, r0, m, p.scratch);
    engine.gemm({ ...out, k: m, a: p.scratch, aRowStride: 1, aColStride: K, b: p.dy + r0 * co * 4, accumulate: r0 > 0 });
  }
}

/** dx = the gradient of conv2d(x, filter) w.r.t. x (only x's shape is used), given dy. */
export function conv2dBackpropInputGemm(engine: GemmEngine, p: Conv2dBackpropInputParams): void {
  const what = 'conv2dBackpropInputGemm';
  checkDenseConv(what, p.xShape, p.filterShape, p.dyShape, 'dy', p);
  const d = convDims(p.xShape, p.filterShape, p.dyShape);
  const { rows, K, co } = d;
  const dxSize = size4(p.xShape);
  if (dxSize === 0) return;
  engine.checkRange(`${what}: dx`, p.dx, dxSize * 4);
  // dcol[rows x K] = dy · Wᵀ: B[q, j] = W[j, q] (transposed by strides).
  const wT = { n: K, k: co, b: p.filter, bRowStride: 1, bColStride: co, ldc: K };
  if (isPointwise(p.xShape, p.filterShape, p.dyShape, p.strides) && p.padTop === 0 && p.padLeft === 0) {
    engine.gemm({ ...wT, m: rows, a: p.dy, aRowStride: co, aColStride: 1, c: p.dx });
    return;
  }
  engine.f32(p.dx, dxSize).fill(0);
  if (rows === 0 || co === 0 || K === 0) return;
  const block = blockRows(what, rows, K, p);
  engine.checkRange(`${what}: scratch`, p.scratch, block * K * 4);
  const col2im = convKernel(engine).col2im;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const m = Math.min(block, rows - r0);
    engine.gemm({ ...wT, m, a: p.dy + r0 * co * 4, aRowStride: co, aColStride: 1, c: p.scratch });
    colRows(col2im, p.dx, d, p, r0, m, p.scratch);
  }
}

/**
 * out = conv2dTranspose(x, filter [kh,kw,O,I]) with outShape [n,H,W,O]: the input gradient of
 * a conv2d from outShape to x's shape, with x in the role of dy.
 */
export function conv2dTransposeGemm(engine: GemmEngine, p: Conv2dTransposeParams): void {
  conv2dBackpropInputGemm(engine, {
    dy: p.x,
    dyShape: p.xShape,
    filter: p.filter,
    filterShape: p.filterShape,
    dx: p.out,
    xShape: p.outShape,
    strides: p.strides,
    dilations: [1, 1],
    padTop: p.padTop,
    padLeft: p.padLeft,
    scratch: p.scratch,
    scratchBytes: p.scratchBytes,
  });
}
