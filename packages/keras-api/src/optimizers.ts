/**
 * Optimizers for `model.compile`: a name ('sgd', 'adam', 'rmsprop', 'adagrad', 'momentum'; the
 * Keras defaults), an optimizer from @kiln/compiler's `train`, or the saved
 * { className, config } form. Each resolves to a fresh @kiln/compiler Optimizer plus a
 * JSON config that a saved model keeps.
 */
import { AdagradOptimizer, AdamOptimizer, type Hyper, MomentumOptimizer, type Optimizer, RMSPropOptimizer, SGDOptimizer } from '@kiln/compiler';
import { KilnError } from '@kiln/graph';

export interface OptimizerConfig {
  className: 'SGD' | 'Adam' | 'RMSProp' | 'Adagrad' | 'Momentum';
  config: Record<string, number | boolean>;
}

export type OptimizerIdentifier = 'sgd' | 'adam' | 'rmsprop' | 'adagrad' | 'momentum' | Optimizer | OptimizerConfig;

function num(o: Optimizer, v: unknown, name: string): number {
  if (typeof v !== 'number') {
    throw new KilnError('UNSUPPORTED', `compile: optimizer ${o.name}: ${name} must be a number to be used (and saved) by a Keras model, got a tensor`);
  }
  return v;
}

/** The saved config of an optimizer. */
export function optimizerConfig(o: Optimizer): OptimizerConfig {
  if (o instanceof AdamOptimizer) {
    return { className: 'Adam', config: { learningRate: num(o, o.learningRate, 'learningRate'), beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon } };
  }
  if (o instanceof RMSPropOptimizer) {
    return {
      className: 'RMSProp',
      config: { learningRate: num(o, o.learningRate, 'learningRate'), decay: o.decay, momentum: o.momentum, epsilon: o.epsilon, centered: o.centered },
    };
  }
  if (o instanceof MomentumOptimizer) {
    return {
      className: 'Momentum',
      config: { learningRate: num(o, o.learningRate, 'learningRate'), momentum: num(o, o.momentum, 'momentum'), useNesterov: o.useNesterov },
    };
  }
  if (o instanceof AdagradOptimizer) {
    return { className: 'Adagrad', config: { learningRate: num(o, o.learningRate, 'learningRate'), initialAccumulatorValue: o.initialAccumulatorValue } };
  }
  if (o instanceof SGDOptimizer) return { className: 'SGD', config: { learningRate: num(o, o.learningRate, 'learningRate') } };
  throw new KilnError('UNSUPPORTED', `compile: optimizer ${o.name} has no saved form`);
}

/**
 * A new Optimizer from its saved config; `learningRate` (e.g. a model's learning-rate
 * variable, which callbacks can change between steps) replaces the configured number.
 */
export function optimizerFromConfig(c: OptimizerConfig, learningRate?: Hyper): Optimizer {
  const k = { ...c.config, ...(learningRate !== undefined ? { learningRate } : {}) } as Record<string, number & boolean> & { learningRate: Hyper };
  switch (c.className) {
    case 'Adam':
      return new AdamOptimizer(k.learningRate, k.beta1, k.beta2, k.epsilon);
    case 'RMSProp':
      return new RMSPropOptimizer(k.learningRate, k.decay, k.momentum, k.epsilon, k.centered);
    case 'Momentum':
      return new MomentumOptimizer(k.learningRate, k.momentum ?? 0.9, k.useNesterov);
    case 'Adagrad':
      return new AdagradOptimizer(k.learningRate, k.initialAccumulatorValue);
    case 'SGD':
      return new SGDOptimizer(k.learningRate);
    default:
      throw new KilnError('INVALID_ARGUMENT', `compile: unknown optimizer class ${JSON.stringify((c as { className: unknown }).className)}`);
  }
}

const DEFAULTS: Record<string, OptimizerConfig> = {
  sgd: { className: 'SGD', config: { learningRate: 0.01 } },
  adam: { className: 'Adam', config: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } },
  rmsprop: { className: 'RMSProp', config: { learningRate: 0.001, decay: 0.9, momentum: 0, epsilon: 1e-7, centered: false } },
  adagrad: { className: 'Adagrad', config: { learningRate: 0.01, initialAccumulatorValue: 0.1 } },
  momentum: { className: 'Momentum', config: { learningRate: 0.01, momentum: 0.9, useNesterov: false } },
};

/** The config for any accepted optimizer identifier. */
export function resolveOptimizer(id: unknown): OptimizerConfig {
  if (typeof id === 'string') {
    const d = DEFAULTS[id];
    if (!d)
      throw new KilnError(
        'INVALID_ARGUMENT',
        `compile: unknown optimizer '${id}' (expected one of ${Object.keys(DEFAULTS).join(', ')}, or an optimizer from train.*)`,
      );
    return { className: d.className, config: { ...d.config } };
  }
  if (typeof id === 'object' && id !== null && 'minimize' in id) return optimizerConfig(id as Optimizer);
  if (typeof id === 'object' && id !== null && 'className' in id) {
    optimizerFromConfig(id as OptimizerConfig);
    return id as OptimizerConfig;
  }
  throw new KilnError('INVALID_ARGUMENT', `compile: optimizer must be a name, a train.* optimizer or a saved config, got ${String(id)}`);
}
