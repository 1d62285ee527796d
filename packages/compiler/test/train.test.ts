/**
 * Optimizers (train.*) against hand-computed updates: TensorFlow's update equations simulated
 * in float64 for a few steps and compared with rtol 1e-4 / atol 1e-6 (float32 graph). Steps
 * run on the reference executor, committing each run's variable writes.
 */
import { describe, expect, it } from '@jest/globals';
import { Graph, KilnError, type Node, type SymbolicTensor, type Tensor, add, cast, meanSquaredError, mul, square, sum, tensor } from '@kiln/graph';
import { evaluateWithState } from '@kiln/runtime-cpu';
import { type Optimizer, train } from '@kiln/compiler';

/** Runs `target` n times; returns the variables' values after each step. */
function steps(target: SymbolicTensor, watch: SymbolicTensor[], n: number, state = new Map<Node, Tensor>()): number[][][] {
  const out: number[][][] = [];
  for (let i = 0; i < n; i++) {
    const { writes } = evaluateWithState([target], { variables: state });
    for (const [node, t] of writes) state.set(node, t);
    out.push(watch.map((w) => (state.get(w.node) ?? (w.node.attrs.value as Tensor)).toFlat()));
  }
  return out;
}

function expectClose(got: number[], want: number[], rtol = 1e-4, atol = 1e-6): void {
  expect(got.length).toBe(want.length);
  got.forEach((v, i) => {
    if (!(Math.abs(v - want[i]!) <= atol + rtol * Math.abs(want[i]!))) throw new Error(`element ${i}: got ${v}, want ${want[i]} (${JSON.stringify(got)})`);
  });
}

// The problem: loss = 0.5 * sum(w^2) + sum(c * w), so grad = w + c.
const W0 = [1, -2, 0.5];
const C = [0.5, 0.5, -3];
function problem(): { g: Graph; w: SymbolicTensor; loss: SymbolicTensor } {
  const g = new Graph();
  const w = g.variable(tensor(W0), 'w');
  const loss = add(mul(0.5, sum(square(w))), sum(mul(g.constant(tensor(C)), w)));
  return { g, w, loss };
}

/** Simulates `n` steps of `update(w, grad, state, t)` (t is 1-based) from W0. */
function simulate(n: number, update: (w: number, grad: number, s: Record<string, number>, t: number) => number, init: Record<string, number> = {}): number[][] {
  const w = [...W0];
  const state = w.map(() => ({ ...init }));
  const out: number[][] = [];
  for (let t = 1; t <= n; t++) {
    for (let i = 0; i < w.length; i++) w[i] = update(w[i]!, w[i]! + C[i]!, state[i]!, t);
    out.push([...w]);
  }
  return out;
}

function check(opt: Optimizer, want: number[][]): { g: Graph; w: SymbolicTensor } {
  const { g, w, loss } = problem();
  const got = steps(opt.minimize(loss), [w], want.length);
  got.forEach((step, i) => expectClose(step[0]!, want[i]!));
  return { g, w };
}

describe('train optimizers match TensorFlow update equations', () => {
  it('sgd', () => {
    check(
      train.sgd(0.1),
      simulate(4, (w, g) => w - 0.1 * g),
    );
  });

  it('momentum (classic and Nesterov)', () => {
    check(
      train.momentum(0.1, 0.9),
      simulate(
        4,
        (w, g, s) => {
          s.a = s.a! * 0.9 + g;
          return w - 0.1 * s.a;
        },
        { a: 0 },
      ),
    );
    check(
      train.momentum(0.1, 0.9, true),
      simulate(
        4,
        (w, g, s) => {
          s.a = s.a! * 0.9 + g;
          return w - (0.1 * g + 0.1 * 0.9 * s.a);
        },
        { a: 0 },
      ),
    );
  });

  it('adam with bias correction (tf.compat.v1 AdamOptimizer) and TF.js defaults', () => {
    const adamStep =
      (lr: number, b1: number, b2: number, eps: number) =>
      (w: number, g: number, s: Record<string, number>, t: number): number => {
        const lrT = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
        s.m = b1 * s.m! + (1 - b1) * g;
        s.v = b2 * s.v! + (1 - b2) * g * g;
        return w - (lrT * s.m) / (Math.sqrt(s.v) + eps);
      };
    check(train.adam(0.1, 0.8, 0.95, 1e-3), simulate(5, adamStep(0.1, 0.8, 0.95, 1e-3), { m: 0, v: 0 }));
    const opt = train.adam();
    expect([opt.learningRate, opt.beta1, opt.beta2, opt.epsilon]).toEqual([0.001, 0.9, 0.999, 1e-7]);
    const { g } = check(opt, simulate(3, adamStep(0.001, 0.9, 0.999, 1e-7), { m: 0, v: 0 }));
    // Slots are non-trainable graph variables under the optimizer's scope.
    const names = opt
      .variables(g)
      .map((v) => v.name)
      .sort();
    expect(names).toEqual(['Adam/beta1_power', 'Adam/beta2_power', 'Adam/w/m', 'Adam/w/v']);
    for (const v of opt.variables(g)) expect(v.node.attrs.trainable).toBe(false);
  });

  it('adam beta powers advance once per step', () => {
    const { g, w, loss } = problem();
    const opt = train.adam(0.01);
    const target = opt.minimize(loss);
    const b1p = g.tensorByName('Adam/beta1_power');
    const got = steps(target, [w, b1p], 3);
    expectClose(got[2]![1]!, [0.9 ** 4]);
  });

  it('rmsprop (plain, with momentum, centered)', () => {
    const rms =
      (lr: number, rho: number, mom: number, eps: number, centered: boolean) =>
      (w: number, g: number, s: Record<string, number>): number => {
        s.ms = rho * s.ms! + (1 - rho) * g * g;
        let den: number;
        if (centered) {
          s.mg = rho * s.mg! + (1 - rho) * g;
          den = Math.sqrt(s.ms - s.mg * s.mg + eps);
        } else den = Math.sqrt(s.ms + eps);
        s.mom = mom * s.mom! + (lr * g) / den;
        return w - s.mom;
      };
    const init = { ms: 0, mg: 0, mom: 0 };
    check(train.rmsprop(0.01), simulate(4, rms(0.01, 0.9, 0, 1e-7, false), init));
    check(train.rmsprop(0.01, 0.8, 0.5, 1e-4), simulate(4, rms(0.01, 0.8, 0.5, 1e-4, false), init));
    check(train.rmsprop(0.01, 0.9, 0.3, 1e-4, true), simulate(4, rms(0.01, 0.9, 0.3, 1e-4, true), init));
  });

  it('adagrad', () => {
    const ada =
      (lr: number) =>
      (w: number, g: number, s: Record<string, number>): number => {
        s.acc = s.acc! + g * g;
        return w - (lr * g) / Math.sqrt(s.acc);
      };
    check(train.adagrad(0.1), simulate(4, ada(0.1), { acc: 0.1 }));
    check(train.adagrad(0.1, 0.5), simulate(4, ada(0.1), { acc: 0.5 }));
  });
});

