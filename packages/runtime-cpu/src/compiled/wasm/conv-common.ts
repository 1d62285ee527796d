/**
 * What the convolutions on GemmEngine share (conv2d.ts, conv2d-backprop.ts, depthwise.ts):
 * the parameter groups (operands as byte offsets into engine.memory with their NHWC shapes,
 * the resolved window, the workspace), their argument checks, the kernel instance per engine,
 * and the im2col row blocking (workspace size, rows per block, one im2col/col2im call per block).
 */
import { KilnError, fmtShape } from '@kiln/graph';
import type { GemmEngine } from './gemm-engine.js';
import { instantiateKernel, type GemmKernel } from './gemm-module.js';

export type Shape4 = [number, number, number, number];
export type Pair = [number, number];

/** A convolution's forward operands. */
export interface ConvForwardOperands {
  /** Byte offset of the NHWC float32 input x. */
  x: number;
  xShape: Shape4;
  /** Byte offset of the float32 filter (HWIO for conv2d). */
  filter: number;
  filterShape: Shape4;
  /** Byte offset of the NHWC float32 output [n, oh, ow, channels] (overwritten). */
  out: number;
  outShape: Shape4;
}

/** A convolution's input-gradient operands. */
export interface ConvInputGradOperands {
  /** Byte offset of the NHWC float32 output gradient dy [n, oh, ow, channels]. */
  dy: number;
  dyShape: Shape4;
  /** Byte offset of the float32 filter. */
  filter: number;
  filterShape: Shape4;
  /** Byte offset of the NHWC float32 input gradient dx (overwritten; must not overlap scratch). */
  dx: number;
  xShape: Shape4;
}

/** A convolution's filter-gradient operands. */
export interface ConvFilterGradOperands {
  /** Byte offset of the NHWC float32 forward input x. */
  x: number;
  xShape: Shape4;
  /** Byte offset of the NHWC float32 output gradient dy [n, oh, ow, channels]. */
  dy: number;
  dyShape: Shape4;
  /** Byte offset of the float32 filter gradient (overwritten). */
  dFilter: number;
  filterShape: Shape4;
}

/** The resolved window. */
export interface ConvWindow {
  strides: Pair;
  dilations: Pair;
  /** Explicit padding (the caller resolves 'same'/'valid' with geometry2D); bottom/right follow from the shapes. */
  padTop: number;
  padLeft: number;
}

/** The im2col / dcol workspace: byte offset and size (see the matching ...ScratchBytes function). */
export interface ConvScratch {
  scratch: number;
  scratchBytes: number;
}

/** The kernel's exports the convolutions call (every argument an i32). */
export type ConvKernel = GemmKernel & { col2im(...args: number[]): void; depthwise(...args: number[]): void };

/** One kernel instance per engine (on its memory) for im2col, col2im and the depthwise loops. */
const kernels = new WeakMap<GemmEngine, ConvKernel>();
export function convKernel(engine: GemmEngine): ConvKernel {
  let k = kernels.get(engine);
  if (!k) kernels.set(engine, (k = instantiateKernel(engine.memory) as ConvKernel));
  return k;
}

export const size4 = (s: Shape4): number => s[0] * s[1] * s[2] * s[3];

/** Throws INVALID_ARGUMENT for `what` with `msg`, naming x, the filter and the third shape (tagged `yTag`). */
export type Fail = (msg: string) => never;
export function convFail(what: string, x: Shape4, f: Shape4, y: Shape4, yTag: string): Fail {
  return (msg) => {
    throw new KilnError('INVALID_ARGUMENT', `${what}: ${msg} (x ${fmtShape(x)}, filter ${fmtShape(f)}, ${yTag} ${fmtShape(y)})`);
  };
}

/** Each shape must be 4 non-negative integers. */
export function checkShapes(fail: Fail, shapes: readonly (readonly [string, Shape4])[]): void {
  for (const [name, s] of shapes) {
    if (s.length !== 4 || !s.every((d) => Number.isInteger(d) && d >= 0)) fail(`${name} must be 4 non-negative integers`);
  }
}

