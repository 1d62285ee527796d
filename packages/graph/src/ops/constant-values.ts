/**
 * Host values behind the constant-making Graph methods (g.zeros, g.ones, g.fill, g.eye,
 * g.range, g.linspace): TensorFlow.js arguments and results, checked with errors that name the
 * method. They make constants, so compile() folds through them like any other const. The
 * random-draw methods' argument checks are here too (graph.ts imports no op file).
 */
import { type DType, castScalar, isDType } from '../dtype.js';
import { KilnError } from '../errors.js';
import { Tensor } from '../tensor.js';

function checkShape(what: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || (d as number) < 0)) {
    throw new KilnError('INVALID_ARGUMENT', `${what}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return shape as number[];
}

function checkDType(what: string, dtype: unknown): DType {
  if (!isDType(dtype)) throw new KilnError('INVALID_ARGUMENT', `${what}: unknown dtype '${String(dtype)}' (expected float32, int32 or bool)`);
  return dtype;
}

function checkFinite(what: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new KilnError('INVALID_ARGUMENT', `${what}: ${name} must be a finite number, got ${String(v)}`);
  return v;
}

/** fill(shape, value, dtype): every element `value` (cast to dtype). */
export function filledTensor(what: string, shape: readonly number[], value: number | boolean, dtype: DType): Tensor {
  const t = new Tensor(checkDType(what, dtype), checkShape(what, shape));
  const v = typeof value === 'boolean' ? (value ? 1 : 0) : value;
  if (typeof v !== 'number') {
    throw new KilnError('INVALID_ARGUMENT', `${what}: value must be a number, got ${String(value)}`);
  }
  t.data.fill(castScalar(v, dtype));
  return t;
}

/** eye(numRows, numColumns = numRows, dtype): ones on the main diagonal. */
export function eyeTensor(numRows: number, numColumns: number, dtype: DType): Tensor {
  checkShape('eye', [numRows, numColumns]);
  const t = new Tensor(checkDType('eye', dtype), [numRows, numColumns]);
  for (let i = 0; i < Math.min(numRows, numColumns); i++) t.data[i * numColumns + i] = 1;
  return t;
}

/** range(start, stop, step, dtype): start, start + step, ... while before stop (as tf.range). */
export function rangeTensor(start: number, stop: number, step: number, dtype: DType): Tensor {
  checkFinite('range', 'start', start);
  checkFinite('range', 'stop', stop);
  checkFinite('range', 'step', step);
  checkDType('range', dtype);
  if (step === 0) throw new KilnError('INVALID_ARGUMENT', `range: step must not be 0 (start ${start}, stop ${stop})`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const t = new Tensor(dtype, [n]);
  for (let i = 0; i < n; i++) t.data[i] = castScalar(start + i * step, dtype);
  return t;
}

/** linspace(start, stop, num): num evenly spaced float32 values, both ends included. */
export function linspaceTensor(start: number, stop: number, num: number): Tensor {
  checkFinite('linspace', 'start', start);
  checkFinite('linspace', 'stop', stop);
  if (!Number.isInteger(num) || num < 1) throw new KilnError('INVALID_ARGUMENT', `linspace: num must be a positive integer, got ${String(num)}`);
  const t = new Tensor('float32', [num]);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) t.data[i] = start + i * step;
  if (num > 1) t.data[num - 1] = stop;
  return t;
}

/** Checks a draw's arguments as TF.js does, naming the op; returns the seed attr (-1: none). */
export function checkDrawArgs(op: string, shape: readonly number[], dtype: DType, seed: number | undefined, params: Record<string, number>): number {
  checkShape(op, shape);
  checkDType(op, dtype);
  for (const [name, v] of Object.entries(params)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new KilnError('INVALID_ARGUMENT', `${op}: ${name} must be a finite number, got ${String(v)}`);
  }
  return checkSeed(op, seed);
}

export function checkSeed(op: string, seed: number | undefined): number {
  if (seed === undefined) return -1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0x7fffffff) {
    throw new KilnError('INVALID_ARGUMENT', `${op}: seed must be an integer in [0, 2^31), got ${String(seed)}`);
  }
  return seed;
}
