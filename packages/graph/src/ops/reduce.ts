/**
 * Reductions: sum, mean, max, min, prod (over a list of axes, TF.js semantics), argMax/argMin
 * (one axis, int32 result), cumsum, and unsortedSegmentSum (the scatter-add that the gradient
 * of gather needs, as in TF.js).
 *
 * The `axis` attr of the five reductions is always an explicit list (the free function turns
 * "undefined = all axes" into [0..rank-1]); axes may be negative and must not repeat.
 */
import type { DType } from '../dtype.js';
import { KilnError, fmtShape } from '../errors.js';
import type { SymbolicTensor } from '../graph.js';
import { type Shape, normalizeAxes, normalizeAxis } from '../shape.js';
import { type TensorLike, apply1, toSymbolic } from './apply.js';
import { type InferContext, registerOp } from './registry.js';

const NUMERIC: readonly DType[] = ['float32', 'int32'];

/** Throws DTYPE_MISMATCH unless `got` is one of `allowed`. */
function requireDType(ctx: InferContext, operand: string, got: DType, allowed: readonly DType[]): void {
  if (!allowed.includes(got)) {
    throw new KilnError('DTYPE_MISMATCH', `${ctx.what}: ${operand} must be ${allowed.join(' or ')}, got ${got} (use cast())`);
  }
}

