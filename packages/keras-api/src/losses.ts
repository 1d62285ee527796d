/**
 * Keras losses as per-example graph ops: each maps (yTrue, yPred) to a [batch] tensor of
 * losses, which the model weights (sample / class weights) and averages. Identifiers follow
 * TensorFlow.js ('meanSquaredError' or 'mse', 'categoricalCrossentropy', ...). Cross entropies
 * take probabilities, as in Keras; when yPred comes straight out of a softmax (or sigmoid) op
 * the loss is computed from its logits instead, in the numerically stable form, as TensorFlow
 * does.
 */
import {
  KilnError,
  type SymbolicTensor,
  Reduction,
  abs,
  cast,
  clipByValue,
  log,
  losses as graphLosses,
  mean,
  mul,
  neg,
  oneHot,
  square,
  sub,
  sum,
  add,
} from '@kiln/graph';

const EPS = 1e-7;

/** Mean over every axis but the batch (per-example value). */
function perExample(x: SymbolicTensor): SymbolicTensor {
  return x.shape.length <= 1
    ? x
    : mean(
        x,
        [...Array(x.shape.length - 1).keys()].map((i) => i + 1),
      );
}

/** The logits behind `p` when p = op(logits) for `op`, else null. */
function logitsOf(p: SymbolicTensor, op: string): SymbolicTensor | null {
  if (p.node.op !== op) return null;
  if (op === 'softmax' && p.node.attrs.dim !== -1 && p.node.attrs.dim !== p.shape.length - 1) return null;
  return p.node.inputs[0]!;
}

export const LOSSES = {
  meanSquaredError: (y: SymbolicTensor, p: SymbolicTensor) => perExample(square(sub(p, y))),
  meanAbsoluteError: (y: SymbolicTensor, p: SymbolicTensor) => perExample(abs(sub(p, y))),
  huberLoss: (y: SymbolicTensor, p: SymbolicTensor) => perExample(graphLosses.huberLoss(y, p, null, 1, Reduction.NONE)),
  binaryCrossentropy: (y: SymbolicTensor, p: SymbolicTensor) => {
    const logits = logitsOf(p, 'sigmoid');
    if (logits) return perExample(graphLosses.sigmoidCrossEntropy(y, logits, null, 0, Reduction.NONE));
    const q = clipByValue(p, EPS, 1 - EPS);
    return perExample(neg(add(mul(y, log(q)), mul(sub(1, y), log(sub(1, q))))));
  },
  categoricalCrossentropy: (y: SymbolicTensor, p: SymbolicTensor) => {
    const logits = logitsOf(p, 'softmax');
    const perRow = logits ? graphLosses.softmaxCrossEntropy(y, logits, null, 0, Reduction.NONE) : neg(sum(mul(y, log(clipByValue(p, EPS, 1 - EPS))), -1));
    return perExample(perRow);
  },
  sparseCategoricalCrossentropy: (y: SymbolicTensor, p: SymbolicTensor) => {
    const labels = y.dtype === 'int32' ? y : cast(y, 'int32');
    const logits = logitsOf(p, 'softmax');
    if (logits) return perExample(graphLosses.sparseSoftmaxCrossEntropy(labels, logits, null, Reduction.NONE));
    const n = p.shape[p.shape.length - 1] as number;
    const picked = sum(mul(oneHot(labels, n, 1, 0, 'float32'), p), -1);
    return perExample(neg(log(clipByValue(picked, EPS, 1))));
  },
} as const;

export type LossName = keyof typeof LOSSES;

const ALIASES: Record<string, LossName> = {
  mse: 'meanSquaredError',
  MSE: 'meanSquaredError',
  mae: 'meanAbsoluteError',
  MAE: 'meanAbsoluteError',
  huber: 'huberLoss',
  meanSquaredError: 'meanSquaredError',
  meanAbsoluteError: 'meanAbsoluteError',
  huberLoss: 'huberLoss',
  binaryCrossentropy: 'binaryCrossentropy',
  categoricalCrossentropy: 'categoricalCrossentropy',
  sparseCategoricalCrossentropy: 'sparseCategoricalCrossentropy',
};

/** The canonical loss name for an identifier, or a KilnError listing the known ones. */
export function resolveLoss(id: unknown): LossName {
  const name = typeof id === 'string' ? ALIASES[id] : undefined;
  if (!name) throw new KilnError('INVALID_ARGUMENT', `compile: unknown loss ${JSON.stringify(id)} (expected one of ${Object.keys(ALIASES).join(', ')})`);
  return name;
}

/** Whether the targets of this loss are integer class ids. */
export function sparseTargets(loss: LossName): boolean {
  return loss === 'sparseCategoricalCrossentropy';
}
