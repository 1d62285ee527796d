/** Axis and extent arithmetic shared by the fast kernels (no throwing: callers fall back instead). */

/** The axis normalized against rank, or -1 when out of range (the reference kernel reports it). */
export function axisOf(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  return Number.isInteger(a) && a >= 0 && a < rank ? a : -1;
}

/** The product of shape[from..to). */
export function sizeBetween(shape: readonly number[], from: number, to: number): number {
  let n = 1;
  for (let k = from; k < to; k++) n *= shape[k]!;
  return n;
}