describe('optimizer.minimize', () => {
  it('updates only trainable variables the loss depends on, or exactly varList', () => {
    const g = new Graph();
    const a = g.variable(tensor([1]), 'a');
    const b = g.variable(tensor([2]), 'b');
    const frozen = g.variable(tensor([3]), 'frozen', { trainable: false });
    const unused = g.variable(tensor([4]), 'unused');
    const loss = sum(mul(mul(a, b), frozen)); // grads: a -> b*f = 6, b -> a*f = 3
    const all = steps(train.sgd(0.1).minimize(loss), [a, b, frozen, unused], 1)[0]!;
    expectClose(all.flat(), [1 - 0.6, 2 - 0.3, 3, 4]);
    const onlyB = steps(train.sgd(0.1).minimize(loss, [b]), [a, b], 1)[0]!;
    expectClose(onlyB.flat(), [1, 2 - 0.3]);
  });

  it('computeGradients + applyGradients equal minimize, and slots are reused', () => {
    const { g, w, loss } = problem();
    const opt = train.momentum(0.1, 0.5);
    const gv = opt.computeGradients(loss);
    expect(gv.map((p) => p.variable)).toEqual([w]);
    const t1 = opt.applyGradients(gv);
    const nSlots = opt.variables(g).length;
    opt.minimize(loss);
    expect(opt.variables(g).length).toBe(nSlots);
    expect(opt.getSlot(w, 'momentum')!.name).toBe('Momentum/w/momentum');
    const got = steps(t1, [w], 2);
    const want = simulate(
      2,
      (x, gr, s) => {
        s.a = s.a! * 0.5 + gr;
        return x - 0.1 * s.a;
      },
      { a: 0 },
    );
    got.forEach((st, i) => expectClose(st[0]!, want[i]!));
  });

  it('trains with a placeholder batch of unknown size', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 1], 'x');
    const y = g.placeholder('float32', [null, 1], 'y');
    const w = g.variable(tensor([[0]]), 'w');
    const loss = meanSquaredError(y, mul(x, w));
    const target = train.sgd(0.1).minimize(loss); // grad = 5 (w - 3): contracts by 0.5 per step
    const state = new Map<Node, Tensor>();
    const feeds = { x: tensor([[1], [2]]), y: tensor([[3], [6]]) };
    for (let i = 0; i < 30; i++) {
      const { writes } = evaluateWithState([target], { feeds, variables: state });
      for (const [n, t] of writes) state.set(n, t);
    }
    expectClose(state.get(w.node)!.toFlat(), [3], 1e-3);
  });

  it('takes a learning rate tensor (e.g. a fed schedule)', () => {
    const { g, w, loss } = problem();
    const lr = g.placeholder('float32', [], 'lr');
    const target = train.sgd(lr).minimize(loss);
    const state = new Map<Node, Tensor>();
    const want = [...W0];
    for (const rate of [0.1, 0.05, 0.01]) {
      const { writes } = evaluateWithState([target], { feeds: { lr: tensor(rate) }, variables: state });
      for (const [n, t] of writes) state.set(n, t);
      want.forEach((v, i) => (want[i] = v - rate * (v + C[i]!)));
    }
    expectClose(state.get(w.node)!.toFlat(), want);
    expect(() => train.sgd(g.placeholder('float32', [2], 'bad')).minimize(loss)).toThrow(/learning_rate must be a number or a float32 scalar/);
  });

  it('rejects bad losses, variables and hyperparameters with KilnError', () => {
    const g = new Graph();
    const p = g.placeholder('float32', [2], 'p');
    const w = g.variable(tensor([1, 2]), 'w');
    expect(() => train.sgd(0.1).minimize(sum(p))).toThrow(/depends on no trainable float32 variable/);
    expect(() => train.sgd(0.1).minimize(cast(sum(w), 'int32'))).toThrow(/must be float32, got int32/);
    expect(() => train.sgd(0.1).minimize(sum(w), [p])).toThrow(/must be a variable/);
    expect(() => train.sgd(-1)).toThrow(KilnError);
    expect(() => train.adam(0.1, 1.5)).toThrow(/beta1 must be/);
  });
});
