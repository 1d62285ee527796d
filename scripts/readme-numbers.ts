/**
 * Regenerates the program statistics the README quotes (kernel counts and arena sizes of the
 * benchmark models), from the same model shapes as bench/: the MLP 784-512-256-10 training
 * step (Adam, softmax cross-entropy, batch 128; fetching [loss, step] and [step]) and its
 * forward pass, and the CNN forward pass (batch 64). Values do not matter for these numbers.
 *
 *   npm run example scripts/readme-numbers.ts
 */
import * as kiln from 'kiln';

const MiB = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;

function dense(g: kiln.Graph, h: kiln.SymbolicTensor, units: number, seed: number): kiln.SymbolicTensor {
  const w = g.variable(kiln.initializers.glorotUniform({ seed }), [h.shape[1] as number, units]);
  return kiln.add(kiln.matMul(h, w), g.variable(kiln.initializers.zeros(), [units]));
}

async function report(name: string, g: kiln.Graph, fetches: kiln.SymbolicTensor[], feeds: string[]): Promise<void> {
  const sess = await kiln.session(g);
  const s = sess.compiled(fetches, feeds).stats;
  console.log(`${name}: ${s.kernels} kernels, arena ${MiB(s.arenaBytes)} (live lower bound ${MiB(s.liveLowerBoundBytes)}, naive ${MiB(s.naiveBytes)})`);
  sess.dispose();
}

const mlp = new kiln.Graph();
const x = mlp.placeholder('float32', [128, 784], 'x');
const y = mlp.placeholder('float32', [128, 10], 'y');
const logits = dense(mlp, kiln.relu(dense(mlp, kiln.relu(dense(mlp, x, 512, 1)), 256, 2)), 10, 3);
const loss = kiln.softmaxCrossEntropy(y, logits);
const step = kiln.train.adam(0.001).minimize(loss);
await report('MLP training step, fetches [loss, step]', mlp, [loss, step], ['x', 'y']);
await report('MLP training step, fetches [step]', mlp, [step], ['x', 'y']);
await report('MLP forward', mlp, [logits], ['x']);

const cnn = new kiln.Graph();
const img = cnn.placeholder('float32', [64, 28, 28, 1], 'x');
const conv = (h: kiln.SymbolicTensor, cin: number, cout: number, seed: number) =>
  kiln.maxPool(
    kiln.relu(kiln.add(kiln.conv2d(h, cnn.variable(kiln.initializers.heNormal({ seed }), [5, 5, cin, cout]), 1, 'same'), cnn.zeros([cout]))),
    2,
    2,
    'valid',
  );
const features = kiln.reshape(conv(conv(img, 1, 32, 4), 32, 64, 5), [64, 7 * 7 * 64]);
const out = dense(cnn, kiln.relu(dense(cnn, features, 1024, 6)), 10, 7);
await report('CNN forward', cnn, [out], ['x']);
