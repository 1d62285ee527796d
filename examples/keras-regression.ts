/**
 * The seed's Keras example, verbatim in TypeScript: Dense 10 relu -> Dense 1, trained with
 * Adam on mean squared error (mean absolute error as a metric) on a synthetic regression
 * y = x . w + b + noise, 8 features, seeded. `npm run example examples/keras-regression.ts`.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as kiln from 'kiln';

export interface RegressionResult {
  initialLoss: number;
  history: Record<string, number[]>;
  /** [mse, mae] on the held-out test set. */
  test: number[];
}

/** n examples of y = x . w + 0.5 + noise (x uniform in [-1, 1]^8), seeded. */
export function synthetic(n: number, seed: number): { x: kiln.Tensor; y: kiln.Tensor } {
  const rnd = kiln.makeRandom(seed);
  const w = [0.5, -1, 0.25, 2, -0.75, 1.5, 0, -0.5];
  const x = new Float32Array(n * 8);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0.5 + 0.05 * (rnd() * 2 - 1);
    for (let j = 0; j < 8; j++) {
      const v = rnd() * 2 - 1;
      x[i * 8 + j] = v;
      s += v * w[j]!;
    }
    y[i] = s;
  }
  return { x: kiln.tensor(x, [n, 8]), y: kiln.tensor(y, [n, 1]) };
}

export async function run(opts: { epochs?: number; verbose?: 0 | 1 } = {}): Promise<RegressionResult> {
  const { x: xTrain, y: yTrain } = synthetic(512, 1);
  const { x: xTest, y: yTest } = synthetic(128, 2);

  const model = kiln.sequential({
    layers: [
      kiln.layers.dense({ units: 10, activation: 'relu', inputShape: [8], kernelInitializer: kiln.initializers.glorotUniform({ seed: 1 }) }),
      kiln.layers.dense({ units: 1, kernelInitializer: kiln.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  model.compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae'], seed: 7 });
  const [initialLoss] = await model.evaluate(xTrain, yTrain);
  const history = await model.fit(xTrain, yTrain, { epochs: opts.epochs ?? 40, batchSize: 16, verbose: opts.verbose ?? 0 });
  const test = await model.evaluate(xTest, yTest);
  model.dispose();
  return { initialLoss: initialLoss!, history: history.history, test };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const r = await run({ verbose: 1 });
  console.log(
    `train mse: ${r.initialLoss.toFixed(4)} before, ${r.history.loss!.at(-1)!.toFixed(4)} after; test mse ${r.test[0]!.toFixed(4)}, mae ${r.test[1]!.toFixed(4)}`,
  );
}
