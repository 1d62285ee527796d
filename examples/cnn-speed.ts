/**
 * The CNN speed benchmark of the Keras API (a benchmark, not a test): 3 epochs over 3,000
 * MNIST digits of conv 3x3x16 relu -> max pool -> conv 3x3x32 relu -> max pool -> dense 10
 * softmax, Adam, batch 32, on the compiled CPU backend. Prints the time of each epoch and the
 * total (target: <= 30 s on 2 cores). `npm run example examples/cnn-speed.ts`.
 */
import * as kiln from 'kiln';
import { loadDigits } from './main.js';

const { xTrain, yTrain } = loadDigits(3000, 10);
const model = kiln.sequential({
  layers: [
    kiln.layers.conv2d({
      filters: 16,
      kernelSize: 3,
      activation: 'relu',
      inputShape: [28, 28, 1],
      kernelInitializer: kiln.initializers.heUniform({ seed: 1 }),
    }),
    kiln.layers.maxPooling2d({ poolSize: 2 }),
    kiln.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: kiln.initializers.heUniform({ seed: 2 }) }),
    kiln.layers.maxPooling2d({ poolSize: 2 }),
    kiln.layers.flatten(),
    kiln.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: kiln.initializers.glorotUniform({ seed: 3 }) }),
  ],
});
model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'], seed: 1 });
const times: number[] = [];
let t = Date.now();
const t0 = t;
const h = await model.fit(xTrain, yTrain, {
  epochs: 3,
  batchSize: 32,
  verbose: 0,
  callbacks: {
    onEpochEnd: () => {
      times.push((Date.now() - t) / 1000);
      t = Date.now();
    },
  },
});
console.log(
  `3 epochs of ${xTrain.shape[0]} digits: ${((Date.now() - t0) / 1000).toFixed(1)} s (epochs: ${times.map((s) => s.toFixed(1)).join(', ')} s; the first includes compiling); train accuracy ${(h.history.accuracy!.at(-1)! * 100).toFixed(1)}%`,
);
model.dispose();
