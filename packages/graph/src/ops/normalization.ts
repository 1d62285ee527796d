/**
 * Normalizations: softmax, logSoftmax (numerically stable: the max is subtracted first),
 * batchNorm and layerNorm. batchNorm and layerNorm always have all their operands as node
 * inputs: when the caller leaves offset or scale out, the free function substitutes scalar
 * constants 0 and 1 (they broadcast), so the op, its kernel and its gradient have one form.
 * Operands broadcast fully (NumPy rules), as in TF.js.
 */
import { KilnError } from '../errors.js';
import type { SymbolicTensor } from '../graph.js';
import { broadcastShapes, normalizeAxes, normalizeAxis } from '../shape.js';
import { type TensorLike, apply1, toSymbolic } from './apply.js';
import { checkFloat } from './conv-geometry.js';
import { type Attrs, type TensorType, registerOp } from './registry.js';

function checkEpsilon(what: string, name: string, eps: number): void {
  if (!Number.isFinite(eps) || eps < 0) throw new KilnError('INVALID_ATTR', `${what}: ${name} must be a finite number >= 0, got ${eps}`);
}

for (const [name, axisAttr, doc] of [
  ['softmax', 'dim', 'exp(x - max) / sum(exp(x - max)) along `dim`.'],
  ['logSoftmax', 'axis', 'x - max - log(sum(exp(x - max))) along `axis`.'],
] as const) {
  registerOp({
    name,
    family: 'normalization',
    doc,
    inputs: [{ name: 'logits' }],
    attrs: { [axisAttr]: { type: 'int', default: -1 } },
    infer: ([x], attrs, ctx) => {
      checkFloat(ctx.what, 'logits', x!.dtype);
      normalizeAxis(attrs[axisAttr] as number, x!.shape.length, ctx.what);
      return [{ dtype: 'float32', shape: [...x!.shape] }];
    },
  });
}

function broadcastAll(what: string, names: readonly string[], ts: readonly TensorType[]): TensorType {
  ts.forEach((t, i) => checkFloat(what, names[i]!, t.dtype));
  let shape = [...ts[0]!.shape];
  for (const t of ts.slice(1)) shape = broadcastShapes(shape, t.shape, what);
  return { dtype: 'float32', shape };
}

const BN_INPUTS = ['x', 'mean', 'variance', 'offset', 'scale'] as const;
registerOp({
  name: 'batchNorm',
  family: 'normalization',
  doc: '(x - mean) * rsqrt(variance + varianceEpsilon) * scale + offset, broadcasting.',
  inputs: BN_INPUTS.map((name) => ({ name })),
  attrs: { varianceEpsilon: { type: 'float', default: 0.001 } },
  infer: (ins, attrs, ctx) => {
    checkEpsilon(ctx.what, 'varianceEpsilon', attrs.varianceEpsilon as number);
    return [broadcastAll(ctx.what, BN_INPUTS, ins)];
  },
});

/** The axes layerNorm normalizes over, validated against x's rank. */
export function layerNormAxes(attrs: Attrs, rank: number, what: string): number[] {
  const axes = normalizeAxes(attrs.axes as number[], rank, what);
  if (axes.length === 0) throw new KilnError('INVALID_ATTR', `${what}: axes must name at least one axis`);
  return axes;
}

const LN_INPUTS = ['x', 'scale', 'offset'] as const;
registerOp({
  name: 'layerNorm',
  family: 'normalization',
  doc: '(x - mean) * rsqrt(var + epsilon) * scale + offset, mean and var over `axes` of x.',
  inputs: LN_INPUTS.map((name) => ({ name })),
  attrs: { axes: { type: 'ints' }, epsilon: { type: 'float', default: 0.001 } },
  infer: (ins, attrs, ctx) => {
    checkEpsilon(ctx.what, 'epsilon', attrs.epsilon as number);
    layerNormAxes(attrs, ins[0]!.shape.length, ctx.what);
    return [broadcastAll(ctx.what, LN_INPUTS, ins)];
  },
});

/** softmax(logits, dim=-1) as in TF.js (any axis allowed). */
export function softmax(logits: TensorLike, dim = -1): SymbolicTensor {
  return apply1('softmax', [logits], { dim });
}

/** logSoftmax(logits, axis=-1) as in TF.js (any axis allowed). */
export function logSoftmax(logits: TensorLike, axis = -1): SymbolicTensor {
  return apply1('logSoftmax', [logits], { axis });
}

/**
 * batchNorm(x, mean, variance, offset?, scale?, varianceEpsilon=0.001) as in TF.js; a missing
 * offset is the constant 0 and a missing scale the constant 1.
 */
export function batchNorm(
  x: TensorLike,
  mean: TensorLike,
  variance: TensorLike,
  offset?: TensorLike | null,
  scale?: TensorLike | null,
  varianceEpsilon = 0.001,
): SymbolicTensor {
  const ins = toSymbolic('batchNorm', [x, mean, variance, offset ?? 0, scale ?? 1]);
  return ins[0]!.graph.addNode('batchNorm', ins, { varianceEpsilon }).output;
}

/**
 * layerNorm(x, scale?, offset?, axis=-1, epsilon=0.001): normalizes over the axes from `axis`
 * to the last (ONNX LayerNormalization) when `axis` is a number, or over exactly the listed
 * axes; a missing scale is 1 and a missing offset 0.
 */
export function layerNorm(
  x: TensorLike,
  scale?: TensorLike | null,
  offset?: TensorLike | null,
  axis: number | readonly number[] = -1,
  epsilon = 0.001,
): SymbolicTensor {
  const ins = toSymbolic('layerNorm', [x, scale ?? 1, offset ?? 0]);
  const rank = ins[0]!.shape.length;
  let axes: number[];
  if (typeof axis === 'number') {
    const first = normalizeAxis(axis, rank, 'layerNorm');
    axes = [...Array(rank - first).keys()].map((i) => first + i);
  } else {
    axes = [...axis];
  }
  return ins[0]!.graph.addNode('layerNorm', ins, { axes, epsilon }).output;
}
