/**
 * Window geometry shared by the conv and pool families (NHWC): how TF.js-style arguments
 * (strides, pad 'same' | 'valid' | number | explicit [[0,0],[t,b],[l,r],[0,0]], dilations,
 * dimRoundingMode) become attrs, and how attrs plus an input size give the output size and
 * the padding actually applied. Inference uses it with possibly-unknown dims; reference
 * kernels use it with concrete ones, so both always agree.
 *
 * Output size per spatial dim, with effective window k' = (k - 1) * dilation + 1:
 *   'same'     out = ceil(in / stride); total padding max((out-1)*stride + k' - in, 0),
 *              the smaller half before (TensorFlow's convention)
 *   'valid'    out = floor((in - k') / stride) + 1  (dimRoundingMode does not apply)
 *   'explicit' out = R((in + before + after - k') / stride) + 1, R from dimRoundingMode
 *              ('floor' default, 'ceil' as ONNX ceil_mode, 'round'); with rounding up, a
 *              last window that would start past the input (wholly in the after-padding)
 *              is dropped, as ONNX/PyTorch do, since it would see no input element.
 * Taps that fall outside the input are skipped by the kernels (zero for conv, ignored for
 * max; counted for avg only with countIncludePad, and then only inside the padded range).
 */
import type { DType } from '../dtype.js';
import { KilnError, fmtShape } from '../errors.js';
import type { Dim, Shape } from '../shape.js';
import type { AttrSpec, Attrs, TensorType } from './registry.js';

export type PadMode = 'same' | 'valid' | 'explicit';
/** The TF.js pad argument: a mode, one number for every side, or NHWC pairs. */
export type PadArg = 'same' | 'valid' | number | readonly (readonly number[])[];
export type DimRoundingMode = 'floor' | 'ceil' | 'round';

/** Attr specs common to every windowed op (conv, pool and their gradients). */
export const WINDOW_ATTRS: Readonly<Record<string, AttrSpec>> = {
  strides: { type: 'ints' },
  pad: { type: 'string', oneOf: ['same', 'valid', 'explicit'] },
  /** [top, bottom, left, right] when pad is 'explicit'; empty otherwise. */
  explicitPaddings: { type: 'ints', default: [] },
  dilations: { type: 'ints', default: [1, 1] },
  dimRoundingMode: { type: 'string', oneOf: ['floor', 'ceil', 'round'], default: 'floor' },
};

/** A number or an [h, w] pair as an [h, w] pair of positive integers. */
export function hwPair(v: number | readonly number[] | undefined, name: string, what: string): [number, number] {
  const pair = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((d) => Number.isInteger(d) && d > 0)) {
    throw new KilnError('INVALID_ATTR', `${what}: ${name} must be a positive integer or a pair [h, w] of them, got ${JSON.stringify(v)}`);
  }
  return [pair[0]!, pair[1]!];
}

/** Converts the TF.js pad argument into { pad, explicitPaddings } attrs. */
export function padAttrs(pad: PadArg, what: string): { pad: PadMode; explicitPaddings: number[] } {
  if (pad === 'same' || pad === 'valid') return { pad, explicitPaddings: [] };
  if (typeof pad === 'number') {
    if (!Number.isInteger(pad) || pad < 0) {
      throw new KilnError('INVALID_ATTR', `${what}: a numeric pad must be a non-negative integer, got ${pad}`);
    }
    return { pad: 'explicit', explicitPaddings: [pad, pad, pad, pad] };
  }
  const ok = Array.isArray(pad) && pad.length === 4 && pad.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0));
  if (!ok) {
    throw new KilnError(
      'INVALID_ATTR',
      `${what}: pad must be 'same', 'valid', a non-negative integer or [[0,0],[top,bottom],[left,right],[0,0]], got ${JSON.stringify(pad)}`,
    );
  }
  if (pad[0]![0] !== 0 || pad[0]![1] !== 0 || pad[3]![0] !== 0 || pad[3]![1] !== 0) {
    throw new KilnError('INVALID_ATTR', `${what}: explicit padding of the batch and channel dims must be 0, got ${JSON.stringify(pad)}`);
  }
  return { pad: 'explicit', explicitPaddings: [pad[1]![0]!, pad[1]![1]!, pad[2]![0]!, pad[2]![1]!] };
}

/** Validates strides, dilations and paddings (the attr table only checks their types). */
export function checkWindowAttrs(attrs: Attrs, what: string): void {
  hwPair(attrs.strides as number[], 'strides', what);
  hwPair(attrs.dilations as number[], 'dilations', what);
  const pads = attrs.explicitPaddings as number[];
  if (attrs.pad === 'explicit') {
    if (pads.length !== 4 || !pads.every((p) => p >= 0)) {
      throw new KilnError('INVALID_ATTR', `${what}: explicitPaddings must be 4 non-negative integers [top, bottom, left, right], got ${JSON.stringify(pads)}`);
    }
  } else if (pads.length !== 0) {
    throw new KilnError('INVALID_ATTR', `${what}: explicitPaddings given (${JSON.stringify(pads)}) but pad is '${String(attrs.pad)}' (use pad 'explicit')`);
  }
}

