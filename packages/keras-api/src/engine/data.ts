/**
 * Host-side data handling of fit / evaluate / predict: checking the user's tensors against the
 * model's inputs and output (errors name the layer that reads the input, with expected vs got
 * shapes), converting targets to what the loss takes, gathering batches of rows, the seeded
 * per-epoch shuffle and class weights.
 */
import { KilnError, Tensor, castTensor, fmtShape, makeRandom } from '@kiln/graph';
import { type KerasTensor, type LayerShape } from './keras-tensor.js';
import type { ModelTopology } from './model-graph.js';

/** The first layer that reads model input `kt` (named in shape errors). */
function readerOf(topo: ModelTopology, kt: KerasTensor): string {
  const reader = topo.tensors.find((t) => t.origin.inputs.includes(kt));
  const l = reader?.origin.layer ?? kt.origin.layer;
  return `${l.className} '${l.name}'`;
}

function fits(want: LayerShape, got: readonly number[]): boolean {
  return want.length === got.length && want.every((d, i) => d === null || d === got[i]);
}

/** Checks and converts the model inputs of one call (a Tensor or one per input). */
export function checkInputs(what: string, topo: ModelTopology, x: unknown): Tensor[] {
  const xs = Array.isArray(x) ? x : [x];
  if (xs.length !== topo.inputs.length) {
    throw new KilnError('INVALID_ARGUMENT', `${what}: the model has ${topo.inputs.length} input(s), got ${xs.length} tensor(s)`);
  }
  return topo.inputs.map((kt, i) => {
    const t = xs[i];
    if (!(t instanceof Tensor)) throw new KilnError('INVALID_ARGUMENT', `${what}: input ${i} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
    if (!fits(kt.shape, t.shape)) {
      throw new KilnError(
        'SHAPE_MISMATCH',
        `${what}: ${readerOf(topo, kt)} expected input shape ${fmtShape(kt.shape)}, got ${fmtShape(t.shape)} (model input '${kt.name}')`,
      );
    }
    return t.dtype === kt.dtype ? t : castTensor(t, kt.dtype);
  });
}

/** Checks the targets against the output and converts them for the loss. */
export function checkTargets(what: string, topo: ModelTopology, y: unknown, sparse: boolean, n: number): Tensor {
  const out = topo.outputs[0]!;
  if (!(y instanceof Tensor)) throw new KilnError('INVALID_ARGUMENT', `${what}: y must be a Tensor, got ${y === null ? 'null' : typeof y}`);
  if (y.shape[0] !== n) throw new KilnError('SHAPE_MISMATCH', `${what}: x has ${n} examples but y has ${y.shape[0] ?? 0} (y: ${fmtShape(y.shape)})`);
  const layer = `${out.origin.layer.className} '${out.origin.layer.name}'`;
  if (sparse) {
    const want = out.shape.slice(0, -1);
    const shape = y.shape.length === want.length + 1 && y.shape[y.shape.length - 1] === 1 ? y.shape.slice(0, -1) : y.shape;
    if (!fits(want, shape)) {
      throw new KilnError(
        'SHAPE_MISMATCH',
        `${what}: class-id targets for output ${layer} ${fmtShape(out.shape)} must have shape ${fmtShape(want)}, got ${fmtShape(y.shape)}`,
      );
    }
    const ids = y.dtype === 'int32' ? y.reshape(shape) : castTensor(y, 'int32').reshape(shape);
    const classes = out.shape[out.shape.length - 1] as number;
    for (let i = 0; i < ids.data.length; i++) {
      const c = ids.data[i]!;
      if (c < 0 || c >= classes || (y.dtype === 'float32' && y.data[i] !== c)) {
        throw new KilnError('INVALID_ARGUMENT', `${what}: target ${i} is ${y.data[i]}, not a class id in [0, ${classes})`);
      }
    }
    return ids;
  }
  if (!fits(out.shape, y.shape)) {
    throw new KilnError('SHAPE_MISMATCH', `${what}: targets for output ${layer} must have shape ${fmtShape(out.shape)}, got ${fmtShape(y.shape)}`);
  }
  return y.dtype === 'float32' ? y : castTensor(y, 'float32');
}

/** Rows idx[start..end) of t as a new tensor (a batch). */
export function takeRows(t: Tensor, idx: Int32Array, start: number, end: number): Tensor {
  const row = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = new Tensor(t.dtype, [end - start, ...t.shape.slice(1)]);
  for (let i = start; i < end; i++) {
    const s = idx[i]!;
    out.data.set(t.data.subarray(s * row, (s + 1) * row), (i - start) * row);
  }
  return out;
}

/** Rows [start, end) of t. */
export function sliceRows(t: Tensor, start: number, end: number): Tensor {
  const row = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return new Tensor(t.dtype, [end - start, ...t.shape.slice(1)], t.data.slice(start * row, end * row));
}

/** 0, 1, ..., n-1. */
export function identityOrder(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** The shuffled order of epoch `epoch`: depends only on (seed, epoch), so a resumed fit shuffles as an uninterrupted one. */
export function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  const rnd = makeRandom((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
  const order = identityOrder(n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/** Per-example weights from classWeight ({ class: weight }); the class of a row is its id, its argmax, or its rounded value. */
export function classWeights(y: Tensor, classWeight: Record<number, number>, sparse: boolean): Tensor {
  const n = y.shape[0]!;
  const w = new Float32Array(n);
  const row = y.shape.slice(1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < n; i++) {
    let cls: number;
    if (sparse || row === 1) cls = Math.round(y.data[i * row]!);
    else {
      cls = 0;
      for (let j = 1; j < row; j++) if (y.data[i * row + j]! > y.data[i * row + cls]!) cls = j;
    }
    const cw = classWeight[cls];
    w[i] = cw === undefined ? 1 : cw;
  }
  return new Tensor('float32', [n], w);
}

/** A [n] tensor of ones (the default sample weights). */
export function ones(n: number): Tensor {
  return new Tensor('float32', [n], new Float32Array(n).fill(1));
}
