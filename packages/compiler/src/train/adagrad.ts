/**
 * Adagrad, as tf.train.adagrad(lr, initialAccumulatorValue) with TensorFlow's ApplyAdagrad:
 *   accum += grad^2
 *   var   -= lr * grad / sqrt(accum)
 * The slot 'accumulator' starts at initialAccumulatorValue (default 0.1), which keeps the
 * first step finite.
 */
import { type SymbolicTensor, add, assign, assignSub, div, mul, sqrt, square } from '@kiln/graph';
import { type Hyper, Optimizer, checkHyper } from './optimizer.js';

export class AdagradOptimizer extends Optimizer {
  readonly name = 'Adagrad';
  constructor(
    readonly learningRate: Hyper,
    readonly initialAccumulatorValue = 0.1,
  ) {
    super();
    checkHyper('adagrad', 'learningRate', learningRate, 0);
    checkHyper('adagrad', 'initialAccumulatorValue', initialAccumulatorValue, 0);
  }

  protected createSlots(variable: SymbolicTensor): void {
    this.slot(variable, 'accumulator', this.initialAccumulatorValue);
  }

  protected applyDense(grad: SymbolicTensor, variable: SymbolicTensor): SymbolicTensor[] {
    const lr = this.hyper(variable.graph, this.learningRate, 'learning_rate');
    const accum = this.slot(variable, 'accumulator', this.initialAccumulatorValue);
    const newAccum = add(accum, square(grad));
    return [assign(accum, newAccum), assignSub(variable, div(mul(lr, grad), sqrt(newAccum)))];
  }
}
