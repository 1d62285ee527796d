/**
 * Kiln-only measurements of the MLP workload (784-512-256-10, batch 128, Adam,
 * softmax cross-entropy): kernels per step, arena vs naive vs live-lower-bound bytes, first
 * call (compile + run) and median step time. Peers (jax-js, tfjs, onnxruntime) are not wired
 * in yet. Run: node --conditions=source --import tsx bench/kiln-mlp.ts
 */
import * as kiln from 'kiln';

const rnd = kiln.makeRandom(1);
const randT = (shape: number[], scale: number) => {
  const t = new kiln.Tensor('float32', shape);
  for (let i = 0; i < t.size; i++) t.data[i] = (rnd() * 2 - 1) * scale;
  return t;
};
const g = new kiln.Graph();
const x = g.placeholder('float32', [null, 784], 'x');
const y = g.placeholder('float32', [null, 10], 'y');
let h: kiln.SymbolicTensor = x;
const sizes = [784, 512, 256, 10];
for (let l = 0; l < 3; l++) {
  const w = g.variable(randT([sizes[l]!, sizes[l + 1]!], Math.sqrt(6 / sizes[l]!)), `w${l}`);
  const b = g.variable(new kiln.Tensor('float32', [sizes[l + 1]!]), `b${l}`);
  h = kiln.add(kiln.matMul(h, w), b);
  if (l < 2) h = kiln.relu(h);
}
const loss = kiln.softmaxCrossEntropy(y, h);
const step = kiln.train.adam(0.001).minimize(loss);
const feeds = { x: randT([128, 784], 1), y: kiln.tensor(Array.from({ length: 128 * 10 }, (_, i) => (i % 10 === (Math.floor(i / 10) % 10) ? 1 : 0)), [128, 10]) };

for (const fuse of [false, true]) {
  const sess = await kiln.session(g, { backend: 'cpu', fuse, seed: 1 });
  const t0 = performance.now();
  await sess.run([step, loss], feeds);
  const first = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    await sess.run([step, loss], feeds);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const p = sess.compiled([step, loss], ['x', 'y']);
  const fwd = await kiln.session(g, { backend: 'cpu', fuse, seed: 1 });
  await fwd.run([h], { x: feeds.x });
  const ft: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    await fwd.run([h], { x: feeds.x });
    ft.push(performance.now() - t);
  }
  ft.sort((a, b) => a - b);
  const s = p.stats;
  console.log(
    `fuse=${fuse}: step median ${times[5]!.toFixed(1)} ms, first call ${first.toFixed(0)} ms, forward median ${ft[5]!.toFixed(1)} ms; ` +
      `${s.kernels} kernels from ${s.graphNodes} nodes; arena ${(s.arenaBytes / 2 ** 20).toFixed(2)} MiB, naive ${(s.naiveBytes / 2 ** 20).toFixed(2)} MiB, live lower bound ${(s.liveLowerBoundBytes / 2 ** 20).toFixed(2)} MiB (stats at batch 1)`,
  );
}
