/**
 * Momentum, as tf.train.momentum / MomentumOptimizer (TensorFlow's ApplyMomentum):
 *   accum = accum * momentum + grad
 *   var  -= lr * accum                                  (classic)
 *   var  -= lr * grad + lr * momentum * accum           (useNesterov)
 * The accumulator slot 'momentum' starts at zeros.
 */
import { type SymbolicTensor, add, assign, assignSub, mul } from '@kiln/graph';
import { type Hyper, Optimizer, checkHyper } from './optimizer.js';

export class MomentumOptimizer extends Optimizer {
  readonly name = 'Momentum';
  constructor(
    readonly learningRate: Hyper,
    readonly momentum: Hyper,
    readonly useNesterov = false,
  ) {
    super();
    checkHyper('momentum', 'learningRate', learningRate, 0);
    checkHyper('momentum', 'momentum', momentum, 0, Infinity, true);
  }

  protected createSlots(variable: SymbolicTensor): void {
    this.slot(variable, 'momentum');
  }

  protected applyDense(grad: SymbolicTensor, variable: SymbolicTensor): SymbolicTensor[] {
    const g = variable.graph;
    const lr = this.hyper(g, this.learningRate, 'learning_rate');
    const m = this.hyper(g, this.momentum, 'momentum');
    const accum = this.slot(variable, 'momentum');
    const newAccum = add(mul(accum, m), grad);
    const step = this.useNesterov ? add(mul(grad, lr), mul(mul(newAccum, m), lr)) : mul(newAccum, lr);
    return [assign(accum, newAccum), assignSub(variable, step)];
  }
}
