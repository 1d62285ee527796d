/**
 * copyStrided: the one loop nest behind transpose, slice, split, broadcastTo, tile and pad.
 * dst[dOff + sum_k i_k * dStrides[k]] = src[sOff + sum_k i_k * sStrides[k]] for every index
 * i of `shape`. Dims of size 1 are dropped and neighbours that are contiguous in both
 * operands are merged first, so most copies become a few long rows (copied with set() or
 * fill()); a 2-D transpose at the bottom of the nest is walked in cache-sized tiles.
 * dst and src must be typed arrays of the same kind and must not overlap.
 */
import type { TypedArray } from '@kiln/graph';

/** Rows at least this long are copied with TypedArray.set (below it a loop is cheaper). */
const SET_MIN = 32;
/** Tile edge for transposed 2-D blocks. */
const TILE = 32;

interface Plan {
  shape: number[];
  d: number[];
  s: number[];
}

/** Drops size-1 dims and merges dims contiguous in both operands; null when the copy is empty. */
function simplify(shape: readonly number[], dStrides: readonly number[], sStrides: readonly number[]): Plan | null {
  const plan: Plan = { shape: [], d: [], s: [] };
  for (let k = 0; k < shape.length; k++) {
    const n = shape[k]!;
    if (n === 0) return null;
    if (n === 1) continue;
    const last = plan.shape.length - 1;
    if (last >= 0 && plan.d[last] === dStrides[k]! * n && plan.s[last] === sStrides[k]! * n) {
      plan.shape[last]! *= n;
      plan.d[last] = dStrides[k]!;
      plan.s[last] = sStrides[k]!;
    } else {
      plan.shape.push(n);
      plan.d.push(dStrides[k]!);
      plan.s.push(sStrides[k]!);
    }
  }
  return plan;
}

/** One row: n elements with strides ds (dst) and ss (src). */
function copyRow(dst: TypedArray, d: number, ds: number, src: TypedArray, s: number, ss: number, n: number): void {
  if (ds === 1 && ss === 1) {
    if (n >= SET_MIN) (dst as Float32Array).set((src as Float32Array).subarray(s, s + n), d);
    else for (let i = 0; i < n; i++) dst[d + i] = src[s + i]!;
  } else if (ss === 0) {
    const v = src[s]!;
    if (ds === 1) dst.fill(v, d, d + n);
    else for (let i = 0; i < n; i++) dst[d + i * ds] = v;
  } else {
    for (let i = 0; i < n; i++) dst[d + i * ds] = src[s + i * ss]!;
  }
}

/** A 2-D block [n0, n1] whose source walks dim 0 contiguously (a transpose): tiled. */
function copyTiled(dst: TypedArray, d: number, d0: number, d1: number, src: TypedArray, s: number, s0: number, s1: number, n0: number, n1: number): void {
  for (let a = 0; a < n0; a += TILE) {
    const aEnd = Math.min(a + TILE, n0);
    for (let b = 0; b < n1; b += TILE) {
      const bEnd = Math.min(b + TILE, n1);
      for (let i = a; i < aEnd; i++) {
        const di = d + i * d0;
        const si = s + i * s0;
        for (let j = b; j < bEnd; j++) dst[di + j * d1] = src[si + j * s1]!;
      }
    }
  }
}

export function copyStrided(
  dst: TypedArray,
  dOff: number,
  dStrides: readonly number[],
  src: TypedArray,
  sOff: number,
  sStrides: readonly number[],
  shape: readonly number[],
): void {
  const plan = simplify(shape, dStrides, sStrides);
  if (!plan) return;
  const r = plan.shape.length;
  if (r === 0) {
    dst[dOff] = src[sOff]!;
    return;
  }
  const n = plan.shape[r - 1]!;
  const ds = plan.d[r - 1]!;
  const ss = plan.s[r - 1]!;
  // The innermost two dims form a tiled transpose when the source is contiguous one level up.
  const tiled = r >= 2 && ss !== 1 && ss !== 0 && plan.s[r - 2] === 1 && n > 4 && plan.shape[r - 2]! > 4;
  const outer = tiled ? r - 2 : r - 1;
  const idx = new Array<number>(outer).fill(0);
  let d = dOff;
  let s = sOff;
  for (;;) {
    if (tiled) copyTiled(dst, d, plan.d[r - 2]!, ds, src, s, plan.s[r - 2]!, ss, plan.shape[r - 2]!, n);
    else copyRow(dst, d, ds, src, s, ss, n);
    let k = outer - 1;
    for (; k >= 0; k--) {
      d += plan.d[k]!;
      s += plan.s[k]!;
      if (++idx[k]! < plan.shape[k]!) break;
      d -= idx[k]! * plan.d[k]!;
      s -= idx[k]! * plan.s[k]!;
      idx[k] = 0;
    }
    if (k < 0) return;
  }
}
