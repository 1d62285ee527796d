/**
 * The gradients of a 2-D convolution (NHWC input, HWIO filter) as GEMMs on GemmEngine, with
 * col = im2col(x) the [(n,oh,ow), (kh,kw,ci)] matrix of conv2d.ts:
 *   filter gradient  dW[(kh,kw,ci), co] = colᵀ · dy[(n,oh,ow), co]  (A = col transposed by strides,
 *                    one GEMM per im2col row block, accumulating into dW)
 *   input gradient   dcol = dy · Wᵀ per row block, then col2im (scatter-add) into the zeroed dx.
 * conv2dTranspose is the input gradient with x in the role of dy. A 1x1 stride-1 unpadded conv
 * needs no im2col/col2im: x (or dx) is the matrix itself.
 */
import { KilnError, fmtShape } from '@kiln/graph';
import type { GemmEngine } from './gemm-engine.js';
import { instantiateKernel, type GemmKernel } from './gemm-module.js';

type Shape4 = [number, number, number, number];
type Pair = [number, number];

/** Upper bound on the im2col / dcol workspace the ...ScratchBytes functions ask for (bytes). */
const SCRATCH_CAP = 4 << 20;

interface Geometry {
  strides: Pair;
  dilations: Pair;
  /** Explicit padding (the caller resolves 'same'/'valid' with geometry2D). */
  padTop: number;
  padLeft: number;
  /** Workspace: byte offset and size (see the matching ...ScratchBytes function). */
  scratch: number;
  scratchBytes: number;
}

export interface Conv2dBackpropFilterParams extends Geometry {
  /** Byte offset of the NHWC float32 forward input x. */
  x: number;
  xShape: Shape4;
  /** Byte offset of the NHWC float32 output gradient dy [n, oh, ow, co]. */
  dy: number;
  dyShape: Shape4;
  /** Byte offset of the HWIO float32 filter gradient (overwritten). */
  dFilter: number;
  filterShape: Shape4;
}

export interface Conv2dBackpropInputParams extends Geometry {
  /** Byte offset of the NHWC float32 output gradient dy [n, oh, ow, co]. */
  dy: number;
  dyShape: Shape4;
  /** Byte offset of the HWIO float32 filter. */
  filter: number;
  filterShape: Shape4;
  /** Byte offset of the NHWC float32 input gradient dx (overwritten; must not overlap scratch). */
  dx: number;
  xShape: Shape4;
}

export interface Conv2dTransposeParams {
  /** Byte offset of the NHWC float32 input x [n, h, w, I]. */
  x: number;
  xShape: Shape4;
  /** Byte offset of the float32 filter [kh, kw, O, I]. */
  filter: number;
  filterShape: Shape4;
  /** Byte offset of the NHWC float32 output [n, H, W, O] (overwritten). */
  out: number;
  outShape: Shape4;
  strides: Pair;
  /** Padding of the conv2d whose input gradient this is: geometry2D(outShape, ...). */
  padTop: number;
  padLeft: number;
  scratch: number;
  scratchBytes: number;
}

type ColKernel = GemmKernel & { col2im(...args: number[]): void };

/** One kernel instance per engine (on its memory) for im2col / col2im. */
const kernels = new WeakMap<GemmEngine, ColKernel>();
function kernelFor(engine: GemmEngine): ColKernel {
  let k = kernels.get(engine);
  if (!k) kernels.set(engine, (k = instantiateKernel(engine.memory) as ColKernel));
  return k;
}

const size = (s: Shape4): number => s[0] * s[1] * s[2] * s[3];

/** Whether im2col is the identity: 1x1 filter, stride 1, same spatial size (hence no padding). */
function isPointwise(x: Shape4, f: Shape4, dy: Shape4, s: Pair): boolean {
  return f[0] === 1 && f[1] === 1 && s[0] === 1 && s[1] === 1 && dy[1] === x[1] && dy[2] === x[2];
}

