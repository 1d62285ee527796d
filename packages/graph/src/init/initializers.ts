/**
 * Initializers: seedable recipes that turn a shape into a host Tensor of starting values, with
 * TensorFlow.js names and options. Shared by the graph API
 * (`g.variable(initializers.glorotUniform({ seed: 1 }), [784, 512])`) and the Keras layers.
 *
 * Fans follow Keras: a [in, out] matrix has fanIn = in and fanOut = out; a convolution filter
 * [h, w, in, out] (HWIO) multiplies both by its receptive field h * w; a vector has
 * fanIn = fanOut = its length. Variance-scaling initializers draw from a truncated normal
 * (rescaled so the result has the asked variance) or a uniform of the same variance.
 */
import { type DType, castScalar, isDType } from '../dtype.js';
import { KilnError, fmtShape } from '../errors.js';
import { sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { freshSeed, makeNormal, makeRandom, makeTruncatedNormal } from './random-stream.js';

export interface Initializer {
  /** The TensorFlow.js class name (e.g. 'GlorotUniform'), for summaries and saved configs. */
  readonly className: string;
  /** The options it was made with (JSON-serializable). */
  readonly config: Readonly<Record<string, number | string | undefined>>;
  /** Values for a variable of this shape and dtype. A seeded initializer gives the same values every call. */
  apply(shape: readonly number[], dtype?: DType): Tensor;
}

export function isInitializer(x: unknown): x is Initializer {
  return typeof x === 'object' && x !== null && typeof (x as Initializer).apply === 'function' && typeof (x as Initializer).className === 'string';
}

export interface SeedOptions {
  seed?: number;
}

function checkShape(what: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new KilnError('INVALID_ARGUMENT', `${what}: shape must be an array of non-negative integers, got ${fmtShape(shape as number[])}`);
  }
}

function checkDType(what: string, dtype: DType): void {
  if (!isDType(dtype)) throw new KilnError('INVALID_ARGUMENT', `${what}: unknown dtype '${String(dtype)}'`);
}

function checkNumber(what: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new KilnError('INVALID_ARGUMENT', `${what}: ${name} must be a finite number, got ${String(v)}`);
  }
  return v;
}

function checkSeed(what: string, seed: unknown): number | undefined {
  if (seed === undefined) return undefined;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) {
    throw new KilnError('INVALID_ARGUMENT', `${what}: seed must be an integer, got ${String(seed)}`);
  }
  return seed;
}

/** The uniform stream of one draw: from the seed (the same values each call) or a fresh one. */
function uniformStream(seed: number | undefined): () => number {
  return makeRandom(seed === undefined ? freshSeed() : (seed ^ 0x5bd1e995) >>> 0);
}

function fromDraws(shape: readonly number[], dtype: DType, draw: () => number): Tensor {
  const t = new Tensor(dtype, shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = castScalar(draw(), dtype);
  return t;
}

function make(className: string, config: Record<string, number | string | undefined>, values: (shape: readonly number[], dtype: DType) => Tensor): Initializer {
  const what = `initializers.${className[0]!.toLowerCase()}${className.slice(1)}`;
  return {
    className,
    config: Object.freeze({ ...config }),
    apply(shape, dtype = 'float32') {
      checkShape(what, shape);
      checkDType(what, dtype);
      return values(shape, dtype);
    },
  };
}

/** fanIn and fanOut of a variable's shape, as Keras computes them. */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: shape[0]! };
  if (shape.length === 2) return { fanIn: shape[0]!, fanOut: shape[1]! };
  const receptive = sizeOf(shape.slice(0, -2));
  return { fanIn: shape[shape.length - 2]! * receptive, fanOut: shape[shape.length - 1]! * receptive };
}

export type FanMode = 'fanIn' | 'fanOut' | 'fanAvg';
export type Distribution = 'normal' | 'truncatedNormal' | 'uniform';

export interface VarianceScalingOptions extends SeedOptions {
  scale?: number;
  mode?: FanMode;
  distribution?: Distribution;
}