/** The shape left after reducing `axes` (already normalized) of `shape`. */
export function reducedShape(shape: readonly (number | null)[], axes: readonly number[], keepDims: boolean): Shape {
  const out: Shape = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

export const REDUCTIONS = ['sum', 'mean', 'max', 'min', 'prod'] as const;
export type ReductionOp = (typeof REDUCTIONS)[number];

const REDUCTION_DOCS: Record<ReductionOp, string> = {
  sum: 'Sum over axes (all when none given); the sum of nothing is 0.',
  mean: 'Mean over axes; int32 input gives int32 (truncating division, as TensorFlow).',
  max: 'Maximum over axes; the max of nothing is -Infinity (int32: -2^31).',
  min: 'Minimum over axes; the min of nothing is +Infinity (int32: 2^31-1).',
  prod: 'Product over axes; the product of nothing is 1.',
};

for (const name of REDUCTIONS) {
  registerOp({
    name,
    family: 'reduce',
    doc: REDUCTION_DOCS[name],
    inputs: [{ name: 'x' }],
    attrs: { axis: { type: 'ints' }, keepDims: { type: 'bool', default: false } },
    infer: ([x], attrs, ctx) => {
      requireDType(ctx, 'x', x!.dtype, NUMERIC);
      const axes = normalizeAxes(attrs.axis as number[], x!.shape.length, ctx.what);
      return [{ dtype: x!.dtype, shape: reducedShape(x!.shape, axes, attrs.keepDims as boolean) }];
    },
  });
}

for (const name of ['argMax', 'argMin'] as const) {
  registerOp({
    name,
    family: 'reduce',
    doc: `Index (int32) of the ${name === 'argMax' ? 'largest' : 'smallest'} value along axis; the first one on ties.`,
    inputs: [{ name: 'x' }],
    attrs: { axis: { type: 'int', default: 0 } },
    infer: ([x], attrs, ctx) => {
      requireDType(ctx, 'x', x!.dtype, NUMERIC);
      if (x!.shape.length === 0) throw new KilnError('INVALID_ARGUMENT', `${ctx.what}: x must have rank >= 1, got a scalar`);
      const axis = normalizeAxis(attrs.axis as number, x!.shape.length, ctx.what);
      if (x!.shape[axis] === 0) {
        throw new KilnError('INVALID_ARGUMENT', `${ctx.what}: cannot take ${name} over an empty axis ${axis} (x: ${fmtShape(x!.shape)})`);
      }
      return [{ dtype: 'int32', shape: reducedShape(x!.shape, [axis], false) }];
    },
  });
}

registerOp({
  name: 'cumsum',
  family: 'reduce',
  doc: 'Cumulative sum along axis; exclusive leaves out the current element, reverse sums from the end.',
  inputs: [{ name: 'x' }],
  attrs: { axis: { type: 'int', default: 0 }, exclusive: { type: 'bool', default: false }, reverse: { type: 'bool', default: false } },
  infer: ([x], attrs, ctx) => {
    requireDType(ctx, 'x', x!.dtype, NUMERIC);
    if (x!.shape.length === 0) throw new KilnError('INVALID_ARGUMENT', `${ctx.what}: x must have rank >= 1, got a scalar`);
    normalizeAxis(attrs.axis as number, x!.shape.length, ctx.what);
    return [{ dtype: x!.dtype, shape: [...x!.shape] }];
  },
});

registerOp({
  name: 'unsortedSegmentSum',
  family: 'reduce',
  doc: 'out[s, ...] = sum of data[i..., ...] over i with segmentIds[i...] = s; segmentIds shape is a prefix of data shape; negative ids are dropped.',
  inputs: [{ name: 'data' }, { name: 'segmentIds' }],
  attrs: { numSegments: { type: 'int' } },
  infer: ([data, ids], attrs, ctx) => {
    requireDType(ctx, 'data', data!.dtype, NUMERIC);
    requireDType(ctx, 'segmentIds', ids!.dtype, ['int32']);
    const n = attrs.numSegments as number;
    if (n < 0) throw new KilnError('INVALID_ATTR', `${ctx.what}: numSegments must be >= 0, got ${n}`);
    const k = ids!.shape.length;
    const prefixOk = k <= data!.shape.length && ids!.shape.every((d, i) => d === null || data!.shape[i] === null || d === data!.shape[i]);
    if (!prefixOk) {
      throw new KilnError(
        'SHAPE_MISMATCH',
        `${ctx.what}: segmentIds shape must be a prefix of data shape (data: ${fmtShape(data!.shape)}, segmentIds: ${fmtShape(ids!.shape)})`,
      );
    }
    return [{ dtype: data!.dtype, shape: [n, ...data!.shape.slice(k)] }];
  },
});

/** Resolves TF.js's `axis?: number | number[]` to the explicit list stored in the attr. */
function axisList(x: SymbolicTensor, axis: number | number[] | undefined | null): number[] {
  if (axis === undefined || axis === null) return [...Array(x.shape.length).keys()];
  return typeof axis === 'number' ? [axis] : [...axis];
}

function reduction(op: ReductionOp, x: TensorLike, axis?: number | number[] | null, keepDims = false): SymbolicTensor {
  const [xs] = toSymbolic(op, [x]);
  return apply1(op, [xs!], { axis: axisList(xs!, axis), keepDims });
}

export function sum(x: TensorLike, axis?: number | number[] | null, keepDims = false): SymbolicTensor {
  return reduction('sum', x, axis, keepDims);
}
export function mean(x: TensorLike, axis?: number | number[] | null, keepDims = false): SymbolicTensor {
  return reduction('mean', x, axis, keepDims);
}
export function max(x: TensorLike, axis?: number | number[] | null, keepDims = false): SymbolicTensor {
  return reduction('max', x, axis, keepDims);
}
export function min(x: TensorLike, axis?: number | number[] | null, keepDims = false): SymbolicTensor {
  return reduction('min', x, axis, keepDims);
}
export function prod(x: TensorLike, axis?: number | number[] | null, keepDims = false): SymbolicTensor {
  return reduction('prod', x, axis, keepDims);
}
export function argMax(x: TensorLike, axis = 0): SymbolicTensor {
  return apply1('argMax', [x], { axis });
}
export function argMin(x: TensorLike, axis = 0): SymbolicTensor {
  return apply1('argMin', [x], { axis });
}
export function cumsum(x: TensorLike, axis = 0, exclusive = false, reverse = false): SymbolicTensor {
  return apply1('cumsum', [x], { axis, exclusive, reverse });
}
/** As tf.unsortedSegmentSum(x, segmentIds, numSegments); literal segmentIds become int32 constants. */
export function unsortedSegmentSum(x: TensorLike, segmentIds: TensorLike, numSegments: number): SymbolicTensor {
  const [xs] = toSymbolic('unsortedSegmentSum', [x]);
  const ids = Array.isArray(segmentIds) || typeof segmentIds === 'number' ? xs!.graph.constant(segmentIds, 'int32') : segmentIds;
  return apply1('unsortedSegmentSum', [xs!, ids], { numSegments });
}