/** Bytes of workspace for `rows` im2col rows of `kBytes`, capped (0 for a pointwise conv). */
function blockBytes(x: Shape4, f: Shape4, dy: Shape4, s: Pair): number {
  if (isPointwise(x, f, dy, s)) return 0;
  const kBytes = f[0] * f[1] * f[2] * 4;
  const rows = dy[0] * dy[1] * dy[2];
  if (kBytes === 0 || rows === 0 || f[3] === 0) return 0;
  return Math.max(1, Math.min(rows, Math.floor(SCRATCH_CAP / kBytes))) * kBytes;
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

function checkGeometry(what: string, x: Shape4, f: Shape4, dy: Shape4, g: Geometry): void {
  const fail = (msg: string): never => {
    throw new KilnError('INVALID_ARGUMENT', `${what}: ${msg} (x ${fmtShape(x)}, filter ${fmtShape(f)}, dy ${fmtShape(dy)})`);
  };
  for (const [name, s] of [['xShape', x], ['filterShape', f], ['dyShape', dy]] as const) {
    if (s.length !== 4 || !s.every((d) => Number.isInteger(d) && d >= 0)) fail(`${name} must be 4 non-negative integers`);
  }
  if (x[3] !== f[2]) fail(`input channels ${x[3]} != filter input channels ${f[2]}`);
  if (dy[3] !== f[3]) fail(`dy channels ${dy[3]} != filter output channels ${f[3]}`);
  if (dy[0] !== x[0]) fail(`dy batch ${dy[0]} != input batch ${x[0]}`);
  for (const [name, v] of [['strides', g.strides], ['dilations', g.dilations]] as const) {
    if (v.length !== 2 || !v.every((d) => Number.isInteger(d) && d >= 1)) fail(`${name} must be two integers >= 1, got [${v.join(',')}]`);
  }
  if (!Number.isInteger(g.padTop) || !Number.isInteger(g.padLeft) || g.padTop < 0 || g.padLeft < 0) {
    fail(`padTop/padLeft must be integers >= 0, got ${g.padTop}/${g.padLeft}`);
  }
}

/** Rows of im2col per block that fit in the scratch; throws when not even one does. */
function blockRows(what: string, rows: number, K: number, g: Geometry): number {
  const block = Math.min(rows, Math.floor(g.scratchBytes / (K * 4)));
  if (!(block >= 1)) {
    throw new KilnError(
      'INVALID_ARGUMENT',
      `${what}: scratch must hold at least ${K * 4} bytes (one im2col row), got offset ${g.scratch} with ${g.scratchBytes} bytes`,
    );
  }
  return block;
}

/** dFilter = the gradient of conv2d(x, filter) w.r.t. filter, given dy, via GEMM on `engine`. */
export function conv2dBackpropFilterGemm(engine: GemmEngine, p: Conv2dBackpropFilterParams): void {
  const what = 'conv2dBackpropFilterGemm';
  checkGeometry(what, p.xShape, p.filterShape, p.dyShape, p);
  const [nb, h, w, ci] = p.xShape;
  const [fh, fw, , co] = p.filterShape;
  const [, oh, ow] = p.dyShape;
  const rows = nb * oh * ow;
  const K = fh * fw * ci;
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
  engine.checkRange(`${what}: x`, p.x, size(p.xShape) * 4);
  engine.checkRange(`${what}: scratch`, p.scratch, block * K * 4);
  const im2col = kernelFor(engine).im2col;
  const [sh, sw] = p.strides;
  const [dh, dw] = p.dilations;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const m = Math.min(block, rows - r0);
    im2col(p.x, h, w, ci * 4, fh, fw, sh, sw, dh, dw, p.padTop, p.padLeft, oh, ow, r0, m, p.scratch);
    engine.gemm({ ...out, k: m, a: p.scratch, aRowStride: 1, aColStride: K, b: p.dy + r0 * co * 4, accumulate: r0 > 0 });
  }
}

/** dx = the gradient of conv2d(x, filter) w.r.t. x (only x's shape is used), given dy. */
export function conv2dBackpropInputGemm(engine: GemmEngine, p: Conv2dBackpropInputParams): void {
  const what = 'conv2dBackpropInputGemm';
  checkGeometry(what, p.xShape, p.filterShape, p.dyShape, p);
  const [nb, h, w, ci] = p.xShape;
  const [fh, fw, , co] = p.filterShape;
  const [, oh, ow] = p.dyShape;
  const rows = nb * oh * ow;
  const K = fh * fw * ci;
  const dxSize = size(p.xShape);
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
  const col2im = kernelFor(engine).col2im;
  const [sh, sw] = p.strides;
  const [dh, dw] = p.dilations;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const m = Math.min(block, rows - r0);
    engine.gemm({ ...wT, m, a: p.dy + r0 * co * 4, aRowStride: co, aColStride: 1, c: p.scratch });
    col2im(p.dx, h, w, ci * 4, fh, fw, sh, sw, dh, dw, p.padTop, p.padLeft, oh, ow, r0, m, p.scratch);
  }
}

/**
 * out = conv2dTranspose(x, filter [kh,kw,O,I]) with outShape [n,H,W,O]: the input gradient of
 * a conv2d from outShape to x's shape, with x in the role of dy.
 */
export function conv2dTransposeGemm(engine: GemmEngine, p: Conv2dTransposeParams): void {
  conv2dBackpropInputGemm(engine, {
    dy: p.x, dyShape: p.xShape, filter: p.filter, filterShape: p.filterShape, dx: p.out, xShape: p.outShape,
    strides: p.strides, dilations: [1, 1], padTop: p.padTop, padLeft: p.padLeft, scratch: p.scratch, scratchBytes: p.scratchBytes,
  });
}
