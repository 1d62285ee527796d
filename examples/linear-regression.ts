/**
 * Linear regression by gradient descent, as a TensorFlow 1 / TensorFlow.js user writes it:
 * placeholders for the data, variables for w and b, a loss, optimizer.minimize, and
 * session.run in a loop. The data are y = 3x + 2 plus seeded Gaussian noise; training recovers
 * w ~ 3 and b ~ 2.
 *
 *   npm run example examples/linear-regression.ts
 */
import { pathToFileURL } from 'node:url';
import * as kiln from 'kiln';

export const TRUE_W = 3;
export const TRUE_B = 2;

/** n points x ~ U(-1, 1), y = TRUE_W x + TRUE_B + N(0, noise^2), from a fixed seed. */
export function makeData(n = 100, noise = 0.1, seed = 42): { xs: number[]; ys: number[] } {
  const rand = kiln.makeRandom(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const xs = Array.from({ length: n }, () => rand() * 2 - 1);
  return { xs, ys: xs.map((x) => TRUE_W * x + TRUE_B + noise * gauss()) };
}

export async function run(steps = 200, log = false): Promise<{ w: number; b: number; loss: number }> {
  const { xs, ys } = makeData();
  const g = new kiln.Graph();
  const x = g.placeholder('float32', [null, 1], 'x');
  const y = g.placeholder('float32', [null, 1], 'y');
  const w = g.variable(kiln.initializers.zeros(), [1, 1], 'w');
  const b = g.variable(kiln.initializers.zeros(), [1], 'b');
  const loss = kiln.losses.meanSquaredError(y, kiln.add(kiln.matMul(x, w), b));
  const trainOp = kiln.train.sgd(0.5).minimize(loss);

  const sess = await kiln.session(g);
  const feeds = { x: kiln.tensor(xs, [xs.length, 1]), y: kiln.tensor(ys, [ys.length, 1]) };
  for (let step = 0; step < steps; step++) {
    const [l] = await sess.run([loss, trainOp], feeds);
    if (log && step % 50 === 0) console.log(`step ${step}: loss ${l.dataSync()[0]!.toFixed(5)}`);
  }
  const [finalLoss, wv, bv] = await sess.run([loss, w, b], feeds);
  sess.dispose();
  return { w: wv.dataSync()[0]!, b: bv.dataSync()[0]!, loss: finalLoss.dataSync()[0]! };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run(200, true);
  console.log(`w = ${r.w.toFixed(4)} (true ${TRUE_W}), b = ${r.b.toFixed(4)} (true ${TRUE_B}), loss = ${r.loss.toFixed(5)}`);
}
