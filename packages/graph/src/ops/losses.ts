/**
 * Losses as compositions of existing ops (no op of their own: their gradients follow from the
 * ops they are made of). Names and argument orders follow tf.losses in TensorFlow.js:
 * `loss(labels, predictions, weights?, ..., reduction = SUM_BY_NONZERO_WEIGHTS)`. With no
 * weights, SUM_BY_NONZERO_WEIGHTS is the mean over every element. Cross entropies take logits
 * and are computed in numerically stable forms. Also exported grouped as `losses`.
 */
import { KilnError, fmtShape } from '../errors.js';
import type { SymbolicTensor } from '../graph.js';
import { type TensorLike, toSymbolic } from './apply.js';
import { greaterEqual, less, logicalAnd, notEqual } from './compare.js';
import { abs, add, cast, div, exp, log, maximum, minimum, mul, neg, relu, square, sub } from './elementwise.js';
import { broadcastLike, expandDims, oneHot } from './movement.js';
import { logSoftmax } from './normalization.js';
import { mean, sum } from './reduce.js';

/** How per-element losses are reduced, as tf.losses.Reduction (same numeric values). */
export const Reduction = { NONE: 0, MEAN: 1, SUM: 2, SUM_BY_NONZERO_WEIGHTS: 3 } as const;
export type Reduction = (typeof Reduction)[keyof typeof Reduction];

function checkReduction(what: string, r: Reduction): void {
  if (![0, 1, 2, 3].includes(r)) {
    throw new KilnError('INVALID_ARGUMENT', `${what}: reduction must be one of Reduction.NONE/MEAN/SUM/SUM_BY_NONZERO_WEIGHTS, got ${String(r)}`);
  }
}

