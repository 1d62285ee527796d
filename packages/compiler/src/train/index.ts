/**
 * `train`: optimizers as graph builders, named and parameterized as tf.train in TensorFlow.js.
 * optimizer.minimize(loss, varList?) returns a target; fetching it applies one update.
 */
import { AdagradOptimizer } from './adagrad.js';
import { AdamOptimizer } from './adam.js';
import { MomentumOptimizer } from './momentum.js';
import type { Hyper } from './optimizer.js';
import { RMSPropOptimizer } from './rmsprop.js';
import { SGDOptimizer } from './sgd.js';

export { AdagradOptimizer, AdamOptimizer, MomentumOptimizer, RMSPropOptimizer, SGDOptimizer };
export { type GradAndVar, type Hyper, Optimizer, trainableVariablesOf } from './optimizer.js';

export const train = {
  /** var -= lr * grad. */
  sgd: (learningRate: Hyper): SGDOptimizer => new SGDOptimizer(learningRate),
  /** accum = momentum * accum + grad; var -= lr * accum (Nesterov variant optional). */
  momentum: (learningRate: Hyper, momentum: Hyper, useNesterov = false): MomentumOptimizer => new MomentumOptimizer(learningRate, momentum, useNesterov),
  /** Adam with TF's bias correction; defaults as tf.train.adam (epsilon 1e-7). */
  adam: (learningRate: Hyper = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null): AdamOptimizer =>
    new AdamOptimizer(learningRate, beta1, beta2, epsilon ?? 1e-7),
  /** RMSProp (optionally centered, with momentum). */
  rmsprop: (learningRate: Hyper, decay = 0.9, momentum = 0, epsilon: number | null = null, centered = false): RMSPropOptimizer =>
    new RMSPropOptimizer(learningRate, decay, momentum, epsilon ?? 1e-7, centered),
  /** Adagrad with an initial accumulator value (default 0.1). */
  adagrad: (learningRate: Hyper, initialAccumulatorValue = 0.1): AdagradOptimizer => new AdagradOptimizer(learningRate, initialAccumulatorValue),
};
