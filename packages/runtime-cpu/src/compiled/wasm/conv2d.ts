/**
 * 2-D convolution (NHWC input, HWIO filter) as GEMM on GemmEngine:
 *   out[(n,oh,ow), co] = im2col(x)[(n,oh,ow), (fh,fw,ci)] · filter[(fh,fw,ci), co].
 * im2col (the kernel's wasm export) is materialised in row blocks inside the caller's scratch
 * (at most SCRATCH_CAP bytes are asked for), one GEMM per block. A 1x1 stride-1 unpadded conv
 * uses x itself as A.
 */
import { KilnError, fmtShape } from '@kiln/graph';
import type { GemmEngine } from './gemm-engine.js';
import { instantiateKernel, type GemmKernel } from './gemm-module.js';

type Shape4 = [number, number, number, number];

/** Upper bound on the im2col workspace conv2dScratchBytes asks for (bytes). */
const SCRATCH_CAP = 4 << 20;

export interface Conv2dGemmParams {
  /** Byte offset of the NHWC float32 input in engine.memory. */
  x: number;
  xShape: Shape4;
  /** Byte offset of the HWIO float32 filter. */
  filter: number;
  filterShape: Shape4;
  /** Byte offset of the NHWC float32 output [n, oh, ow, co]. */
  out: number;
  outShape: Shape4;
  strides: [number, number];
  dilations: [number, number];
  /** Explicit padding (the caller resolves 'same'/'valid'); bottom/right follow from outShape. */
  padTop: number;
  padLeft: number;
  /** im2col workspace: byte offset and size (see conv2dScratchBytes). */
  scratch: number;
  scratchBytes: number;
}

/** One kernel instance per engine (on its memory) for im2col. */
const kernels = new WeakMap<GemmEngine, GemmKernel>();
function kernelFor(engine: GemmEngine): GemmKernel {
  let k = kernels.get(engine);
  if (!k) kernels.set(engine, (k = instantiateKernel(engine.memory)));
  return k;
}

function isPointwise(x: Shape4, f: Shape4, o: Shape4, s: [number, number]): boolean {
  return f[0] === 1 && f[1] === 1 && s[0] === 1 && s[1] === 1 && o[1] === x[1] && o[2] === x[2];
}

/** Bytes of im2col workspace conv2dGemm uses for this geometry (0 for a 1x1 stride-1 conv). */
export function conv2dScratchBytes(
  xShape: Shape4,
  filterShape: Shape4,
  outShape: Shape4,
  strides: [number, number],
  _dilations: [number, number],
): number {
  if (isPointwise(xShape, filterShape, outShape, strides)) return 0;
  const kBytes = filterShape[0] * filterShape[1] * filterShape[2] * 4;
  const rows = outShape[0] * outShape[1] * outShape[2];
  if (kBytes === 0 || rows === 0) return 0;
  return Math.max(1, Math.min(rows, Math.floor(SCRATCH_CAP / kBytes))) * kBytes;
}

function checkGeometry(p: Conv2dGemmParams): void {
  const { xShape: x, filterShape: f, outShape: o } = p;
  const fail = (msg: string): never => {
    throw new KilnError(
      'INVALID_ARGUMENT',
      `conv2dGemm: ${msg} (x ${fmtShape(x)}, filter ${fmtShape(f)}, out ${fmtShape(o)})`,
    );
  };
  for (const [name, s] of [['xShape', x], ['filterShape', f], ['outShape', o]] as const) {
    if (s.length !== 4 || !s.every((d) => Number.isInteger(d) && d >= 0)) fail(`${name} must be 4 non-negative integers`);
  }
  if (x[3] !== f[2]) fail(`input channels ${x[3]} != filter input channels ${f[2]}`);
  if (o[3] !== f[3]) fail(`output channels ${o[3]} != filter output channels ${f[3]}`);
  if (o[0] !== x[0]) fail(`output batch ${o[0]} != input batch ${x[0]}`);
  for (const [name, v] of [['strides', p.strides], ['dilations', p.dilations]] as const) {
    if (v.length !== 2 || !v.every((d) => Number.isInteger(d) && d >= 1)) {
      fail(`${name} must be two integers >= 1, got [${v.join(',')}]`);
    }
  }
  if (!Number.isInteger(p.padTop) || !Number.isInteger(p.padLeft) || p.padTop < 0 || p.padLeft < 0) {
    fail(`padTop/padLeft must be integers >= 0, got ${p.padTop}/${p.padLeft}`);
  }
}

/** out = conv2d(x, filter) in NHWC/HWIO with explicit padding, via GEMM on `engine`. */
export function conv2dGemm(engine: GemmEngine, p: Conv2dGemmParams): void {
  checkGeometry(p);
  const [nb, h, w, ci] = p.xShape;
  const [fh, fw, , co] = p.filterShape;
  const [, oh, ow] = p.outShape;
  const [sh, sw] = p.strides;
  const [dh, dw] = p.dilations;
  const rows = nb * oh * ow;
  const K = fh * fw * ci;
  if (rows === 0 || co === 0) return;
  const gemmB = { b: p.filter, bRowStride: co, bColStride: 1, ldc: co, n: co };
  if (K === 0 || (isPointwise(p.xShape, p.filterShape, p.outShape, p.strides) && p.padTop === 0 && p.padLeft === 0)) {
    engine.gemm({ ...gemmB, m: rows, k: K, a: p.x, aRowStride: ci, aColStride: 1, c: p.out });
    return;
  }
  const block = Math.min(rows, Math.floor(p.scratchBytes / (K * 4)));
  if (!(block >= 1)) {
    throw new KilnError(
      'INVALID_ARGUMENT',
      `conv2dGemm: scratch must hold at least ${K * 4} bytes (one im2col row), ` +
        `got offset ${p.scratch} with ${p.scratchBytes} bytes`,
    );
  }
  engine.checkRange('conv2dGemm: x', p.x, nb * h * w * ci * 4);
  engine.checkRange('conv2dGemm: scratch', p.scratch, block * K * 4);
  const im2col = kernelFor(engine).im2col;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const m = Math.min(block, rows - r0);
    im2col(p.x, h, w, ci * 4, fh, fw, sh, sw, dh, dw, p.padTop, p.padLeft, oh, ow, r0, m, p.scratch);
    engine.gemm({ ...gemmB, m, k: K, a: p.scratch, aRowStride: K, aColStride: 1, c: p.out + r0 * co * 4 });
  }
}
