/**
 * A two-layer perceptron trained with Adam on "two moons" (two interleaved half circles,
 * seeded noise): a problem no linear model separates. Written as a TensorFlow 1 user would:
 * placeholders, Glorot-initialized variables, tanh hidden layer, sigmoidCrossEntropy on
 * logits, train.adam(...).minimize, session.run in a loop (full batch).
 */
import { pathToFileURL } from 'node:url';
import { Graph, Tensor, add, cast, equal, greater, makeRandom, matMul, mean, session, sigmoidCrossEntropy, tanh, tensor, train } from 'kiln';

export interface MlpResult {
  loss: number;
  accuracy: number;
  steps: number;
}

/** n points on two interleaved half circles with Gaussian noise, labels 0 / 1, seeded. */
export function twoMoons(n = 200, noise = 0.1, seed = 7): { xs: number[][]; ys: number[] } {
  const rand = makeRandom(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const xs: number[][] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const t = Math.PI * rand();
    const px = label === 0 ? Math.cos(t) : 1 - Math.cos(t);
    const py = label === 0 ? Math.sin(t) : 0.5 - Math.sin(t);
    xs.push([px + noise * gauss(), py + noise * gauss()]);
    ys.push(label);
  }
  return { xs, ys };
}

/** Glorot-uniform initial weights, seeded. */
function glorot(rand: () => number, fanIn: number, fanOut: number): Tensor {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const t = new Tensor('float32', [fanIn, fanOut]);
  for (let i = 0; i < t.size; i++) t.data[i] = (rand() * 2 - 1) * limit;
  return t;
}

export async function run(steps = 300, hidden = 16, log = false): Promise<MlpResult> {
  const { xs, ys } = twoMoons();
  const rand = makeRandom(123);

  const g = new Graph();
  const x = g.placeholder('float32', [null, 2], 'x');
  const y = g.placeholder('float32', [null, 1], 'y');
  const w1 = g.variable(glorot(rand, 2, hidden), 'dense1/kernel');
  const b1 = g.variable(new Tensor('float32', [hidden]), 'dense1/bias');
  const w2 = g.variable(glorot(rand, hidden, 1), 'dense2/kernel');
  const b2 = g.variable(new Tensor('float32', [1]), 'dense2/bias');
  const h = tanh(add(matMul(x, w1), b1));
  const logits = add(matMul(h, w2), b2);
  const loss = sigmoidCrossEntropy(y, logits);
  const accuracy = mean(cast(equal(cast(greater(logits, 0), 'float32'), y), 'float32'));
  const trainOp = train.adam(0.05).minimize(loss);

  const sess = await session(g);
  const feeds = { x: tensor(xs), y: tensor(ys, [ys.length, 1]) };
  for (let step = 0; step < steps; step++) {
    const [l, a] = await sess.run([loss, accuracy, trainOp], feeds);
    if (log && step % 50 === 0) console.log(`step ${step}: loss ${l!.data[0]!.toFixed(4)}, accuracy ${a!.data[0]!.toFixed(3)}`);
  }
  const [l, a] = await sess.run([loss, accuracy], feeds);
  sess.dispose();
  return { loss: l!.data[0]!, accuracy: a!.data[0]!, steps };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run(300, 16, true).then((r) => console.log(`final loss ${r.loss.toFixed(4)}, train accuracy ${(100 * r.accuracy).toFixed(1)}%`));
}
