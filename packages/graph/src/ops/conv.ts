/**
 * Convolutions, NHWC with HWIO filters (TensorFlow's layout): conv2d, depthwiseConv2d,
 * conv2dTranspose, and the ops their gradients are made of. The backprop ops take their
 * operands as TensorFlow's Conv2DBackpropInput/Filter do, except that the "sizes" operand is a
 * tensor whose values are ignored and whose shape is used (x for the input gradient, filter
 * for the filter gradient): that keeps unknown dims (a null batch, or null spatial dims in a
 * fully convolutional net) resolvable at run time without a shape op. Window geometry
 * (strides, pad, dilations, dimRoundingMode) lives in conv-geometry.ts.
 */
import { KilnError, fmtShape } from '../errors.js';
import { type SymbolicTensor, isSymbolic } from '../graph.js';
import type { Dim, Shape } from '../shape.js';
import { type TensorLike, apply1 } from './apply.js';
import {
  type DimRoundingMode,
  type PadArg,
  WINDOW_ATTRS,
  checkFloat,
  checkRank4,
  checkDy,
  checkWindowAttrs,
  dimsCompatible,
  hwPair,
  padAttrs,
  windowDim,
} from './conv-geometry.js';
import { expandDims, squeeze } from './movement.js';
import { type Attrs, type TensorType, registerOp } from './registry.js';

export * from './conv-geometry.js';

/**
 * The output shape of a conv of `x` [N,H,W,C] with `filter` ([kh,kw,C,O], or [kh,kw,C,M] for
 * depthwise, giving C*M channels), validating dtypes, ranks, channels and attrs.
 */
export function convOutputShape(x: TensorType, filter: TensorType, attrs: Attrs, what: string, depthwise: boolean): Shape {
  checkFloat(what, 'x', x.dtype);
  checkFloat(what, 'filter', filter.dtype);
  checkRank4(what, 'x', x.shape, 'NHWC');
  checkRank4(what, 'filter', filter.shape, depthwise ? '[height, width, inChannels, multiplier]' : 'HWIO');
  checkWindowAttrs(attrs, what);
  const [n, h, w, c] = x.shape as [Dim, Dim, Dim, Dim];
  const [kh, kw, fc, fo] = filter.shape as [Dim, Dim, Dim, Dim];
  if (!dimsCompatible(c, fc)) {
    throw new KilnError(
      'SHAPE_MISMATCH',
      `${what}: filter has ${fc} input channels but x has ${c} (x: ${fmtShape(x.shape)}, filter: ${fmtShape(filter.shape)})`,
    );
  }
  const outH = windowDim(h, kh, 0, attrs, what, 'height');
  const outW = windowDim(w, kw, 1, attrs, what, 'width');
  let outC: Dim = fo;
  if (depthwise) {
    const inC = c ?? fc;
    outC = inC === null || fo === null ? null : inC * fo;
  }
  return [n, outH, outW, outC];
}

/** The attrs of a windowed op from TF.js-style arguments. */
export function windowAttrs(
  what: string,
  strides: number | readonly number[],
  pad: PadArg,
  dilations: number | readonly number[] = 1,
  dimRoundingMode?: DimRoundingMode,
): Attrs {
  return {
    strides: hwPair(strides, 'strides', what),
    ...padAttrs(pad, what),
    dilations: hwPair(dilations, 'dilations', what),
    dimRoundingMode: dimRoundingMode ?? 'floor',
  };
}

/** TF.js accepts a rank-3 x (one image): run on a batch of 1 and drop that batch again. */
export function batchedNHWC(x: TensorLike, fn: (x4: TensorLike) => SymbolicTensor): SymbolicTensor {
  if (isSymbolic(x) && x.shape.length === 3) return squeeze(fn(expandDims(x, 0)), [0]);
  return fn(x);
}

function checkDataFormat(what: string, dataFormat: string): void {
  if (dataFormat !== 'NHWC') {
    throw new KilnError('UNSUPPORTED', `${what}: dataFormat '${dataFormat}' is not supported; Kiln convolutions are NHWC (transpose x to NHWC first)`);
  }
}

