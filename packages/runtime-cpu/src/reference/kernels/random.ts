/**
 * Reference kernels: random family. dropout draws one uniform number per element of its
 * noise shape (nulls there take x's run-time dims): from ctx.random() (the executor seeds it
 * per session and node), or, with an explicit seed attr, from a generator seeded by it alone.
 * Element kept when the draw is >= rate; the mask holds 0 or 1 / (1 - rate).
 *
 * randomNormal, truncatedNormal, randomUniform and multinomial draw, element by element in
 * row-major order, from the node's stream (ctx.random: session seed, run counter and node
 * name), or, with an op seed, from a stream seeded by the op seed combined with the node's
 * stream (TF1's op seed under a graph seed). Normals are Box-Muller over that uniform stream
 * (the graph package's makeNormal / makeTruncatedNormal), so every backend that runs these
 * kernels draws the same values.
 */
import { type DType, KilnError, Tensor, castScalar, fmtShape, makeNormal, makeTruncatedNormal } from '@kiln/graph';
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

/** The stream of a draw op: its op seed (>= 0) mixed with the node's run stream, or that stream. */
function drawStream(seed: number, random: () => number): () => number {
  if (seed < 0) return random;
  const run = Math.floor(random() * 4294967296) >>> 0;
  return makeRandom((Math.imul(seed ^ 0x27d4eb2f, 0x165667b1) ^ run) >>> 0);
}

function drawn(attrs: Readonly<Record<string, unknown>>, draw: () => number): Tensor {
  const t = new Tensor(attrs.dtype as DType, attrs.shape as number[]);
  for (let i = 0; i < t.size; i++) t.data[i] = castScalar(draw(), t.dtype);
  return t;
}

registerRefKernel('randomUniform', (_, attrs, ctx) => {
  const u = drawStream(attrs.seed as number, ctx.random);
  const [lo, hi] = [attrs.minval as number, attrs.maxval as number];
  const int = attrs.dtype === 'int32';
  return [drawn(attrs, () => (int ? Math.floor(lo + (hi - lo) * u()) : lo + (hi - lo) * u()))];
});

registerRefKernel('randomNormal', (_, attrs, ctx) => {
  const z = makeNormal(drawStream(attrs.seed as number, ctx.random));
  const [mean, std] = [attrs.mean as number, attrs.stdDev as number];
  return [drawn(attrs, () => mean + std * z())];
});

registerRefKernel('truncatedNormal', (_, attrs, ctx) => {
  const z = makeTruncatedNormal(drawStream(attrs.seed as number, ctx.random));
  const [mean, std] = [attrs.mean as number, attrs.stdDev as number];
  return [drawn(attrs, () => mean + std * z())];
});

/** Per row: probabilities (softmax of the logits, or the row itself when normalized), then inverse-CDF draws. */
registerRefKernel('multinomial', ([logits], attrs, ctx) => {
  const u = drawStream(attrs.seed as number, ctx.random);
  const k = attrs.numSamples as number;
  const classes = logits!.shape[logits!.shape.length - 1]!;
  const rows = logits!.shape.length === 1 ? 1 : logits!.shape[0]!;
  const out = new Tensor('int32', logits!.shape.length === 1 ? [k] : [rows, k]);
  const p = new Float64Array(classes);
  for (let r = 0; r < rows; r++) {
    const row = logits!.data.subarray(r * classes, (r + 1) * classes);
    let total = 0;
    if (attrs.normalized) {
      for (let c = 0; c < classes; c++) total += p[c] = Math.max(row[c]!, 0);
    } else {
      let max = -Infinity;
      for (let c = 0; c < classes; c++) max = Math.max(max, row[c]!);
      for (let c = 0; c < classes; c++) total += p[c] = Math.exp(row[c]! - max);
    }
    for (let s = 0; s < k; s++) {
      const target = u() * total;
      let acc = 0;
      let c = 0;
      for (; c < classes - 1; c++) {
        acc += p[c]!;
        if (target < acc) break;
      }
      out.data[r * k + s] = c;
    }
  }
  return [out];
});
