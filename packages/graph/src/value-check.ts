/**
 * Checks of values that cross the API boundary (tensor shapes, op arguments): what a bad value
 * reads as in an error message, and shapes as arrays of non-negative safe integers.
 */
import { KilnError, fmtShape } from './errors.js';
import { sizeOf } from './shape.js';

/** How a value reads in an error message: its type, and the value when short. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}...` : v)}`;
  if (typeof v === 'bigint') return `the bigint ${v}n`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a symbol';
  const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
  return Array.isArray(v) ? 'an array' : typeof name === 'string' && name !== 'Object' && name !== '' ? `a ${name}` : 'an object';
}

/** `shape` as a fresh array of non-negative safe integers with a safe product; else INVALID_ARGUMENT naming `who`. */
export function checkedShape(shape: unknown, who: string): number[] {
  if (!Array.isArray(shape)) throw new KilnError('INVALID_ARGUMENT', `${who}: shape must be an array of non-negative integers, got ${describeValue(shape)}`);
  const dims: number[] = [];
  for (const [i, d] of shape.entries()) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new KilnError('INVALID_ARGUMENT', `${who}: invalid shape: dim ${i} must be a non-negative integer, got ${describeValue(d)}`);
    }
    dims.push(d);
  }
  if (!Number.isSafeInteger(sizeOf(dims))) throw new KilnError('INVALID_ARGUMENT', `${who}: shape ${fmtShape(dims)} has more elements than can be counted`);
  return dims;
}
