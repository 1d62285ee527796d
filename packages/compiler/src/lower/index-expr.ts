/**
 * Index lowering: how a kernel walks its index space and where each operand's element lives.
 * The compiler computes everything a code generator needs as plain numbers (the loop nest,
 * per input an offset and one stride per loop, 0 where it broadcasts; guards of folded pads
 * and concats as index ranges); a generator (JS, WASM, WGSL) only renders these, it never
 * computes strides, broadcasts or collapsed dims itself.
 *
 * - Elementwise: when every input is flat (one element per output element, no view) or a
 *   scalar, one flat loop over the elements. Otherwise nested loops over the output shape; dims
 *   that every input walks contiguously are merged and size-1 dims dropped (a bias over
 *   [n, h, w, c] loops as [n*h*w, c]), unless a guard needs the original dims.
 * - A guarded input (a folded pad or concat piece, see view.ts) is read where each loop index
 *   lies in its range; elsewhere the next input of its chain is tried, and the last one's fill
 *   is the value outside all of them.
 * - Reduce: a row loop when the reduced axes are trailing and the inputs flat or scalar; else
 *   nested loops over the input shape with the accumulator's strides (0 on reduced axes).
 */
import { sizeOf, stridesOf } from '@kiln/graph';
import type { View } from './view.js';

/** A loop index range [lo, hi) a guarded input is read in (dim: the loop's position). */
export interface Guard {
  dim: number;
  lo: number;
  hi: number;
}

/** Where input slot i's element is, in the loop nest. */
export interface InputAccess {
  /** Element offset added to the running position. */
  offset: number;
  /** Per loop dim (0: broadcast). */
  strides: number[];
  /** Conditions (all must hold) under which this input is read; empty: always. */
  guards: Guard[];
  /** True when the guard can never hold (the input is never read). */
  never: boolean;
  /** Outside the guards: read this other input (its own access applies), else `fill`. */
  orElse?: number;
  fill: number;
}

export type ElementwiseIndexing = { kind: 'flat'; size: number; inputs: ('flat' | 'scalar')[] } | { kind: 'nested'; loops: number[]; inputs: InputAccess[] };

/** Strides of a strided view broadcast against `out` (right-aligned; 0 on size-1 dims). */
export function viewStrides(v: Pick<View, 'shape' | 'strides'>, out: readonly number[]): number[] {
  const rank = out.length;
  const strides = new Array<number>(rank).fill(0);
  v.shape.forEach((d, i) => {
    strides[rank - v.shape.length + i] = d === 1 ? 0 : v.strides[i]!;
  });
  return strides;
}

/** Element strides of a row-major `shape` broadcast against `out` (0 on broadcast dims), right-aligned. */
export function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  return viewStrides({ shape: [...shape], strides: stridesOf(shape) }, out);
}

/**
 * Merges adjacent dims that every operand walks contiguously (stride[d] = stride[d+1] *
 * shape[d+1], broadcast dims included) and drops size-1 dims: the same elements in the same
 * order, fewer loop levels.
 */
export function collapseDims(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1 && shape.length > 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((st, i) => outStrides[i]![last] === st[d]! * shape[d]!)) {
      outShape[last]! *= shape[d]!;
      strides.forEach((st, i) => (outStrides[i]![last] = st[d]!));
    } else {
      outShape.push(shape[d]!);
      strides.forEach((st, i) => outStrides[i]!.push(st[d]!));
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** The loop ranges in which a guarded view is read (loops = the output's dims, uncollapsed). */
function guardsOf(v: View, rank: number): { guards: Guard[]; never: boolean } {
  const guards: Guard[] = [];
  for (const [j, [lo, hi]] of (v.valid ?? []).entries()) {
    if (v.shape[j] === 1) {
      if (!(lo <= 0 && 0 < hi)) return { guards: [], never: true };
      continue;
    }
    if (lo > 0 || hi < v.shape[j]!) guards.push({ dim: rank - v.shape.length + j, lo, hi });
  }
  return { guards, never: false };
}

/**
 * The indexing of an elementwise kernel over `outShape` whose input slot i holds a buffer of
 * shape inShapes[i], read through views[i] when given (else broadcast to outShape).
 */
export function elementwiseIndexing(
  outShape: readonly number[],
  inShapes: readonly (readonly number[])[],
  views: readonly (View | null | undefined)[] = [],
): ElementwiseIndexing {
  const n = sizeOf(outShape);
  const kinds = inShapes.map((s, i) => (views[i] ? undefined : sizeOf(s) === n ? 'flat' : sizeOf(s) === 1 ? 'scalar' : undefined));
  if (kinds.every((k) => k !== undefined)) return { kind: 'flat', size: n, inputs: kinds as ('flat' | 'scalar')[] };
  const full = inShapes.map((s, i) => {
    const v = views[i];
    return v ? viewStrides(v, outShape) : broadcastStrides(s, outShape);
  });
  // A guard tests loop indices against the output's own dims, so guarded kernels do not collapse.
  const guarded = views.some((v) => v?.valid);
  const { shape, strides } = guarded ? { shape: [...outShape], strides: full.map((st) => [...st]) } : collapseDims(outShape, full);
  const inputs = inShapes.map((_, i): InputAccess => {
    const v = views[i];
    const { guards, never } = v?.valid ? guardsOf(v, outShape.length) : { guards: [], never: false };
    return { offset: v?.offset ?? 0, strides: strides[i]!, guards, never, ...(v?.orElse !== undefined ? { orElse: v.orElse } : {}), fill: v?.fill ?? 0 };
  });
  return { kind: 'nested', loops: shape, inputs };
}

export type ReduceIndexing =
  /** Trailing reduced axes over flat or scalar inputs: `outer` rows of `inner` consecutive elements. */
  | { kind: 'rows'; outer: number; inner: number; inputs: ('flat' | 'scalar')[] }
  /** Nested loops over the (collapsed) input shape; the last strides are the accumulator's. */
  | { kind: 'nested'; loops: number[]; inputStrides: number[][]; accStrides: number[] };

/** The indexing of a reduction of inShape over `axes`, its prologue reading inputs of shapes inShapes. */
export function reduceIndexing(inShape: readonly number[], inShapes: readonly (readonly number[])[], axes: readonly number[]): ReduceIndexing {
  const n = sizeOf(inShape);
  const rank = inShape.length;
  const sorted = [...axes].sort((a, b) => a - b);
  const trailing = sorted.every((a, i) => a === rank - sorted.length + i);
  const kinds = inShapes.map((s) => (sizeOf(s) === n ? 'flat' : sizeOf(s) === 1 ? 'scalar' : undefined));
  if (trailing && kinds.every((k) => k !== undefined)) {
    const inner = sizeOf(sorted.map((a) => inShape[a]!));
    return { kind: 'rows', outer: n / Math.max(inner, 1), inner, inputs: kinds as ('flat' | 'scalar')[] };
  }
  const keep = inShape.map((d, i) => (axes.includes(i) ? 1 : d));
  const acc = broadcastStrides(keep, inShape).map((s, i) => (axes.includes(i) ? 0 : s));
  const { shape, strides } = collapseDims(inShape, [...inShapes.map((s) => broadcastStrides(s, inShape)), acc]);
  return { kind: 'nested', loops: shape, inputStrides: strides.slice(0, -1), accStrides: strides[strides.length - 1]! };
}
