/** Static shapes: a number per known dim, null for an unknown one (e.g. the batch). */
import { KilnError, fmtShape } from './errors.js';

export type Dim = number | null;
export type Shape = Dim[];

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function isFullyDefined(shape: readonly Dim[]): shape is number[] {
  return shape.every((d) => d !== null);
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** NumPy broadcasting over possibly-unknown dims. `what` names the op/node for the error. */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[], what: string): Shape {
  const rank = Math.max(a.length, b.length);
  const out: Shape = new Array(rank);
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)]!;
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)]!;
    if (da === 1) out[i] = db;
    else if (db === 1) out[i] = da;
    else if (da === null) out[i] = db;
    else if (db === null) out[i] = da;
    else if (da === db) out[i] = da;
    else throw new KilnError('SHAPE_MISMATCH', `${what}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast (dim ${i}: ${da} vs ${db})`);
  }
  return out;
}

/** Normalizes a possibly negative axis into [0, rank). */
export function normalizeAxis(axis: number, rank: number, what: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new KilnError('INVALID_ATTR', `${what}: axis ${axis} is out of range for rank ${rank} (expected ${-rank}..${rank - 1})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalizes a list of axes (undefined = all), rejecting duplicates. Returned sorted. */
export function normalizeAxes(axes: number | readonly number[] | undefined | null, rank: number, what: string): number[] {
  if (axes === undefined || axes === null) return [...Array(rank).keys()];
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = list.map((a) => normalizeAxis(a, rank, what));
  if (new Set(out).size !== out.length) throw new KilnError('INVALID_ATTR', `${what}: repeated axis in [${list.join(',')}]`);
  return out.sort((x, y) => x - y);
}

export function shapesEqual(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
