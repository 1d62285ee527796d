/**
 * 2-D convolution (NHWC input, HWIO filter) as GEMM on GemmEngine:
 *   out[(n,oh,ow), co] = im2col(x)[(n,oh,ow), (fh,fw,ci)] · filter[(fh,fw,ci), co].
 * im2col (the kernel's wasm export) is materialised in row blocks inside the caller's scratch
 * (at most SCRATCH_CAP bytes are asked for), one GEMM per block. A 1x1 stride-1 unpadded conv
 * uses x itself as A.
 */
import {
  type ConvForwardOperands,
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
} from './conv-common.js';
import type { GemmEngine } from './gemm-engine.js';

/** conv2dGemm's operands, window and im2col workspace (see conv2dScratchBytes). */
export interface Conv2dGemmParams extends ConvForwardOperands, ConvWindow, ConvScratch {}

/** Bytes of im2col workspace conv2dGemm uses for this geometry (0 for a 1x1 stride-1 conv). */
export function conv2dScratchBytes(xShape: Shape4, filterShape: Shape4, outShape: Shape4, strides: Pair, _dilations: Pair): number {
  return im2colScratchBytes(xShape, filterShape, outShape, strides);
}

/** out = conv2d(x, filter) in NHWC/HWIO with explicit padding, via GEMM on `engine`. */
export function conv2dGemm(engine: GemmEngine, p: Conv2dGemmParams): void {
  const what = 'conv2dGemm';
  checkDenseConv(what, p.xShape, p.filterShape, p.outShape, 'out', p);
  const d = convDims(p.xShape, p.filterShape, p.outShape);
  const { rows, K, ci, co } = d;
  if (rows === 0 || co === 0) return;
  const gemmB = { b: p.filter, bRowStride: co, bColStride: 1, ldc: co, n: co };
  if (K === 0 || (isPointwise(p.xShape, p.filterShape, p.outShape, p.strides) && p.padTop === 0 && p.padLeft === 0)) {
    engine.gemm({ ...gemmB, m: rows, k: K, a: p.x, aRowStride: ci, aColStride: 1, c: p.out });
    return;
  }
  const block = blockRows(what, rows, K, p);
  engine.checkRange(`${what}: x`, p.x, d.nb * d.h * d.w * ci * 4);
  engine.checkRange(`${what}: scratch`, p.scratch, block * K * 4);
  const im2col = convKernel(engine).im2col;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const m = Math.min(block, rows - r0);
    colRows(im2col, p.x, d, p, r0, m, p.scratch);
    engine.gemm({ ...gemmB, m, k: K, a: p.scratch, aRowStride: K, aColStride: 1, c: p.out + r0 * co * 4 });
  }
}