/** Strides and dilations: two integers >= 1 each; pads: integers >= 0. */
export function checkWindow(fail: Fail, g: ConvWindow): void {
  for (const [name, v] of [
    ['strides', g.strides],
    ['dilations', g.dilations],
  ] as const) {
    if (v.length !== 2 || !v.every((d) => Number.isInteger(d) && d >= 1)) fail(`${name} must be two integers >= 1, got [${v.join(',')}]`);
  }
  if (!Number.isInteger(g.padTop) || !Number.isInteger(g.padLeft) || g.padTop < 0 || g.padLeft < 0) {
    fail(`padTop/padLeft must be integers >= 0, got ${g.padTop}/${g.padLeft}`);
  }
}

/**
 * The checks of a dense conv2d (filter HWIO) whose third shape is its output ('out') or the
 * output gradient ('dy'): valid shapes, channels and batch agree, a valid window.
 */
export function checkDenseConv(what: string, x: Shape4, f: Shape4, y: Shape4, yTag: 'out' | 'dy', g: ConvWindow): void {
  const fail = convFail(what, x, f, y, yTag);
  checkShapes(fail, [
    ['xShape', x],
    ['filterShape', f],
    [`${yTag}Shape`, y],
  ]);
  const yWord = yTag === 'out' ? 'output' : 'dy';
  if (x[3] !== f[2]) fail(`input channels ${x[3]} != filter input channels ${f[2]}`);
  if (y[3] !== f[3]) fail(`${yWord} channels ${y[3]} != filter output channels ${f[3]}`);
  if (y[0] !== x[0]) fail(`${yWord} batch ${y[0]} != input batch ${x[0]}`);
  checkWindow(fail, g);
}

/** The dims of a dense conv2d from x, the HWIO filter and the output (or dy) shape. */
export interface ConvDims {
  nb: number;
  h: number;
  w: number;
  ci: number;
  fh: number;
  fw: number;
  co: number;
  oh: number;
  ow: number;
  /** im2col rows: nb * oh * ow. */
  rows: number;
  /** im2col columns: fh * fw * ci. */
  K: number;
}

export function convDims(x: Shape4, f: Shape4, y: Shape4): ConvDims {
  const [nb, h, w, ci] = x;
  const [fh, fw, , co] = f;
  const [, oh, ow] = y;
  return { nb, h, w, ci, fh, fw, co, oh, ow, rows: nb * oh * ow, K: fh * fw * ci };
}

/** Upper bound on the im2col / dcol workspace the ...ScratchBytes functions ask for (bytes). */
const SCRATCH_CAP = 4 << 20;

/** Whether im2col is the identity: 1x1 filter, stride 1, same spatial size (hence no padding). */
export function isPointwise(x: Shape4, f: Shape4, y: Shape4, s: Pair): boolean {
  return f[0] === 1 && f[1] === 1 && s[0] === 1 && s[1] === 1 && y[1] === x[1] && y[2] === x[2];
}

/** Bytes of workspace for as many im2col rows as fit under SCRATCH_CAP (at least one; 0 for a pointwise conv). */
export function im2colScratchBytes(x: Shape4, f: Shape4, y: Shape4, s: Pair): number {
  if (isPointwise(x, f, y, s)) return 0;
  const kBytes = f[0] * f[1] * f[2] * 4;
  const rows = y[0] * y[1] * y[2];
  if (kBytes === 0 || rows === 0) return 0;
  return Math.max(1, Math.min(rows, Math.floor(SCRATCH_CAP / kBytes))) * kBytes;
}

/** Rows of im2col per block that fit in the scratch; throws when not even one does. */
export function blockRows(what: string, rows: number, K: number, g: ConvScratch): number {
  const block = Math.min(rows, Math.floor(g.scratchBytes / (K * 4)));
  if (!(block >= 1)) {
    throw new KilnError(
      'INVALID_ARGUMENT',
      `${what}: scratch must hold at least ${K * 4} bytes (one im2col row), got offset ${g.scratch} with ${g.scratchBytes} bytes`,
    );
  }
  return block;
}

/** Runs the kernel's im2col or col2im between the image at `img` and rows [r0, r0 + m) of the matrix at `col`. */
export function colRows(fn: (...args: number[]) => void, img: number, d: ConvDims, g: ConvWindow, r0: number, m: number, col: number): void {
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
  fn(img, d.h, d.w, d.ci * 4, d.fh, d.fw, sh, sw, dh, dw, g.padTop, g.padLeft, d.oh, d.ow, r0, m, col);
}