/** Keras' VarianceScaling: variance scale / n, n the fan chosen by `mode`. */
export function varianceScaling(opts: VarianceScalingOptions = {}, className = 'VarianceScaling'): Initializer {
  const what = 'initializers.varianceScaling';
  const scale = checkNumber(what, 'scale', opts.scale ?? 1);
  if (scale <= 0) throw new KilnError('INVALID_ARGUMENT', `${what}: scale must be positive, got ${scale}`);
  const mode = opts.mode ?? 'fanIn';
  if (mode !== 'fanIn' && mode !== 'fanOut' && mode !== 'fanAvg') {
    throw new KilnError('INVALID_ARGUMENT', `${what}: mode must be 'fanIn', 'fanOut' or 'fanAvg', got '${String(mode)}'`);
  }
  const distribution = opts.distribution ?? 'truncatedNormal';
  if (distribution !== 'normal' && distribution !== 'truncatedNormal' && distribution !== 'uniform') {
    throw new KilnError('INVALID_ARGUMENT', `${what}: distribution must be 'normal', 'truncatedNormal' or 'uniform', got '${String(distribution)}'`);
  }
  const seed = checkSeed(what, opts.seed);
  return make(className, { scale, mode, distribution, seed }, (shape, dtype) => {
    const { fanIn, fanOut } = computeFans(shape);
    const n = Math.max(1, mode === 'fanIn' ? fanIn : mode === 'fanOut' ? fanOut : (fanIn + fanOut) / 2);
    const variance = scale / n;
    const u = uniformStream(seed);
    if (distribution === 'uniform') {
      const limit = Math.sqrt(3 * variance);
      return fromDraws(shape, dtype, () => (2 * u() - 1) * limit);
    }
    if (distribution === 'normal') {
      const normal = makeNormal(u);
      const std = Math.sqrt(variance);
      return fromDraws(shape, dtype, () => normal() * std);
    }
    // The standard deviation of a unit normal truncated to [-2, 2].
    const std = Math.sqrt(variance) / 0.87962566103423978;
    const tn = makeTruncatedNormal(u);
    return fromDraws(shape, dtype, () => tn() * std);
  });
}

export const glorotUniform = (opts: SeedOptions = {}): Initializer =>
  varianceScaling({ scale: 1, mode: 'fanAvg', distribution: 'uniform', seed: opts.seed }, 'GlorotUniform');
export const glorotNormal = (opts: SeedOptions = {}): Initializer =>
  varianceScaling({ scale: 1, mode: 'fanAvg', distribution: 'truncatedNormal', seed: opts.seed }, 'GlorotNormal');
export const heNormal = (opts: SeedOptions = {}): Initializer =>
  varianceScaling({ scale: 2, mode: 'fanIn', distribution: 'truncatedNormal', seed: opts.seed }, 'HeNormal');
export const heUniform = (opts: SeedOptions = {}): Initializer =>
  varianceScaling({ scale: 2, mode: 'fanIn', distribution: 'uniform', seed: opts.seed }, 'HeUniform');
export const lecunNormal = (opts: SeedOptions = {}): Initializer =>
  varianceScaling({ scale: 1, mode: 'fanIn', distribution: 'truncatedNormal', seed: opts.seed }, 'LeCunNormal');
export const lecunUniform = (opts: SeedOptions = {}): Initializer =>
  varianceScaling({ scale: 1, mode: 'fanIn', distribution: 'uniform', seed: opts.seed }, 'LeCunUniform');

/** Every element `value`. */
export function constant(opts: { value: number }): Initializer {
  const value = checkNumber('initializers.constant', 'value', opts?.value);
  return make('Constant', { value }, (shape, dtype) => {
    const t = new Tensor(dtype, shape);
    t.data.fill(castScalar(value, dtype));
    return t;
  });
}

export const zeros = (): Initializer => make('Zeros', {}, (shape, dtype) => new Tensor(dtype, shape));
export const ones = (): Initializer =>
  make('Ones', {}, (shape, dtype) => {
    const t = new Tensor(dtype, shape);
    t.data.fill(1);
    return t;
  });

export interface RandomNormalOptions extends SeedOptions {
  mean?: number;
  stddev?: number;
}

export function randomNormal(opts: RandomNormalOptions = {}): Initializer {
  const what = 'initializers.randomNormal';
  const mean = checkNumber(what, 'mean', opts.mean ?? 0);
  const stddev = checkNumber(what, 'stddev', opts.stddev ?? 0.05);
  const seed = checkSeed(what, opts.seed);
  return make('RandomNormal', { mean, stddev, seed }, (shape, dtype) => {
    const normal = makeNormal(uniformStream(seed));
    return fromDraws(shape, dtype, () => mean + stddev * normal());
  });
}

export function truncatedNormal(opts: RandomNormalOptions = {}): Initializer {
  const what = 'initializers.truncatedNormal';
  const mean = checkNumber(what, 'mean', opts.mean ?? 0);
  const stddev = checkNumber(what, 'stddev', opts.stddev ?? 0.05);
  const seed = checkSeed(what, opts.seed);
  return make('TruncatedNormal', { mean, stddev, seed }, (shape, dtype) => {
    const tn = makeTruncatedNormal(uniformStream(seed));
    return fromDraws(shape, dtype, () => mean + stddev * tn());
  });
}

