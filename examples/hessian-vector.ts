/**
 * A Hessian-vector product by differentiating twice (gradients are graphs, so they can be
 * differentiated again): for f(x) = 1/2 x^T A x + sum(exp(x)) with A symmetric,
 * H v = A v + exp(x) * v, computed without forming H.
 *
 *   npm run example examples/hessian-vector.ts
 */
import { pathToFileURL } from 'node:url';
import * as kiln from 'kiln';

export const A = [
  [2, 1, 0],
  [1, 3, -1],
  [0, -1, 4],
];

export async function run(xValue = [0.5, -1, 2], vValue = [1, 0, -2]): Promise<number[]> {
  const g = new kiln.Graph();
  const x = g.placeholder('float32', [3, 1], 'x');
  const v = g.placeholder('float32', [3, 1], 'v');
  const f = kiln.add(kiln.mul(0.5, kiln.sum(kiln.mul(x, kiln.matMul(g.constant(A), x)))), kiln.sum(kiln.exp(x)));
  const [grad] = kiln.gradients(f, [x]);
  const [hv] = kiln.gradients(kiln.sum(kiln.mul(grad!, v)), [x]);

  const sess = await kiln.session(g);
  const [out] = await sess.run([hv!], { x: kiln.tensor(xValue, [3, 1]), v: kiln.tensor(vValue, [3, 1]) });
  sess.dispose();
  return Array.from(out.dataSync());
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log('H v =', await run());
}