export interface Window1D {
  out: number;
  /** Padding before the first element. */
  before: number;
  /** Padding after the last element (the padded range is [-before, in + after)). */
  after: number;
}

/** Output size and padding along one spatial dim. `axis` names it ('height'/'width') in errors. */
export function window1D(inSize: number, k: number, stride: number, dilation: number, attrs: Attrs, side: 0 | 1, what: string, axis: string): Window1D {
  const eff = (k - 1) * dilation + 1;
  const mode = attrs.pad as PadMode;
  if (mode === 'same') {
    const out = Math.ceil(inSize / stride);
    const total = Math.max((out - 1) * stride + eff - inSize, 0);
    const before = Math.floor(total / 2);
    return { out, before, after: total - before };
  }
  const pads = attrs.explicitPaddings as number[];
  const before = mode === 'explicit' ? pads[2 * side]! : 0;
  const after = mode === 'explicit' ? pads[2 * side + 1]! : 0;
  const span = inSize + before + after - eff;
  if (span < 0) {
    throw new KilnError(
      'SHAPE_MISMATCH',
      `${what}: window ${axis} ${eff}${dilation > 1 ? ` (size ${k}, dilation ${dilation})` : ''} is larger than the padded input ${axis} ${inSize + before + after}`,
    );
  }
  const rounding = (mode === 'explicit' ? (attrs.dimRoundingMode ?? 'floor') : 'floor') as DimRoundingMode;
  const q = span / stride;
  let out = (rounding === 'ceil' ? Math.ceil(q) : rounding === 'round' ? Math.round(q) : Math.floor(q)) + 1;
  if (rounding !== 'floor' && out > 1 && (out - 1) * stride >= inSize + before) out--;
  return { out, before, after };
}

/** Output size along one dim with unknown sizes carried as null (for inference). */
export function windowDim(inSize: Dim, k: Dim, side: 0 | 1, attrs: Attrs, what: string, axis: string): Dim {
  const stride = (attrs.strides as number[])[side]!;
  const dilation = (attrs.dilations as number[])[side]!;
  if (inSize === null) return null;
  if (attrs.pad === 'same') return Math.ceil(inSize / stride);
  if (k === null) return null;
  return window1D(inSize, k, stride, dilation, attrs, side, what, axis).out;
}

/** Everything a reference kernel needs to walk a 2-D window over NHWC data. */
export interface Geometry2D {
  batch: number;
  inH: number;
  inW: number;
  kH: number;
  kW: number;
  outH: number;
  outW: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
}

/** Geometry of a window of size [kH, kW] over the concrete NHWC shape `x`. */
export function geometry2D(x: readonly number[], kH: number, kW: number, attrs: Attrs, what: string): Geometry2D {
  const [strideH, strideW] = attrs.strides as number[] as [number, number];
  const [dilationH, dilationW] = attrs.dilations as number[] as [number, number];
  const h = window1D(x[1]!, kH, strideH, dilationH, attrs, 0, what, 'height');
  const w = window1D(x[2]!, kW, strideW, dilationW, attrs, 1, what, 'width');
  return {
    batch: x[0]!,
    inH: x[1]!,
    inW: x[2]!,
    kH,
    kW,
    outH: h.out,
    outW: w.out,
    strideH,
    strideW,
    dilationH,
    dilationW,
    padTop: h.before,
    padBottom: h.after,
    padLeft: w.before,
    padRight: w.after,
  };
}

/** Throws SHAPE_MISMATCH unless `t` has rank 4 (NHWC or HWIO). */
export function checkRank4(what: string, name: string, shape: readonly Dim[], layout: string): void {
  if (shape.length !== 4) {
    throw new KilnError('SHAPE_MISMATCH', `${what}: ${name} must be rank 4 (${layout}), got rank ${shape.length} ${fmtShape(shape)}`);
  }
}

/** Throws DTYPE_MISMATCH unless `dtype` is float32 (every windowed op is float-only). */
export function checkFloat(what: string, name: string, dtype: DType): void {
  if (dtype !== 'float32') throw new KilnError('DTYPE_MISMATCH', `${what}: ${name} must be float32, got ${dtype} (use cast())`);
}

/** Whether two possibly-unknown dims could be equal. */
export function dimsCompatible(a: Dim, b: Dim): boolean {
  return a === null || b === null || a === b;
}

/** Throws SHAPE_MISMATCH unless dy could be the output of the forward windowed op (shape `expected`). */
export function checkDy(what: string, dy: TensorType, expected: Shape, forward: string): void {
  checkFloat(what, 'dy', dy.dtype);
  if (dy.shape.length !== 4 || !dy.shape.every((d, i) => dimsCompatible(d, expected[i]!))) {
    throw new KilnError('SHAPE_MISMATCH', `${what}: dy has shape ${fmtShape(dy.shape)} but the ${forward} output has shape ${fmtShape(expected)}`);
  }
}
