/**
 * A two-layer MLP trained with Adam on two interleaved spirals (TensorFlow.js style: Glorot
 * initializers, softmax cross-entropy, argMax accuracy), full batch on the compiled CPU backend.
 *
 *   npm run example examples/spiral-mlp.ts
 */
import { pathToFileURL } from 'node:url';
import * as kiln from 'kiln';

/** n points per arm of two spirals (labels 0 and 1), with a little seeded noise. */
export function spirals(n = 100, seed = 7): { xs: number[][]; labels: number[] } {
  const rand = kiln.makeRandom(seed);
  const xs: number[][] = [];
  const labels: number[] = [];
  for (let arm = 0; arm < 2; arm++) {
    for (let i = 0; i < n; i++) {
      const r = (i / n) * 5 + 0.2;
      const t = 1.75 * (i / n) * 2 * Math.PI + arm * Math.PI;
      xs.push([r * Math.sin(t) + (rand() - 0.5) * 0.2, r * Math.cos(t) + (rand() - 0.5) * 0.2]);
      labels.push(arm);
    }
  }
  return { xs, labels };
}

export async function run(steps = 300, log = false): Promise<{ loss: number; accuracy: number }> {
  const { xs, labels } = spirals();
  const g = new kiln.Graph();
  const x = g.placeholder('float32', [null, 2], 'x');
  const y = g.placeholder('int32', [null], 'y');
  const dense = (input: kiln.SymbolicTensor, units: number, seed: number, act?: (t: kiln.SymbolicTensor) => kiln.SymbolicTensor) => {
    const w = g.variable(kiln.initializers.glorotUniform({ seed }), [input.shape[1] as number, units]);
    const b = g.variable(kiln.initializers.zeros(), [units]);
    const z = kiln.add(kiln.matMul(input, w), b);
    return act ? act(z) : z;
  };
  const h1 = dense(x, 32, 1, kiln.tanh);
  const h2 = dense(h1, 32, 2, kiln.tanh);
  const logits = dense(h2, 2, 3);
  const loss = kiln.sparseSoftmaxCrossEntropy(y, logits);
  const accuracy = kiln.mean(kiln.cast(kiln.equal(kiln.argMax(logits, 1), y), 'float32'));
  const trainOp = kiln.train.adam(0.02).minimize(loss);

  const sess = await kiln.session(g, { seed: 1 });
  const feeds = { x: kiln.tensor(xs), y: kiln.tensor(new Int32Array(labels)) };
  for (let step = 0; step < steps; step++) {
    const [l] = await sess.run([loss, trainOp], feeds);
    if (log && step % 50 === 0) console.log(`step ${step}: loss ${l.dataSync()[0]!.toFixed(4)}`);
  }
  const [l, acc] = await sess.run([loss, accuracy], feeds);
  sess.dispose();
  return { loss: l.dataSync()[0]!, accuracy: acc.dataSync()[0]! };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run(300, true);
  console.log(`loss ${r.loss.toFixed(4)}, train accuracy ${(r.accuracy * 100).toFixed(1)}%`);
}
