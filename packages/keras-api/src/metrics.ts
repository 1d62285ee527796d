/**
 * Keras metrics as per-example graph ops (averaged over the batch, then over the epoch by the
 * training loop). 'accuracy' / 'acc' picks binary, categorical or sparse categorical accuracy
 * from the loss, as Keras does.
 */
import { KilnError, type SymbolicTensor, argMax, cast, equal, greater, mean } from '@kiln/graph';
import { LOSSES, type LossName } from './losses.js';

function asFloat(x: SymbolicTensor): SymbolicTensor {
  return cast(x, 'float32');
}

function perExample(x: SymbolicTensor): SymbolicTensor {
  return x.shape.length <= 1
    ? x
    : mean(
        x,
        [...Array(x.shape.length - 1).keys()].map((i) => i + 1),
      );
}

export const METRICS = {
  binaryAccuracy: (y: SymbolicTensor, p: SymbolicTensor) => perExample(asFloat(equal(greater(p, 0.5), greater(y, 0.5)))),
  categoricalAccuracy: (y: SymbolicTensor, p: SymbolicTensor) => asFloat(equal(argMax(p, -1), argMax(y, -1))),
  sparseCategoricalAccuracy: (y: SymbolicTensor, p: SymbolicTensor) => {
    const labels = y.dtype === 'int32' ? y : cast(y, 'int32');
    return asFloat(equal(argMax(p, -1), labels));
  },
  meanSquaredError: LOSSES.meanSquaredError,
  meanAbsoluteError: LOSSES.meanAbsoluteError,
  binaryCrossentropy: LOSSES.binaryCrossentropy,
  categoricalCrossentropy: LOSSES.categoricalCrossentropy,
  sparseCategoricalCrossentropy: LOSSES.sparseCategoricalCrossentropy,
} as const;

export type MetricName = keyof typeof METRICS;

const ALIASES: Record<string, MetricName> = {
  mse: 'meanSquaredError',
  mae: 'meanAbsoluteError',
  binaryAccuracy: 'binaryAccuracy',
  categoricalAccuracy: 'categoricalAccuracy',
  sparseCategoricalAccuracy: 'sparseCategoricalAccuracy',
  meanSquaredError: 'meanSquaredError',
  meanAbsoluteError: 'meanAbsoluteError',
  binaryCrossentropy: 'binaryCrossentropy',
  categoricalCrossentropy: 'categoricalCrossentropy',
  sparseCategoricalCrossentropy: 'sparseCategoricalCrossentropy',
};

/** The metric function for an identifier given the loss; the name it reports under is the identifier. */
export function resolveMetric(id: unknown, loss: LossName): MetricName {
  if (id === 'accuracy' || id === 'acc') {
    if (loss === 'binaryCrossentropy') return 'binaryAccuracy';
    if (loss === 'sparseCategoricalCrossentropy') return 'sparseCategoricalAccuracy';
    return 'categoricalAccuracy';
  }
  const name = typeof id === 'string' ? ALIASES[id] : undefined;
  if (!name) {
    throw new KilnError('INVALID_ARGUMENT', `compile: unknown metric ${JSON.stringify(id)} (expected 'accuracy' or one of ${Object.keys(ALIASES).join(', ')})`);
  }
  return name;
}
