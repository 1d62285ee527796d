/**
 * 2-D pooling over NHWC: maxPool, avgPool and their gradients (maxPoolGrad routes dy to the
 * first maximum of each window, as TensorFlow does; avgPoolGrad spreads dy evenly over the
 * elements each window averaged; maxPoolGradGrad is maxPoolGrad's adjoint, for second
 * derivatives). Geometry as for conv (conv-geometry.ts). Beyond TF.js:
 * - dilations (as ONNX MaxPool/AveragePool) through the options argument;
 * - avgPool's countIncludePad (ONNX count_include_pad): false (default, TF.js and TF 'same')
 *   divides by the number of input elements in the window; true divides by the number of
 *   window positions inside the padded input (padding counted, taps past it not);
 * - dimRoundingMode 'ceil' plays ONNX's ceil_mode for explicit padding.
 */
import { KilnError, fmtShape } from '../errors.js';
import type { SymbolicTensor } from '../graph.js';
import type { Dim, Shape } from '../shape.js';
import { type TensorLike, apply1 } from './apply.js';
import {
  type DimRoundingMode,
  type PadArg,
  WINDOW_ATTRS,
  checkDy,
  checkFloat,
  checkRank4,
  checkWindowAttrs,
  dimsCompatible,
  hwPair,
  windowDim,
} from './conv-geometry.js';
import { batchedNHWC, windowAttrs } from './conv.js';
import { type AttrSpec, type Attrs, type TensorType, registerOp } from './registry.js';

/** Output shape of a pool of `x` [N,H,W,C], validating dtype, rank and attrs. */
export function poolOutputShape(x: TensorType, attrs: Attrs, what: string): Shape {
  checkFloat(what, 'x', x.dtype);
  checkRank4(what, 'x', x.shape, 'NHWC');
  checkWindowAttrs(attrs, what);
  const [kh, kw] = hwPair(attrs.filterSize as number[], 'filterSize', what);
  if (attrs.pad === 'explicit') {
    // A pad as wide as the window would make windows that see only padding.
    const [dh, dw] = attrs.dilations as [number, number];
    const eff = [(kh - 1) * dh + 1, (kh - 1) * dh + 1, (kw - 1) * dw + 1, (kw - 1) * dw + 1];
    const pads = attrs.explicitPaddings as number[];
    if (pads.some((p, i) => p >= eff[i]!)) {
      throw new KilnError(
        'INVALID_ATTR',
        `${what}: each explicit padding must be smaller than the window (${eff[0]}x${eff[2]}), got [top, bottom, left, right] = ${JSON.stringify(pads)}`,
      );
    }
  }
  const [n, h, w, c] = x.shape as [Dim, Dim, Dim, Dim];
  return [n, windowDim(h, kh, 0, attrs, what, 'height'), windowDim(w, kw, 1, attrs, what, 'width'), c];
}

const MAX_ATTRS: Record<string, AttrSpec> = { filterSize: { type: 'ints' }, ...WINDOW_ATTRS };
const AVG_ATTRS: Record<string, AttrSpec> = { ...MAX_ATTRS, countIncludePad: { type: 'bool', default: false } };

for (const kind of ['max', 'avg'] as const) {
  const name = `${kind}Pool`;
  const attrs = kind === 'max' ? MAX_ATTRS : AVG_ATTRS;
  registerOp({
    name,
    family: 'pool',
    doc: kind === 'max' ? 'Max over each window: x [N,H,W,C] -> [N,oh,ow,C].' : 'Mean over each window: x [N,H,W,C] -> [N,oh,ow,C].',
    inputs: [{ name: 'x' }],
    attrs,
    infer: ([x], a, ctx) => [{ dtype: 'float32', shape: poolOutputShape(x!, a, ctx.what) }],
  });
  registerOp({
    name: `${name}Grad`,
    family: 'pool',
    doc:
      kind === 'max'
        ? 'Gradient of maxPool w.r.t. x: each dy goes to the first maximum of its window.'
        : 'Gradient of avgPool w.r.t. x (only the shape of input x is used).',
    inputs: [{ name: 'x' }, { name: 'dy' }],
    attrs,
    infer: ([x, dy], a, ctx) => {
      checkDy(ctx.what, dy!, poolOutputShape(x!, a, ctx.what), name);
      return [{ dtype: 'float32', shape: [...x!.shape] }];
    },
  });
}

