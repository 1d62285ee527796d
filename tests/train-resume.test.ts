/**
 * Training state survives save/restore: train N steps, serialize the graph with the session's
 * current variable values (weights and optimizer slots: Adam's moments and beta powers,
 * momentum accumulators), deserialize into a new graph and session, train M more steps. The
 * losses must equal those of N+M uninterrupted steps bit for bit (reference executor).
 */
import { describe, expect, it } from '@jest/globals';
import {
  Graph,
  type Node,
  type Optimizer,
  type Session,
  type SymbolicTensor,
  Tensor,
  add,
  deserializeGraph,
  makeRandom,
  matMul,
  relu,
  serializeGraph,
  session,
  sigmoidCrossEntropy,
  tensor,
  train,
} from 'kiln';

const N = 7;
const M = 6;

function randomTensor(rand: () => number, shape: number[], scale = 1): Tensor {
  const t = new Tensor('float32', shape);
  for (let i = 0; i < t.size; i++) t.data[i] = (rand() * 2 - 1) * scale;
  return t;
}

/** A small 2-layer classifier on fixed random data, with `opt` minimizing its loss. */
function build(opt: Optimizer): { g: Graph; loss: SymbolicTensor; step: SymbolicTensor; feeds: Record<string, Tensor> } {
  const rand = makeRandom(99);
  const g = new Graph();
  const x = g.placeholder('float32', [null, 3], 'x');
  const y = g.placeholder('float32', [null, 1], 'y');
  const w1 = g.variable(randomTensor(rand, [3, 8], 0.7), 'w1');
  const b1 = g.variable(new Tensor('float32', [8]), 'b1');
  const w2 = g.variable(randomTensor(rand, [8, 1], 0.7), 'w2');
  const b2 = g.variable(new Tensor('float32', [1]), 'b2');
  const logits = add(matMul(relu(add(matMul(x, w1), b1)), w2), b2);
  const loss = sigmoidCrossEntropy(y, logits);
  const step = opt.minimize(loss);
  const xs = randomTensor(rand, [16, 3]);
  const ys = tensor(
    Array.from({ length: 16 }, (_, i) => (xs.data[3 * i]! + xs.data[3 * i + 1]! > 0 ? 1 : 0)),
    [16, 1],
  );
  return { g, loss, step, feeds: { x: xs, y: ys } };
}

async function trainSteps(
  s: Session,
  loss: SymbolicTensor | string,
  step: SymbolicTensor | string,
  feeds: Record<string, Tensor>,
  n: number,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const [l, done] = await s.run([loss, step], feeds);
    expect(done).toBeNull();
    out.push(l!.data[0]!);
  }
  return out;
}

const optimizers: [string, () => Optimizer][] = [
  ['adam', () => train.adam(0.05)],
  ['momentum (Nesterov)', () => train.momentum(0.1, 0.9, true)],
  ['rmsprop (centered)', () => train.rmsprop(0.01, 0.9, 0.5, 1e-7, true)],
  ['adagrad', () => train.adagrad(0.2)],
];

describe('training resumes from a saved model', () => {
  for (const [name, make] of optimizers) {
    it(`${name}: N steps + save/restore + M steps == N+M steps, bit for bit`, async () => {
      // Uninterrupted.
      const a = build(make());
      const sa = await session(a.g);
      const straight = await trainSteps(sa, a.loss, a.step, a.feeds, N + M);
      sa.dispose();

      // Interrupted: N steps, save with current values, restore into a new graph + session.
      const b = build(make());
      const sb = await session(b.g);
      const first = await trainSteps(sb, b.loss, b.step, b.feeds, N);
      const values = new Map<Node, Tensor>();
      for (const [varName, t] of sb.variableValues()) values.set(b.g.nodeByName(varName)!, t);
      const bytes = serializeGraph(b.g, { variables: values });
      sb.dispose();

      const g2 = deserializeGraph(bytes);
      // The optimizer's slots came back as non-trainable variables holding the trained state.
      const slotNames = g2
        .variables()
        .filter((v) => v.attrs.trainable === false)
        .map((v) => v.name);
      expect(slotNames.length).toBeGreaterThan(0);
      const s2 = await session(g2);
      for (const [varName, t] of values.entries()) {
        expect(Array.from(s2.getVariable(varName.name).data)).toEqual(Array.from(t.data));
      }
      const rest = await trainSteps(s2, b.loss.name, b.step.name, b.feeds, M);
      s2.dispose();

      const resumed = [...first, ...rest];
      expect(resumed.length).toBe(straight.length);
      resumed.forEach((v, i) => expect(Object.is(v, straight[i])).toBe(true));
      // It did train.
      expect(straight[straight.length - 1]!).toBeLessThan(straight[0]!);
    });
  }
});
