/**
 * RMSProp, as tf.train.rmsprop(lr, decay, momentum, epsilon, centered) with TensorFlow's
 * ApplyRMSProp / ApplyCenteredRMSProp equations:
 *   ms  = decay * ms + (1 - decay) * grad^2
 *   mg  = decay * mg + (1 - decay) * grad                         (centered only)
 *   den = sqrt(ms + epsilon)            | sqrt(ms - mg^2 + epsilon) (centered)
 *   mom = momentum * mom + lr * grad / den
 *   var -= mom
 * Slots 'rms', 'momentum' (and 'mg' when centered) start at zeros, as in TF.js and Keras
 * (TF1's RMSPropOptimizer started 'rms' at ones).
 */
import { type SymbolicTensor, add, assign, assignSub, div, mul, sqrt, square, sub } from '@kiln/graph';
import { type Hyper, Optimizer, checkHyper } from './optimizer.js';

export class RMSPropOptimizer extends Optimizer {
  readonly name = 'RMSProp';
  constructor(
    readonly learningRate: Hyper,
    readonly decay: number = 0.9,
    readonly momentum: number = 0,
    readonly epsilon: number = 1e-7,
    readonly centered: boolean = false,
  ) {
    super();
    checkHyper('rmsprop', 'learningRate', learningRate, 0);
    checkHyper('rmsprop', 'decay', decay, 0, 1, true);
    checkHyper('rmsprop', 'momentum', momentum, 0, Infinity, true);
    checkHyper('rmsprop', 'epsilon', epsilon, 0, Infinity, true);
  }

  protected createSlots(variable: SymbolicTensor): void {
    this.slot(variable, 'rms');
    this.slot(variable, 'momentum');
    if (this.centered) this.slot(variable, 'mg');
  }

  protected applyDense(grad: SymbolicTensor, variable: SymbolicTensor): SymbolicTensor[] {
    const g = variable.graph;
    const lr = this.hyper(g, this.learningRate, 'learning_rate');
    const rho = g.constant(this.decay, 'float32', 'decay');
    const mom = g.constant(this.momentum, 'float32', 'momentum');
    const eps = g.constant(this.epsilon, 'float32', 'epsilon');
    const oneMinusRho = sub(1, rho);
    const ms = this.slot(variable, 'rms');
    const momSlot = this.slot(variable, 'momentum');
    const newMs = add(mul(rho, ms), mul(oneMinusRho, square(grad)));
    const ops: SymbolicTensor[] = [assign(ms, newMs)];
    let den: SymbolicTensor;
    if (this.centered) {
      const mg = this.slot(variable, 'mg');
      const newMg = add(mul(rho, mg), mul(oneMinusRho, grad));
      ops.push(assign(mg, newMg));
      den = sqrt(add(sub(newMs, square(newMg)), eps));
    } else {
      den = sqrt(add(newMs, eps));
    }
    const newMom = add(mul(mom, momSlot), div(mul(lr, grad), den));
    ops.push(assign(momSlot, newMom), assignSub(variable, newMom));
    return ops;
  }
}