/** Converts loss arguments to symbolic float32 tensors and checks that they have equal shapes. */
function operands(what: string, args: readonly TensorLike[], names: readonly string[], sameShape = true): SymbolicTensor[] {
  const xs = toSymbolic(what, args);
  xs.forEach((x, i) => {
    if (x.dtype !== 'float32') throw new KilnError('DTYPE_MISMATCH', `${what}: ${names[i]} must be float32, got ${x.dtype} ('${x.name}')`);
  });
  if (sameShape && xs.length >= 2) {
    const [a, b] = [xs[0]!, xs[1]!];
    const ok = a.shape.length === b.shape.length && a.shape.every((d, i) => d === null || b.shape[i] === null || d === b.shape[i]);
    if (!ok) {
      throw new KilnError('SHAPE_MISMATCH', `${what}: ${names[0]} and ${names[1]} must have the same shape, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
    }
  }
  return xs;
}

/**
 * Applies optional weights (broadcast against `losses`) and the reduction, as
 * tf.losses.computeWeightedLoss. MEAN divides by the sum of the (broadcast) weights;
 * SUM_BY_NONZERO_WEIGHTS by their count of non-zeros (0 when every weight is 0, like
 * TensorFlow's div_no_nan); with no weights both are the plain mean.
 */
export function computeWeightedLoss(losses: TensorLike, weights?: TensorLike | null, reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS): SymbolicTensor {
  const what = 'computeWeightedLoss';
  checkReduction(what, reduction);
  const [l] = operands(what, [losses], ['losses']);
  const w = weights === undefined || weights === null ? null : operands(what, [l!, weights], ['losses', 'weights'], false)[1]!;
  const weighted = w ? mul(l!, w) : l!;
  if (reduction === Reduction.NONE) return weighted;
  if (reduction === Reduction.SUM) return sum(weighted);
  if (!w) return mean(weighted);
  // Weights broadcast to the losses' (run-time) shape.
  const wFull = broadcastLike(w, l!);
  if (reduction === Reduction.MEAN) return div(sum(weighted), sum(wFull));
  const nonzero = sum(cast(notEqual(wFull, 0), 'float32'));
  return div(sum(weighted), maximum(nonzero, 1));
}

/** (labels - predictions)^2, reduced. */
export function meanSquaredError(
  labels: TensorLike,
  predictions: TensorLike,
  weights?: TensorLike | null,
  reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS,
): SymbolicTensor {
  const [l, p] = operands('meanSquaredError', [labels, predictions], ['labels', 'predictions']);
  return computeWeightedLoss(square(sub(p!, l!)), weights, reduction);
}

/** |labels - predictions|, reduced. */
export function absoluteDifference(
  labels: TensorLike,
  predictions: TensorLike,
  weights?: TensorLike | null,
  reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS,
): SymbolicTensor {
  const [l, p] = operands('absoluteDifference', [labels, predictions], ['labels', 'predictions']);
  return computeWeightedLoss(abs(sub(p!, l!)), weights, reduction);
}

/**
 * Huber loss: 0.5 * e^2 where |e| <= delta, delta * (|e| - 0.5 * delta) beyond, with
 * e = predictions - labels (written as 0.5*q^2 + delta*(|e| - q), q = min(|e|, delta)).
 */
export function huberLoss(
  labels: TensorLike,
  predictions: TensorLike,
  weights?: TensorLike | null,
  delta = 1.0,
  reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS,
): SymbolicTensor {
  if (!(delta > 0)) throw new KilnError('INVALID_ARGUMENT', `huberLoss: delta must be > 0, got ${delta}`);
  const [l, p] = operands('huberLoss', [labels, predictions], ['labels', 'predictions']);
  const absErr = abs(sub(p!, l!));
  const quadratic = minimum(absErr, delta);
  const linear = sub(absErr, quadratic);
  return computeWeightedLoss(add(mul(0.5, square(quadratic)), mul(delta, linear)), weights, reduction);
}

/** Log loss on probabilities: -l*log(p + eps) - (1 - l)*log(1 - p + eps). */
export function logLoss(
  labels: TensorLike,
  predictions: TensorLike,
  weights?: TensorLike | null,
  epsilon = 1e-7,
  reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS,
): SymbolicTensor {
  const [l, p] = operands('logLoss', [labels, predictions], ['labels', 'predictions']);
  const pos = mul(l!, log(add(p!, epsilon)));
  const negPart = mul(sub(1, l!), log(add(sub(1, p!), epsilon)));
  return computeWeightedLoss(neg(add(pos, negPart)), weights, reduction);
}

/** Hinge loss with labels in {0, 1}: max(0, 1 - (2l - 1) * p). */
export function hingeLoss(
  labels: TensorLike,
  predictions: TensorLike,
  weights?: TensorLike | null,
  reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS,
): SymbolicTensor {
  const [l, p] = operands('hingeLoss', [labels, predictions], ['labels', 'predictions']);
  const signed = sub(mul(2, l!), 1);
  return computeWeightedLoss(relu(sub(1, mul(signed, p!))), weights, reduction);
}

/** 1 - sum(labels * predictions, axis): cosine distance of unit-normalized inputs. */
export function cosineDistance(
  labels: TensorLike,
  predictions: TensorLike,
  axis: number,
  weights?: TensorLike | null,
  reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS,
): SymbolicTensor {
  const [l, p] = operands('cosineDistance', [labels, predictions], ['labels', 'predictions']);
  return computeWeightedLoss(sub(1, sum(mul(l!, p!), axis, true)), weights, reduction);
}

/**
 * Sigmoid cross entropy from logits x and labels z (any values in [0, 1]), in the stable form
 * max(x, 0) - x*z + log(1 + exp(-|x|)). labelSmoothing moves z toward 1/2.
 */
export function sigmoidCrossEntropy(
  multiClassLabels: TensorLike,
  logits: TensorLike,
  weights?: TensorLike | null,
  labelSmoothing = 0,
  reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS,
): SymbolicTensor {
  const [z0, x] = operands('sigmoidCrossEntropy', [multiClassLabels, logits], ['multiClassLabels', 'logits']);
  const z = labelSmoothing > 0 ? add(mul(z0!, 1 - labelSmoothing), 0.5 * labelSmoothing) : z0!;
  const perElement = add(sub(relu(x!), mul(x!, z)), log(add(1, exp(neg(abs(x!))))));
  return computeWeightedLoss(perElement, weights, reduction);
}

function lastDim(what: string, logits: SymbolicTensor): number {
  const n = logits.shape[logits.shape.length - 1];
  if (logits.shape.length === 0 || n === null || n === undefined) {
    throw new KilnError('SHAPE_MISMATCH', `${what}: logits need a known last (class) dimension, got ${fmtShape(logits.shape)}`);
  }
  return n;
}

/**
 * Softmax cross entropy from logits over the last axis: -sum(labels * logSoftmax(logits), -1)
 * per example, then reduced. labelSmoothing mixes the labels with the uniform distribution.
 */
export function softmaxCrossEntropy(
  onehotLabels: TensorLike,
  logits: TensorLike,
  weights?: TensorLike | null,
  labelSmoothing = 0,
  reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS,
): SymbolicTensor {
  const what = 'softmaxCrossEntropy';
  const [l0, x] = operands(what, [onehotLabels, logits], ['onehotLabels', 'logits']);
  const numClasses = lastDim(what, x!);
  const l = labelSmoothing > 0 ? add(mul(l0!, 1 - labelSmoothing), labelSmoothing / numClasses) : l0!;
  return computeWeightedLoss(neg(sum(mul(l, logSoftmax(x!)), -1)), weights, reduction);
}

/**
 * Softmax cross entropy with integer class labels (as tf.compat.v1.losses.sparse_softmax_cross_entropy):
 * labels int32 of shape logits.shape[:-1], each in [0, numClasses).
 */
export function sparseSoftmaxCrossEntropy(
  labels: TensorLike,
  logits: TensorLike,
  weights?: TensorLike | null,
  reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS,
): SymbolicTensor {
  const what = 'sparseSoftmaxCrossEntropy';
  const [lab, x] = toSymbolic(what, [labels, logits]);
  if (lab!.dtype !== 'int32') throw new KilnError('DTYPE_MISMATCH', `${what}: labels must be int32 class indices, got ${lab!.dtype} ('${lab!.name}')`);
  if (x!.dtype !== 'float32') throw new KilnError('DTYPE_MISMATCH', `${what}: logits must be float32, got ${x!.dtype} ('${x!.name}')`);
  const numClasses = lastDim(what, x!);
  const batch = x!.shape.slice(0, -1);
  const ok = lab!.shape.length === batch.length && lab!.shape.every((d, i) => d === null || batch[i] === null || d === batch[i]);
  if (!ok) {
    throw new KilnError('SHAPE_MISMATCH', `${what}: labels must have shape ${fmtShape(batch)} (logits without the class axis), got ${fmtShape(lab!.shape)}`);
  }
  // A label outside [0, numClasses) makes its row's loss and gradient NaN, as TensorFlow on CPU
  // does: 0 / 0 added to that row's logits (a computed NaN, so checkNumerics names this node).
  const inRange = cast(logicalAnd(greaterEqual(lab!, 0), less(lab!, numClasses)), 'float32');
  const poison = x!.graph.nameScope(`${what}_label_out_of_range`, () => expandDims(div(0, inRange), -1));
  const hot = oneHot(lab!, numClasses, 1, 0, 'float32');
  return computeWeightedLoss(neg(sum(mul(hot, logSoftmax(add(x!, poison))), -1)), weights, reduction);
}

/** L1 penalty scale * sum(|x|) (as the l1 regularizer in TF.js; default scale 0.01). */
export function l1(x: TensorLike, scale = 0.01): SymbolicTensor {
  const [v] = operands('l1', [x], ['x']);
  return mul(scale, sum(abs(v!)));
}

/** L2 penalty scale * sum(x^2) (as the l2 regularizer in TF.js, no 1/2; default scale 0.01). */
export function l2(x: TensorLike, scale = 0.01): SymbolicTensor {
  const [v] = operands('l2', [x], ['x']);
  return mul(scale, sum(square(v!)));
}

/** The losses grouped as tf.losses. */
export const losses = {
  Reduction,
  computeWeightedLoss,
  meanSquaredError,
  absoluteDifference,
  huberLoss,
  logLoss,
  hingeLoss,
  cosineDistance,
  sigmoidCrossEntropy,
  softmaxCrossEntropy,
  sparseSoftmaxCrossEntropy,
  l1,
  l2,
};
