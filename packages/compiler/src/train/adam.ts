/**
 * Adam, as tf.train.adam / tf.compat.v1.train.AdamOptimizer (bias correction folded into the
 * step size). With t the 1-based step and beta1_power = beta1^t, beta2_power = beta2^t:
 *   lr_t = lr * sqrt(1 - beta2_power) / (1 - beta1_power)
 *   m    = beta1 * m + (1 - beta1) * grad
 *   v    = beta2 * v + (1 - beta2) * grad^2
 *   var -= lr_t * m / (sqrt(v) + epsilon)
 * then beta1_power *= beta1 and beta2_power *= beta2 (after every variable's update).
 * Slots 'm' and 'v' start at zeros; 'beta1_power'/'beta2_power' start at beta1/beta2.
 */
import { type Graph, type SymbolicTensor, add, assign, assignSub, div, mul, sqrt, square, sub } from '@kiln/graph';
import { type Hyper, Optimizer, checkHyper } from './optimizer.js';

export class AdamOptimizer extends Optimizer {
  readonly name = 'Adam';
  private lrT: SymbolicTensor | null = null;

  constructor(
    readonly learningRate: Hyper = 0.001,
    readonly beta1: number = 0.9,
    readonly beta2: number = 0.999,
    readonly epsilon: number = 1e-7,
  ) {
    super();
    checkHyper('adam', 'learningRate', learningRate, 0);
    checkHyper('adam', 'beta1', beta1, 0, 1, true);
    checkHyper('adam', 'beta2', beta2, 0, 1, true);
    checkHyper('adam', 'epsilon', epsilon, 0, Infinity, true);
    if (beta1 === 1 || beta2 === 1) checkHyper('adam', beta1 === 1 ? 'beta1' : 'beta2', 1, 0, 1 - Number.EPSILON);
  }

  protected createSlots(variable: SymbolicTensor): void {
    this.slot(variable, 'm');
    this.slot(variable, 'v');
  }

  protected prepare(g: Graph): void {
    const b1p = this.graphState(g, 'beta1_power', this.beta1);
    const b2p = this.graphState(g, 'beta2_power', this.beta2);
    const lr = this.hyper(g, this.learningRate, 'learning_rate');
    this.lrT = div(mul(lr, sqrt(sub(1, b2p))), sub(1, b1p));
  }

  protected applyDense(grad: SymbolicTensor, variable: SymbolicTensor): SymbolicTensor[] {
    const g = variable.graph;
    const b1 = g.constant(this.beta1, 'float32', 'beta1');
    const b2 = g.constant(this.beta2, 'float32', 'beta2');
    const eps = g.constant(this.epsilon, 'float32', 'epsilon');
    const m = this.slot(variable, 'm');
    const v = this.slot(variable, 'v');
    const newM = add(mul(b1, m), mul(sub(1, b1), grad));
    const newV = add(mul(b2, v), mul(sub(1, b2), square(grad)));
    const step = div(mul(this.lrT!, newM), add(sqrt(newV), eps));
    return [assign(m, newM), assign(v, newV), assignSub(variable, step)];
  }

  protected finish(g: Graph, updates: readonly SymbolicTensor[]): SymbolicTensor[] {
    const deps = { controlInputs: updates.map((u) => u.node) };
    const out: SymbolicTensor[] = [];
    for (const [stateName, beta] of [
      ['beta1_power', this.beta1],
      ['beta2_power', this.beta2],
    ] as const) {
      const p = this.graphState(g, stateName, beta);
      const next = mul(p, g.constant(beta, 'float32', stateName.replace('_power', '')));
      out.push(g.addNode('assign', [p, next], {}, { baseName: `${stateName}/assign`, ...deps }).output);
    }
    this.lrT = null;
    return out;
  }
}