for (const depthwise of [false, true]) {
  const base = depthwise ? 'depthwiseConv2d' : 'conv2d';
  registerOp({
    name: base,
    family: 'conv',
    doc: depthwise
      ? 'Depthwise 2-D convolution: x [N,H,W,C], filter [kh,kw,C,M] -> [N,oh,ow,C*M].'
      : '2-D convolution: x [N,H,W,C], filter [kh,kw,C,O] -> [N,oh,ow,O].',
    inputs: [{ name: 'x' }, { name: 'filter' }],
    attrs: WINDOW_ATTRS,
    infer: ([x, f], attrs, ctx) => [{ dtype: 'float32', shape: convOutputShape(x!, f!, attrs, ctx.what, depthwise) }],
  });
  // The input gradient has x's shape; the filter gradient has filter's shape.
  for (const [suffix, operand] of [
    ['Input', 0],
    ['Filter', 1],
  ] as const) {
    registerOp({
      name: `${base}Backprop${suffix}`,
      family: 'conv',
      doc: `Gradient of ${base} with respect to ${operand === 0 ? 'x' : 'filter'} (only the shape of input ${operand === 0 ? 'x' : 'filter'} is used).`,
      inputs: [{ name: 'x' }, { name: 'filter' }, { name: 'dy' }],
      attrs: WINDOW_ATTRS,
      infer: ([x, f, dy], attrs, ctx) => {
        checkDy(ctx.what, dy!, convOutputShape(x!, f!, attrs, ctx.what, depthwise), base);
        return [{ dtype: 'float32', shape: [...(operand === 0 ? x! : f!).shape] }];
      },
    });
  }
}

registerOp({
  name: 'conv2dTranspose',
  family: 'conv',
  doc: 'Transposed 2-D convolution (the gradient of conv2d w.r.t. its input): x [N,h,w,I], filter [kh,kw,O,I] -> outputShape [N,H,W,O].',
  inputs: [{ name: 'x' }, { name: 'filter' }],
  attrs: { outputShape: { type: 'shape' }, ...WINDOW_ATTRS },
  infer: ([x, f], attrs, ctx) => {
    const what = ctx.what;
    const os = attrs.outputShape as Dim[];
    if (os.length !== 4 || os.slice(1).some((d) => d === null)) {
      throw new KilnError('INVALID_ATTR', `${what}: outputShape must be [batch, height, width, channels] with only the batch unknown, got ${fmtShape(os)}`);
    }
    checkFloat(what, 'x', x!.dtype);
    checkFloat(what, 'filter', f!.dtype);
    checkRank4(what, 'x', x!.shape, 'NHWC');
    checkRank4(what, 'filter', f!.shape, '[height, width, outChannels, inChannels]');
    if (!dimsCompatible(x!.shape[3]!, f!.shape[3]!)) {
      throw new KilnError(
        'SHAPE_MISMATCH',
        `${what}: filter has ${f!.shape[3]} input channels (filter[3]) but x has ${x!.shape[3]} (x: ${fmtShape(x!.shape)}, filter: ${fmtShape(f!.shape)})`,
      );
    }
    if (!dimsCompatible(os[3]!, f!.shape[2]!)) {
      throw new KilnError(
        'SHAPE_MISMATCH',
        `${what}: outputShape has ${os[3]} channels but filter has ${f!.shape[2]} output channels (filter[2]) (outputShape: ${fmtShape(os)}, filter: ${fmtShape(f!.shape)})`,
      );
    }
    if (!dimsCompatible(os[0]!, x!.shape[0]!)) {
      throw new KilnError('SHAPE_MISMATCH', `${what}: outputShape batch ${os[0]} differs from x batch ${x!.shape[0]}`);
    }
    // The forward conv of the output must give back x's spatial size.
    const fwdFilter: TensorType = { dtype: 'float32', shape: [f!.shape[0]!, f!.shape[1]!, f!.shape[2]!, f!.shape[3]!] };
    const fwd = convOutputShape({ dtype: 'float32', shape: os }, fwdFilter, attrs, what, false);
    if (!dimsCompatible(fwd[1]!, x!.shape[1]!) || !dimsCompatible(fwd[2]!, x!.shape[2]!)) {
      throw new KilnError(
        'SHAPE_MISMATCH',
        `${what}: a conv2d of outputShape ${fmtShape(os)} with this filter, strides and pad gives ${fmtShape(fwd)}, but x is ${fmtShape(x!.shape)}`,
      );
    }
    return [{ dtype: 'float32', shape: [os[0] ?? x!.shape[0]!, os[1]!, os[2]!, os[3]!] }];
  },
});

