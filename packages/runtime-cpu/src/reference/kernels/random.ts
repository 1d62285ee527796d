/**
 * Reference kernels: random family. dropout draws one uniform number per element of its
 * noise shape (nulls there take x's run-time dims): from ctx.random() (the executor seeds it
 * per session and node), or, with an explicit seed attr, from a generator seeded by it alone.
 * Element kept when the draw is >= rate; the mask holds 0 or 1 / (1 - rate).
 */
import { KilnError, Tensor, fmtShape } from '@kiln/graph';
import { makeRandom } from '../random.js';
import { registerRefKernel } from '../registry.js';
import { broadcastBinary } from './elementwise.js';

/** The stream of an explicit op seed (the same mask on every run, as TF.js with a seed). */
function seededRandom(seed: number): () => number {
  return makeRandom((seed ^ 0x9e3779b9) >>> 0);
}

registerRefKernel('dropout', ([x], attrs, ctx) => {
  const rate = attrs.rate as number;
  const noise = (attrs.noiseShape as (number | null)[]).map((d, i) => d ?? x!.shape[i]!);
  if (noise.some((d, i) => d !== 1 && d !== x!.shape[i])) {
    throw new KilnError('SHAPE_MISMATCH', `${ctx.node.op} '${ctx.node.name}': noiseShape ${fmtShape(noise)} does not broadcast to x ${fmtShape(x!.shape)}`);
  }
  const seed = attrs.seed as number;
  const random = seed >= 0 ? seededRandom(seed) : ctx.random;
  const keep = 1 / (1 - rate);
  const n = noise.reduce((a, b) => a * b, 1);
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) mask[i] = random() >= rate ? keep : 0;
  const m = new Tensor('float32', noise, mask);
  return [broadcastBinary(x!, m, 'float32', (v, k) => v * k), m];
});
