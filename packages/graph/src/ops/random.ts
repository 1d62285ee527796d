/**
 * Random ops (stateful: never folded, CSE'd or pruned). dropout keeps each element with
 * probability 1 - rate and scales kept values by 1 / (1 - rate), as TF.js does. It has two
 * outputs: y and the mask it applied (0 or 1 / (1 - rate), in the noise shape), so that its
 * gradient is exactly dy * mask, also where x is 0. With an explicit seed the mask comes from
 * that seed alone (the same mask every run, as TF.js with a seed); without one (seed < 0) it
 * comes from the executor's per-session, per-node random stream.
 */
import { KilnError, fmtShape } from '../errors.js';
import type { SymbolicTensor } from '../graph.js';
import type { Dim } from '../shape.js';
import { type TensorLike, toSymbolic } from './apply.js';
import { checkFloat } from './conv-geometry.js';
import { registerOp } from './registry.js';

registerOp({
  name: 'dropout',
  family: 'random',
  stateful: true,
  doc: 'Zeroes elements with probability `rate` and scales the rest by 1/(1-rate); outputs [y, mask].',
  inputs: [{ name: 'x' }],
  attrs: {
    rate: { type: 'float' },
    /** Same rank as x; a null dim is x's dim; a dim of 1 shares one draw along that axis. */
    noiseShape: { type: 'shape' },
    /** < 0: draw from the session's stream; >= 0: a fixed mask from this seed. */
    seed: { type: 'int', default: -1 },
  },
  infer: ([x], attrs, ctx) => {
    const what = ctx.what;
    checkFloat(what, 'x', x!.dtype);
    const rate = attrs.rate as number;
    if (!(rate >= 0 && rate < 1)) throw new KilnError('INVALID_ATTR', `${what}: rate must be in [0, 1), got ${rate}`);
    const noise = attrs.noiseShape as Dim[];
    const xs = x!.shape;
    const ok = noise.length === xs.length && noise.every((d, i) => d === null || d === 1 || xs[i] === null || d === xs[i]);
    if (!ok) {
      throw new KilnError(
        'SHAPE_MISMATCH',
        `${what}: noiseShape ${fmtShape(noise)} must have x's rank with each dim equal to x's, 1 or null (x: ${fmtShape(xs)})`,
      );
    }
    const maskShape = noise.map((d, i) => (d === null ? xs[i]! : d));
    return [
      { dtype: 'float32', shape: [...xs] },
      { dtype: 'float32', shape: maskShape },
    ];
  },
});

export interface DropoutOptions {
  /** false: dropout is the identity (returns x itself). Default true. */
  training?: boolean;
  seed?: number;
  noiseShape?: readonly (number | null)[];
}

/**
 * dropout(x, rate, noiseShape?, seed?) as in TF.js, or dropout(x, rate, { training, seed,
 * noiseShape }). Returns y (the mask is the node's second output).
 */
export function dropout(x: TensorLike, rate: number, noiseShapeOrOpts?: readonly (number | null)[] | DropoutOptions | null, seed?: number): SymbolicTensor {
  let opts: DropoutOptions;
  if (Array.isArray(noiseShapeOrOpts)) opts = { noiseShape: noiseShapeOrOpts as (number | null)[], seed };
  else opts = { ...((noiseShapeOrOpts as DropoutOptions | null | undefined) ?? {}), ...(seed !== undefined ? { seed } : {}) };
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
    throw new KilnError('INVALID_ATTR', `dropout: rate must be a number in [0, 1), got ${String(rate)}`);
  }
  if (opts.seed !== undefined && (!Number.isInteger(opts.seed) || opts.seed < 0)) {
    throw new KilnError('INVALID_ATTR', `dropout: seed must be a non-negative integer, got ${String(opts.seed)}`);
  }
  const [xs] = toSymbolic('dropout', [x]);
  if (opts.training === false) return xs!;
  const node = xs!.graph.addNode('dropout', [xs!], {
    rate,
    noiseShape: opts.noiseShape ? [...opts.noiseShape] : [...xs!.shape],
    seed: opts.seed ?? -1,
  });
  return node.outputs[0]!;
}