export interface RandomUniformOptions extends SeedOptions {
  minval?: number;
  maxval?: number;
}

export function randomUniform(opts: RandomUniformOptions = {}): Initializer {
  const what = 'initializers.randomUniform';
  const minval = checkNumber(what, 'minval', opts.minval ?? -0.05);
  const maxval = checkNumber(what, 'maxval', opts.maxval ?? 0.05);
  const seed = checkSeed(what, opts.seed);
  return make('RandomUniform', { minval, maxval, seed }, (shape, dtype) => {
    const u = uniformStream(seed);
    return fromDraws(shape, dtype, () => minval + (maxval - minval) * u());
  });
}

/** An identity matrix times `gain` (2-D shapes only). */
export function identity(opts: { gain?: number } = {}): Initializer {
  const gain = checkNumber('initializers.identity', 'gain', opts.gain ?? 1);
  return make('Identity', { gain }, (shape, dtype) => {
    if (shape.length !== 2) {
      throw new KilnError('INVALID_ARGUMENT', `initializers.identity: needs a 2-D shape, got ${fmtShape(shape as number[])}`);
    }
    const t = new Tensor(dtype, shape);
    for (let i = 0; i < Math.min(shape[0]!, shape[1]!); i++) t.data[i * shape[1]! + i] = castScalar(gain, dtype);
    return t;
  });
}

/**
 * A (semi-)orthogonal matrix times `gain`: Gram-Schmidt over normal draws, rows or columns
 * orthonormal, whichever are fewer. Shapes of rank > 2 are flattened to [prod(leading), last].
 */
export function orthogonal(opts: SeedOptions & { gain?: number } = {}): Initializer {
  const what = 'initializers.orthogonal';
  const gain = checkNumber(what, 'gain', opts.gain ?? 1);
  const seed = checkSeed(what, opts.seed);
  return make('Orthogonal', { gain, seed }, (shape, dtype) => {
    if (shape.length < 2) {
      throw new KilnError('INVALID_ARGUMENT', `${what}: needs a shape of rank 2 or more, got ${fmtShape(shape as number[])}`);
    }
    const cols = shape[shape.length - 1]!;
    const rows = sizeOf(shape) / Math.max(cols, 1);
    // Orthonormalize the k = min(rows, cols) vectors of length m = max(rows, cols).
    const k = Math.min(rows, cols);
    const m = Math.max(rows, cols);
    const normal = makeNormal(uniformStream(seed));
    const vecs: Float64Array[] = [];
    for (let i = 0; i < k; i++) {
      const v = new Float64Array(m);
      for (;;) {
        for (let j = 0; j < m; j++) v[j] = normal();
        for (const q of vecs) {
          let dot = 0;
          for (let j = 0; j < m; j++) dot += v[j]! * q[j]!;
          for (let j = 0; j < m; j++) v[j]! -= dot * q[j]!;
        }
        let norm = 0;
        for (let j = 0; j < m; j++) norm += v[j]! * v[j]!;
        norm = Math.sqrt(norm);
        if (norm > 1e-6) {
          for (let j = 0; j < m; j++) v[j]! /= norm;
          break;
        }
      }
      vecs.push(v);
    }
    const t = new Tensor(dtype, shape);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        // rows <= cols: the k vectors are the rows; otherwise they are the columns.
        const v = rows <= cols ? vecs[r]![c]! : vecs[c]![r]!;
        t.data[r * cols + c] = castScalar(gain * v, dtype);
      }
    }
    return t;
  });
}

const BY_NAME: Record<string, () => Initializer> = {
  glorotUniform: () => glorotUniform(),
  glorotNormal: () => glorotNormal(),
  heNormal: () => heNormal(),
  heUniform: () => heUniform(),
  lecunNormal: () => lecunNormal(),
  lecunUniform: () => lecunUniform(),
  orthogonal: () => orthogonal(),
  zeros: () => zeros(),
  ones: () => ones(),
  randomNormal: () => randomNormal(),
  randomUniform: () => randomUniform(),
  truncatedNormal: () => truncatedNormal(),
  identity: () => identity(),
};

/** An Initializer from itself or a TensorFlow.js identifier ('glorotUniform', 'zeros', ...). */
export function getInitializer(id: string | Initializer): Initializer {
  if (isInitializer(id)) return id;
  const make = typeof id === 'string' ? BY_NAME[id] : undefined;
  if (!make) {
    throw new KilnError('INVALID_ARGUMENT', `unknown initializer '${String(id)}' (expected one of ${Object.keys(BY_NAME).join(', ')})`);
  }
  return make();
}
