/**
 * Views: how an elementwise kernel reads a buffer in place instead of a copy. A view has a
 * logical shape; element [i0, i1, ...] is at `offset + sum(i_d * strides[d])` of the buffer.
 * Transposes, slices, pads and concats fold into their consumers as views, built only by the
 * operations here (each the view of the op's output from the view of its input), printed by
 * viewToString and checked by checkView. A folded pad or concat piece is a guarded view: it
 * holds values only inside `valid` (per dim [lo, hi)); outside, the next piece of its chain
 * (`orElse`, another input of the kernel, set by chainPieces) or else `fill` is read.
 */
import { fmtShape, stridesOf } from '@kiln/graph';

export interface View {
  shape: number[];
  offset: number;
  strides: number[];
  /** A guarded view: per logical dim, the range [lo, hi) read from the buffer (the offset may point before the buffer: it is never read outside). */
  valid?: [number, number][];
  /** The value outside `valid` when no other piece follows. */
  fill?: number;
  /** Outside `valid`, read this other input of the kernel instead of `fill` (the next piece of a folded concat). */
  orElse?: number;
}

/** @deprecated the former name of View. */
export type IndexView = View;

const fullRanges = (shape: readonly number[]): [number, number][] => shape.map((d) => [0, d]);

/** A whole buffer of `shape`, row-major. */
export function identityView(shape: readonly number[]): View {
  return { shape: [...shape], offset: 0, strides: stridesOf(shape) };
}

/** transpose(x, perm) read through x's view. */
export function transposeView(v: View, perm: readonly number[], shape: readonly number[]): View {
  return { ...v, shape: [...shape], strides: perm.map((p) => v.strides[p]!), ...(v.valid ? { valid: perm.map((p) => v.valid![p]!) } : {}) };
}

/** slice(x, begin, shape) read through x's view (a guard shifts and is clipped to the slice). */
export function sliceView(v: View, begin: readonly number[], shape: readonly number[]): View {
  const valid = v.valid?.map(([lo, hi], d): [number, number] => [
    Math.min(Math.max(lo - begin[d]!, 0), shape[d]!),
    Math.max(Math.min(hi - begin[d]!, shape[d]!), 0),
  ]);
  return { ...v, shape: [...shape], offset: v.offset + begin.reduce((o, b, d) => o + b * v.strides[d]!, 0), ...(valid ? { valid } : {}) };
}

/** pad(x, before, fill) read through x's view: x's values inside [before, before + x_d), fill outside. */
export function padView(v: View, before: readonly number[], shape: readonly number[], fill: number): View {
  const inner = v.valid ?? fullRanges(v.shape);
  return {
    shape: [...shape],
    offset: v.offset - before.reduce((o, b, d) => o + b * v.strides[d]!, 0),
    strides: v.strides,
    valid: inner.map(([lo, hi], d): [number, number] => [lo + before[d]!, hi + before[d]!]),
    fill,
  };
}

/** One piece of concat(..., axis) read through a piece's view: the input's values in its slot [start, start + len) of the axis. */
export function concatPieceView(v: View, axis: number, start: number, shape: readonly number[]): View {
  const inner = v.valid ?? fullRanges(v.shape);
  const valid = inner.map(([lo, hi], d): [number, number] => (d === axis ? [lo + start, hi + start] : [lo, hi]));
  return { ...v, shape: [...shape], offset: v.offset - start * v.strides[axis]!, valid };
}

/**
 * The views of a chain of pieces placed at consecutive input slots from `first`: each piece
 * but the last falls back to the next one outside its valid range.
 */
export function chainPieces(views: readonly View[], first: number): View[] {
  return views.map((v, k) => (k + 1 < views.length ? { ...v, orElse: first + k + 1 } : v));
}

const fmtNum = (v: number) => (Number.isNaN(v) ? 'nan' : Object.is(v, -0) ? '-0' : String(v));

/** `[3,4] at 8 strides [1,6]`, with ` valid 0:2,1:3 else %k` (or `else 0`) for a guarded view. */
export function viewToString(v: View): string {
  const guard = v.valid
    ? ` valid ${v.valid.map(([lo, hi]) => `${lo}:${hi}`).join(',')} else ${v.orElse !== undefined ? `%${v.orElse}` : fmtNum(v.fill ?? 0)}`
    : '';
  return `${fmtShape(v.shape)} at ${v.offset} strides ${fmtShape(v.strides)}${guard}`;
}

/** A key equal for equal views (for deduplicating reads of one buffer). */
export function viewKey(v: View): string {
  return viewToString(v);
}

/**
 * Why a view of input slot `slot` is not valid for a buffer of `elements` elements in a kernel
 * with `slots` inputs (null when it is): integral fields, matching ranks, non-negative strides,
 * every element read inside the buffer, an orElse naming a later guarded input.
 */
export function checkView(v: View, elements: number, slot: number, slots: number, viewAt: (i: number) => View | null | undefined): string | null {
  const ranges = v.shape.map((d, j): [number, number] => v.valid?.[j] ?? [0, d]);
  const ints = [v.offset, ...v.shape, ...v.strides, ...ranges.flat()].every((x) => Number.isInteger(x));
  if (!ints || v.shape.length !== v.strides.length || (v.valid && v.valid.length !== v.shape.length)) return 'has non-integral fields or mismatched ranks';
  if (v.strides.some((x) => x < 0) || v.shape.some((d) => d < 0) || ranges.some(([lo, hi], j) => lo < 0 || hi > v.shape[j]!))
    return 'has a negative stride or a range outside its shape';
  const empty = ranges.some(([lo, hi]) => hi <= lo);
  const first = v.offset + ranges.reduce((a, [lo], j) => a + lo * v.strides[j]!, 0);
  const last = v.offset + ranges.reduce((a, [, hi], j) => a + (hi - 1) * v.strides[j]!, 0);
  if (!empty && (first < 0 || last >= elements)) return `reaches outside its buffer (${elements} elements)`;
  if (v.orElse !== undefined && (!v.valid || !(v.orElse > slot && v.orElse < slots && viewAt(v.orElse))))
    return `falls back to input ${v.orElse}, which must be a later input with a view`;
  return null;
}