registerOp({
  name: 'maxPoolGradGrad',
  family: 'pool',
  doc: 'Gradient of maxPoolGrad w.r.t. its dy: picks g at the first maximum of each window of x (y-shaped).',
  inputs: [{ name: 'x' }, { name: 'g' }],
  attrs: MAX_ATTRS,
  infer: ([x, g], a, ctx) => {
    const out = poolOutputShape(x!, a, ctx.what);
    checkFloat(ctx.what, 'g', g!.dtype);
    if (g!.shape.length !== 4 || !g!.shape.every((d, i) => dimsCompatible(d, x!.shape[i]!))) {
      throw new KilnError('SHAPE_MISMATCH', `${ctx.what}: g has shape ${fmtShape(g!.shape)} but x has shape ${fmtShape(x!.shape)}`);
    }
    return [{ dtype: 'float32', shape: out }];
  },
});

export interface PoolOptions {
  /** Window dilation (ONNX); default 1. */
  dilations?: number | [number, number];
  /** avgPool only: count padding positions in the divisor (ONNX count_include_pad); default false. */
  countIncludePad?: boolean;
}

function poolAttrs(
  op: string,
  filterSize: number | [number, number],
  strides: number | [number, number],
  pad: PadArg,
  dimRoundingMode: DimRoundingMode | undefined,
  opts: PoolOptions,
): Attrs {
  const attrs: Attrs = {
    filterSize: hwPair(filterSize, 'filterSize', op),
    ...windowAttrs(op, strides, pad, opts.dilations ?? 1, dimRoundingMode),
  };
  if (op.startsWith('avg')) attrs.countIncludePad = opts.countIncludePad ?? false;
  else if (opts.countIncludePad !== undefined) {
    throw new KilnError('INVALID_ARGUMENT', `${op}: countIncludePad applies to avgPool only`);
  }
  return attrs;
}

type PoolFn = (
  x: TensorLike,
  filterSize: number | [number, number],
  strides: number | [number, number],
  pad: PadArg,
  dimRoundingMode?: DimRoundingMode,
  opts?: PoolOptions,
) => SymbolicTensor;

type PoolGradFn = (
  x: TensorLike,
  dy: TensorLike,
  filterSize: number | [number, number],
  strides: number | [number, number],
  pad: PadArg,
  dimRoundingMode?: DimRoundingMode,
  opts?: PoolOptions,
) => SymbolicTensor;

function pool(op: string): PoolFn {
  return (x, filterSize, strides, pad, dimRoundingMode, opts = {}) => {
    const attrs = poolAttrs(op, filterSize, strides, pad, dimRoundingMode, opts);
    return batchedNHWC(x, (x4) => apply1(op, [x4], attrs));
  };
}

function poolGrad(op: string): PoolGradFn {
  return (x, dy, filterSize, strides, pad, dimRoundingMode, opts = {}) => apply1(op, [x, dy], poolAttrs(op, filterSize, strides, pad, dimRoundingMode, opts));
}

/** maxPool(x, filterSize, strides, pad, dimRoundingMode?) as in TF.js (x rank 4, or 3); opts adds dilations. */
export const maxPool: PoolFn = pool('maxPool');
/** avgPool(x, filterSize, strides, pad, dimRoundingMode?) as in TF.js (x rank 4, or 3); opts adds countIncludePad, dilations. */
export const avgPool: PoolFn = pool('avgPool');
/** dL/dx of maxPool(x, ...) given dy = dL/dy. */
export const maxPoolGrad: PoolGradFn = poolGrad('maxPoolGrad');
/** dL/dx of avgPool(x, ...) given dy = dL/dy; only x's shape is read. */
export const avgPoolGrad: PoolGradFn = poolGrad('avgPoolGrad');