type ConvFn = (
  x: TensorLike,
  filter: TensorLike,
  strides: number | [number, number],
  pad: PadArg,
  dataFormat?: 'NHWC' | 'NCHW',
  dilations?: number | [number, number],
  dimRoundingMode?: DimRoundingMode,
) => SymbolicTensor;

/** The TF.js-style free function of a forward conv (x rank 4, or 3 for one image). */
function conv(op: 'conv2d' | 'depthwiseConv2d'): ConvFn {
  return (x, filter, strides, pad, dataFormat = 'NHWC', dilations = 1, dimRoundingMode) => {
    checkDataFormat(op, dataFormat);
    const attrs = windowAttrs(op, strides, pad, dilations, dimRoundingMode);
    return batchedNHWC(x, (x4) => apply1(op, [x4, filter], attrs));
  };
}

/** conv2d(x, filter, strides, pad, dataFormat='NHWC', dilations=1, dimRoundingMode?) as in TF.js. */
export const conv2d: ConvFn = conv('conv2d');
/** depthwiseConv2d(x, filter, strides, pad, dataFormat='NHWC', dilations=1, dimRoundingMode?) as in TF.js. */
export const depthwiseConv2d: ConvFn = conv('depthwiseConv2d');

/**
 * conv2dTranspose(x, filter, outputShape, strides, pad, dimRoundingMode?) as in TF.js; filter
 * is [kh, kw, outChannels, inChannels]. The batch of outputShape may be null (taken from x).
 */
export function conv2dTranspose(
  x: TensorLike,
  filter: TensorLike,
  outputShape: readonly (number | null)[],
  strides: number | [number, number],
  pad: PadArg,
  dimRoundingMode?: DimRoundingMode,
): SymbolicTensor {
  const attrs = windowAttrs('conv2dTranspose', strides, pad, 1, dimRoundingMode);
  if (isSymbolic(x) && x.shape.length === 3 && outputShape.length === 3) {
    return batchedNHWC(x, (x4) => apply1('conv2dTranspose', [x4, filter], { outputShape: [1, ...outputShape], ...attrs }));
  }
  return apply1('conv2dTranspose', [x, filter], { outputShape: [...outputShape], ...attrs });
}

type BackpropFn = (
  x: TensorLike,
  filter: TensorLike,
  dy: TensorLike,
  strides: number | [number, number],
  pad: PadArg,
  dilations?: number | [number, number],
  dimRoundingMode?: DimRoundingMode,
) => SymbolicTensor;

/** The TF-style free function of a backprop op: (x, filter, dy, strides, pad, dilations = 1, dimRoundingMode?). */
function backprop(op: string): BackpropFn {
  return (x, filter, dy, strides, pad, dilations = 1, dimRoundingMode) =>
    apply1(op, [x, filter, dy], windowAttrs(op, strides, pad, dilations, dimRoundingMode));
}

/** dL/dx of conv2d(x, filter, ...) given dy = dL/dy; only x's shape is read. */
export const conv2dBackpropInput: BackpropFn = backprop('conv2dBackpropInput');
/** dL/dfilter of conv2d(x, filter, ...) given dy = dL/dy; only filter's shape is read. */
export const conv2dBackpropFilter: BackpropFn = backprop('conv2dBackpropFilter');
/** dL/dx of depthwiseConv2d(x, filter, ...) given dy; only x's shape is read. */
export const depthwiseConv2dBackpropInput: BackpropFn = backprop('depthwiseConv2dBackpropInput');
/** dL/dfilter of depthwiseConv2d(x, filter, ...) given dy; only filter's shape is read. */
export const depthwiseConv2dBackpropFilter: BackpropFn = backprop('depthwiseConv2dBackpropFilter');
