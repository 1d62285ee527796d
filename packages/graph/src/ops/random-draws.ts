/**
 * Random draws as graph ops (stateful: never folded, CSE'd or pruned): randomNormal,
 * randomUniform and truncatedNormal (no tensor input: created by the Graph methods
 * g.randomNormal(shape, mean, stdDev, dtype, seed) ...) and multinomial(logits, numSamples,
 * seed) (a free function), with TensorFlow.js names, defaults and argument order.
 *
 * Seeding follows TF1: each run draws a fresh sample from a stream derived from the session
 * seed and the run counter; an op seed (>= 0) is combined with that stream, so a session with
 * a given seed draws the same sequence of values on every backend, and two ops that differ
 * only in their op seed draw different values. Without an op seed (-1) the node's own stream
 * is used (as dropout without a seed).
 */
import type { DType } from '../dtype.js';
import { KilnError, fmtShape } from '../errors.js';
import type { SymbolicTensor } from '../graph.js';
import { type TensorLike, toSymbolic } from './apply.js';
import { checkSeed } from './constant-values.js';
import { checkFloat } from './conv-geometry.js';
import { type Attrs, type InferContext, type TensorType, registerOp } from './registry.js';

function checkStaticShape(what: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || (d as number) < 0)) {
    throw new KilnError('INVALID_ATTR', `${what}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return shape as number[];
}

function inferDraw(allowed: readonly DType[]) {
  return (_: readonly TensorType[], attrs: Attrs, ctx: InferContext): TensorType[] => {
    const dtype = attrs.dtype as DType;
    if (!allowed.includes(dtype)) {
      throw new KilnError('DTYPE_MISMATCH', `${ctx.what}: dtype must be ${allowed.join(' or ')}, got ${String(dtype)}`);
    }
    return [{ dtype, shape: [...checkStaticShape(ctx.what, attrs.shape)] }];
  };
}

const seedAttr = { type: 'int', default: -1 } as const;

// The two normal draws share their signature; truncatedNormal redraws beyond two deviations.
for (const [name, doc] of [
  ['randomNormal', 'Draws from a normal distribution N(mean, stdDev^2) of a static shape.'],
  ['truncatedNormal', 'Draws from a normal distribution, redrawing values more than two standard deviations from the mean.'],
] as const) {
  registerOp({
    name,
    family: 'random',
    stateful: true,
    doc,
    inputs: [],
    attrs: {
      shape: { type: 'ints' },
      mean: { type: 'float', default: 0 },
      stdDev: { type: 'float', default: 1 },
      dtype: { type: 'dtype', default: 'float32' },
      seed: seedAttr,
    },
    infer: inferDraw(['float32', 'int32']),
  });
}

registerOp({
  name: 'randomUniform',
  family: 'random',
  stateful: true,
  doc: 'Draws uniformly from [minval, maxval) (int32: floored).',
  inputs: [],
  attrs: {
    shape: { type: 'ints' },
    minval: { type: 'float', default: 0 },
    maxval: { type: 'float', default: 1 },
    dtype: { type: 'dtype', default: 'float32' },
    seed: seedAttr,
  },
  infer: inferDraw(['float32', 'int32']),
});

registerOp({
  name: 'multinomial',
  family: 'random',
  stateful: true,
  doc: 'Draws numSamples class indices per row of logits (or of probabilities when normalized).',
  inputs: [{ name: 'logits' }],
  attrs: { numSamples: { type: 'int' }, seed: seedAttr, normalized: { type: 'bool', default: false } },
  infer: ([logits], attrs, ctx) => {
    checkFloat(ctx.what, 'logits', logits!.dtype);
    const r = logits!.shape.length;
    if (r !== 1 && r !== 2) {
      throw new KilnError('SHAPE_MISMATCH', `${ctx.what}: logits must be rank 1 [numClasses] or rank 2 [batch, numClasses], got ${fmtShape(logits!.shape)}`);
    }
    const n = attrs.numSamples as number;
    if (!Number.isInteger(n) || n < 1) throw new KilnError('INVALID_ATTR', `${ctx.what}: numSamples must be a positive integer, got ${n}`);
    return [{ dtype: 'int32', shape: r === 1 ? [n] : [logits!.shape[0]!, n] }];
  },
});

/**
 * multinomial(logits, numSamples, seed?, normalized?) as in TF.js: int32 class indices drawn
 * from softmax(logits) (or from `logits` read as probabilities when normalized), one row of
 * numSamples per row of logits.
 */
export function multinomial(logits: TensorLike, numSamples: number, seed?: number, normalized = false): SymbolicTensor {
  const s = checkSeed('multinomial', seed);
  const [l] = toSymbolic('multinomial', [logits]);
  return l!.graph.addNode('multinomial', [l!], { numSamples, seed: s, normalized }).output;
}
