/**
 * Linear regression by gradient descent, written as a TensorFlow 1 user would: placeholders
 * for the data, variables for w and b, a loss, optimizer.minimize, and session.run in a loop.
 * The data are y = 3x + 2 plus seeded Gaussian noise; training recovers w ~ 3 and b ~ 2.
 *
 *   npm start -- examples/linear-regression.ts   (or import { run } and await it)
 */
import { pathToFileURL } from 'node:url';
import { Graph, add, makeRandom, matMul, meanSquaredError, session, tensor, train } from 'kiln';

export const TRUE_W = 3;
export const TRUE_B = 2;

export interface LinearRegressionResult {
  w: number;
  b: number;
  loss: number;
  steps: number;
}

/** n points x ~ U(-1, 1), y = TRUE_W x + TRUE_B + N(0, noise^2), from a fixed seed. */
export function makeData(n = 100, noise = 0.1, seed = 42): { xs: number[]; ys: number[] } {
  const rand = makeRandom(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = rand() * 2 - 1;
    xs.push(x);
    ys.push(TRUE_W * x + TRUE_B + noise * gauss());
  }
  return { xs, ys };
}

export async function run(steps = 200, log = false): Promise<LinearRegressionResult> {
  const { xs, ys } = makeData();
  const g = new Graph();
  const x = g.placeholder('float32', [null, 1], 'x');
  const y = g.placeholder('float32', [null, 1], 'y');
  const w = g.variable(tensor([[0]]), 'w');
  const b = g.variable(tensor([0]), 'b');
  const prediction = add(matMul(x, w), b);
  const loss = meanSquaredError(y, prediction);
  const trainOp = train.sgd(0.5).minimize(loss);

  const sess = await session(g);
  const feeds = { x: tensor(xs, [xs.length, 1]), y: tensor(ys, [ys.length, 1]) };
  for (let step = 0; step < steps; step++) {
    const [l] = await sess.run([loss, trainOp], feeds);
    if (log && step % 50 === 0) console.log(`step ${step}: loss ${l!.data[0]!.toFixed(5)}`);
  }
  const [finalLoss] = await sess.run([loss], feeds);
  const result = { w: sess.getVariable(w).data[0]!, b: sess.getVariable(b).data[0]!, loss: finalLoss!.data[0]!, steps };
  sess.dispose();
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run(200, true).then((r) => console.log(`w = ${r.w.toFixed(4)} (true ${TRUE_W}), b = ${r.b.toFixed(4)} (true ${TRUE_B}), loss = ${r.loss.toFixed(5)}`));
}
