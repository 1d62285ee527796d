/** Plain gradient descent, as tf.train.sgd / GradientDescentOptimizer: var -= lr * grad. */
import { type SymbolicTensor, assignSub, mul } from '@kiln/graph';
import { type Hyper, Optimizer, checkHyper } from './optimizer.js';

export class SGDOptimizer extends Optimizer {
  readonly name = 'SGD';
  constructor(readonly learningRate: Hyper) {
    super();
    checkHyper('sgd', 'learningRate', learningRate, 0);
  }

  protected applyDense(grad: SymbolicTensor, variable: SymbolicTensor): SymbolicTensor[] {
    const lr = this.hyper(variable.graph, this.learningRate, 'learning_rate');
    return [assignSub(variable, mul(lr, grad))];
  }
}
