/**
 * Movement ops: they rearrange, select or replicate elements without arithmetic. reshape,
 * transpose, expandDims, squeeze, concat, stack, split, slice, gather, oneHot, pad, tile,
 * broadcastTo (TF.js signatures), plus broadcastLike(x, like): broadcasts x to the run-time
 * shape of `like`, which gradients need when a shape holds unknown (null) dims.
 *
 * Shape-like attrs keep TF's conventions: reshape's `shape` and slice's `size` may hold -1
 * ("infer" / "to the end"); pad's `paddings` is stored flat as [before0, after0, before1, ...].
 */
import type { DType } from '../dtype.js';
import { KilnError, fmtShape } from '../errors.js';
import type { SymbolicTensor } from '../graph.js';
import { type Dim, type Shape, normalizeAxes, normalizeAxis } from '../shape.js';
import { type TensorLike, apply1, applyOp, toSymbolic } from './apply.js';
import { type InferContext, type TensorType, registerOp } from './registry.js';

function productOfKnown(shape: readonly Dim[]): number {
  let n = 1;
  for (const d of shape) if (d !== null) n *= d;
  return n;
}

/** Two dims that must agree (null agrees with anything). */
function mergeDims(a: Dim, b: Dim): Dim | undefined {
  if (a === null) return b;
  if (b === null || a === b) return a;
  return undefined;
}

function fmtList(v: readonly number[]): string {
  return `[${v.join(',')}]`;
}

function requireRank(ctx: InferContext, x: TensorType, attr: string, list: readonly number[], per = 1): void {
  if (list.length !== x.shape.length * per) {
    throw new KilnError(
      'INVALID_ATTR',
      `${ctx.what}: ${attr} must have ${x.shape.length * per} entries (${per === 1 ? 'one' : `${per}`} per dim of x: ${fmtShape(x.shape)}), got ${fmtList(list)}`,
    );
  }
}

/** Resolves reshape's target (with at most one -1) for a fully known element count. */
export function resolveReshape(target: readonly number[], size: number, what: string, inShape: readonly Dim[]): number[] {
  const known = target.reduce((n, d) => (d === -1 ? n : n * d), 1);
  const inferAt = target.indexOf(-1);
  const bad = (): never => {
    throw new KilnError(
      'SHAPE_MISMATCH',
      `${what}: cannot reshape ${fmtShape(inShape)} (${size} elements) into ${fmtList(target)}${inferAt >= 0 ? '' : ` (${known} elements)`}`,
    );
  };
  if (inferAt < 0) {
    if (known !== size) bad();
    return [...target];
  }
  if (known === 0 || size % known !== 0) bad();
  const out = [...target];
  out[inferAt] = size / known;
  return out;
}

registerOp({
  name: 'reshape',
  family: 'movement',
  doc: 'Same elements, new shape; one dim may be -1 (inferred).',
  inputs: [{ name: 'x' }],
  attrs: { shape: { type: 'ints' } },
  infer: ([x], attrs, ctx) => {
    const target = attrs.shape as number[];
    if (target.some((d) => d < -1) || target.filter((d) => d === -1).length > 1) {
      throw new KilnError('INVALID_ATTR', `${ctx.what}: shape may hold non-negative dims and at most one -1, got ${fmtList(target)}`);
    }
    const xs = x!.shape;
    if (xs.every((d) => d !== null)) {
      return [{ dtype: x!.dtype, shape: resolveReshape(target, productOfKnown(xs), ctx.what, xs) }];
    }
    // Unknown input dims: check only what the known dims allow.
    const knownIn = productOfKnown(xs);
    const inferAt = target.indexOf(-1);
    const knownOut = target.reduce((n, d) => (d === -1 ? n : n * d), 1);
    if (inferAt < 0 && knownIn !== 0 && knownOut % knownIn !== 0) {
      throw new KilnError(
        'SHAPE_MISMATCH',
        `${ctx.what}: cannot reshape ${fmtShape(xs)} (a multiple of ${knownIn} elements) into ${fmtList(target)} (${knownOut} elements)`,
      );
    }
    if (inferAt >= 0 && knownOut === 0) {
      throw new KilnError('INVALID_ATTR', `${ctx.what}: cannot infer the -1 dim of ${fmtList(target)} next to a zero-sized dim`);
    }
    return [{ dtype: x!.dtype, shape: target.map((d) => (d === -1 ? null : d)) }];
  },
});

registerOp({
  name: 'transpose',
  family: 'movement',
  doc: 'Permutes dims: out.shape[i] = x.shape[perm[i]].',
  inputs: [{ name: 'x' }],
  attrs: { perm: { type: 'ints' } },
  infer: ([x], attrs, ctx) => {
    const perm = attrs.perm as number[];
    const r = x!.shape.length;
    const isPerm = perm.length === r && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
    if (!isPerm) {
      throw new KilnError('INVALID_ATTR', `${ctx.what}: perm must be a permutation of 0..${r - 1} (x: ${fmtShape(x!.shape)}), got ${fmtList(perm)}`);
    }
    return [{ dtype: x!.dtype, shape: perm.map((p) => x!.shape[p]!) }];
  },
});

registerOp({
  name: 'expandDims',
  family: 'movement',
  doc: 'Inserts a dim of size 1 at axis (-rank-1 <= axis <= rank).',
  inputs: [{ name: 'x' }],
  attrs: { axis: { type: 'int', default: 0 } },
  infer: ([x], attrs, ctx) => {
    const axis = normalizeAxis(attrs.axis as number, x!.shape.length + 1, ctx.what);
    const shape = [...x!.shape];
    shape.splice(axis, 0, 1);
    return [{ dtype: x!.dtype, shape }];
  },
});

registerOp({
  name: 'squeeze',
  family: 'movement',
  doc: 'Removes the dims of size 1 listed in axis (all of them when axis is empty).',
  inputs: [{ name: 'x' }],
  attrs: { axis: { type: 'ints', default: [] } },
  infer: ([x], attrs, ctx) => {
    const xs = x!.shape;
    const given = attrs.axis as number[];
    if (given.length === 0) {
      if (xs.includes(null)) {
        throw new KilnError('INVALID_ARGUMENT', `${ctx.what}: x ${fmtShape(xs)} has unknown dims, so which dims are 1 is not known; pass axis explicitly`);
      }
      return [{ dtype: x!.dtype, shape: xs.filter((d) => d !== 1) }];
    }
    const axes = normalizeAxes(given, xs.length, ctx.what);
    for (const a of axes) {
      if (xs[a] !== null && xs[a] !== 1) {
        throw new KilnError('SHAPE_MISMATCH', `${ctx.what}: cannot squeeze axis ${a} of size ${xs[a]} (expected 1; x: ${fmtShape(xs)})`);
      }
    }
    return [{ dtype: x!.dtype, shape: xs.filter((_, i) => !axes.includes(i)) }];
  },
});

/** Checks that every tensor has the same dtype and rank; returns the dtype. */
function sameDTypeAndRank(ctx: InferContext, xs: readonly TensorType[]): DType {
  const first = xs[0]!;
  xs.forEach((t, i) => {
    if (t.dtype !== first.dtype) {
      throw new KilnError('DTYPE_MISMATCH', `${ctx.what}: all tensors must have the same dtype; tensor 0 is ${first.dtype}, tensor ${i} is ${t.dtype}`);
    }
    if (t.shape.length !== first.shape.length) {
      throw new KilnError(
        'SHAPE_MISMATCH',
        `${ctx.what}: all tensors must have the same rank; tensor 0 is ${fmtShape(first.shape)}, tensor ${i} is ${fmtShape(t.shape)}`,
      );
    }
  });
  return first.dtype;
}

registerOp({
  name: 'concat',
  family: 'movement',
  doc: 'Joins tensors along an existing axis; the other dims must agree.',
  inputs: [{ name: 'tensors', variadic: true }],
  attrs: { axis: { type: 'int', default: 0 } },
  infer: (xs, attrs, ctx) => {
    const dtype = sameDTypeAndRank(ctx, xs);
    const r = xs[0]!.shape.length;
    if (r === 0) throw new KilnError('INVALID_ARGUMENT', `${ctx.what}: cannot concat scalars (use stack)`);
    const axis = normalizeAxis(attrs.axis as number, r, ctx.what);
    const shape: Shape = [...xs[0]!.shape];
    xs.forEach((t, i) => {
      for (let d = 0; d < r; d++) {
        if (d === axis) continue;
        const m = mergeDims(shape[d]!, t.shape[d]!);
        if (m === undefined) {
          throw new KilnError(
            'SHAPE_MISMATCH',
            `${ctx.what}: dim ${d} must agree outside axis ${axis}; tensor 0 is ${fmtShape(xs[0]!.shape)}, tensor ${i} is ${fmtShape(t.shape)}`,
          );
        }
        shape[d] = m;
      }
    });
    shape[axis] = xs.some((t) => t.shape[axis] === null) ? null : xs.reduce((n, t) => n + (t.shape[axis] as number), 0);
    return [{ dtype, shape }];
  },
});

registerOp({
  name: 'stack',
  family: 'movement',
  doc: 'Joins same-shaped tensors along a new axis.',
  inputs: [{ name: 'tensors', variadic: true }],
  attrs: { axis: { type: 'int', default: 0 } },
  infer: (xs, attrs, ctx) => {
    const dtype = sameDTypeAndRank(ctx, xs);
    const shape: Shape = [...xs[0]!.shape];
    xs.forEach((t, i) => {
      t.shape.forEach((d, k) => {
        const m = mergeDims(shape[k]!, d);
        if (m === undefined) {
          throw new KilnError(
            'SHAPE_MISMATCH',
            `${ctx.what}: all tensors must have the same shape; tensor 0 is ${fmtShape(xs[0]!.shape)}, tensor ${i} is ${fmtShape(t.shape)}`,
          );
        }
        shape[k] = m;
      });
    });
    const axis = normalizeAxis(attrs.axis as number, shape.length + 1, ctx.what);
    shape.splice(axis, 0, xs.length);
    return [{ dtype, shape }];
  },
});

/** The sizes of split's pieces along the axis (null where unknown), validating the attrs. */
export function splitSizes(dim: Dim, num: number, sizes: readonly number[], what: string, xShape: readonly Dim[]): Dim[] {
  if (num > 0 === sizes.length > 0) {
    throw new KilnError('INVALID_ATTR', `${what}: give exactly one of num (> 0) or sizes, got num=${num}, sizes=${fmtList(sizes)}`);
  }
  if (num < 0) throw new KilnError('INVALID_ATTR', `${what}: num must be > 0, got ${num}`);
  if (num > 0) {
    if (dim !== null && dim % num !== 0) {
      throw new KilnError('SHAPE_MISMATCH', `${what}: cannot split a dim of size ${dim} into ${num} equal parts (x: ${fmtShape(xShape)})`);
    }
    return new Array<Dim>(num).fill(dim === null ? null : dim / num);
  }
  if (sizes.some((s) => s < -1) || sizes.filter((s) => s === -1).length > 1) {
    throw new KilnError('INVALID_ATTR', `${what}: sizes may hold non-negative sizes and at most one -1, got ${fmtList(sizes)}`);
  }
  const known = sizes.reduce((n, s) => (s === -1 ? n : n + s), 0);
  const hasInfer = sizes.includes(-1);
  if (dim !== null && (hasInfer ? known > dim : known !== dim)) {
    throw new KilnError(
      'SHAPE_MISMATCH',
      `${what}: sizes ${fmtList(sizes)} must sum to ${dim} (the split dim of x: ${fmtShape(xShape)}), got ${known}${hasInfer ? ' before the -1' : ''}`,
    );
  }
  return sizes.map((s) => (s !== -1 ? s : dim === null ? null : dim - known));
}

registerOp({
  name: 'split',
  family: 'movement',
  doc: 'Splits x along axis into num equal pieces or pieces of the given sizes (one may be -1).',
  inputs: [{ name: 'x' }],
  attrs: { num: { type: 'int', default: 0 }, sizes: { type: 'ints', default: [] }, axis: { type: 'int', default: 0 } },
  infer: ([x], attrs, ctx) => {
    if (x!.shape.length === 0) throw new KilnError('INVALID_ARGUMENT', `${ctx.what}: cannot split a scalar`);
    const axis = normalizeAxis(attrs.axis as number, x!.shape.length, ctx.what);
    const pieces = splitSizes(x!.shape[axis]!, attrs.num as number, attrs.sizes as number[], ctx.what, x!.shape);
    return pieces.map((p) => {
      const shape = [...x!.shape];
      shape[axis] = p;
      return { dtype: x!.dtype, shape };
    });
  },
});

registerOp({
  name: 'slice',
  family: 'movement',
  doc: 'x[begin : begin + size] per dim; size -1 takes the rest of the dim.',
  inputs: [{ name: 'x' }],
  attrs: { begin: { type: 'ints' }, size: { type: 'ints' } },
  infer: ([x], attrs, ctx) => {
    const begin = attrs.begin as number[];
    const size = attrs.size as number[];
    requireRank(ctx, x!, 'begin', begin);
    requireRank(ctx, x!, 'size', size);
    const shape = x!.shape.map((d, i) => {
      const b = begin[i]!;
      const s = size[i]!;
      if (b < 0 || s < -1 || (d !== null && (b > d || (s !== -1 && b + s > d)))) {
        throw new KilnError(
          'INVALID_ATTR',
          `${ctx.what}: slice begin ${fmtList(begin)} size ${fmtList(size)} is out of bounds for x ${fmtShape(x!.shape)} at dim ${i} (need 0 <= begin <= begin + size <= ${d ?? '?'})`,
        );
      }
      return s !== -1 ? s : d === null ? null : d - b;
    });
    return [{ dtype: x!.dtype, shape }];
  },
});

registerOp({
  name: 'gather',
  family: 'movement',
  doc: 'Picks slices of x along axis at int32 indices; the first batchDims dims of x and indices are shared batch dims.',
  inputs: [{ name: 'x' }, { name: 'indices' }],
  attrs: { axis: { type: 'int', default: 0 }, batchDims: { type: 'int', default: 0 } },
  infer: ([x, indices], attrs, ctx) => {
    if (indices!.dtype !== 'int32') throw new KilnError('DTYPE_MISMATCH', `${ctx.what}: indices must be int32, got ${indices!.dtype}`);
    const xs = x!.shape;
    const is = indices!.shape;
    if (xs.length === 0) throw new KilnError('INVALID_ARGUMENT', `${ctx.what}: x must have rank >= 1, got a scalar`);
    let bd = attrs.batchDims as number;
    if (bd < 0) bd += is.length;
    if (bd < 0 || bd > is.length) {
      throw new KilnError('INVALID_ATTR', `${ctx.what}: batchDims ${attrs.batchDims as number} is out of range for indices ${fmtShape(is)}`);
    }
    const axis = normalizeAxis(attrs.axis as number, xs.length, ctx.what);
    if (axis < bd) throw new KilnError('INVALID_ATTR', `${ctx.what}: axis (${axis}) must be >= batchDims (${bd})`);
    const batch: Shape = [];
    for (let i = 0; i < bd; i++) {
      const m = mergeDims(xs[i]!, is[i]!);
      if (m === undefined) {
        throw new KilnError('SHAPE_MISMATCH', `${ctx.what}: batch dim ${i} differs (x: ${fmtShape(xs)}, indices: ${fmtShape(is)})`);
      }
      batch.push(m);
    }
    return [{ dtype: x!.dtype, shape: [...batch, ...xs.slice(bd, axis), ...is.slice(bd), ...xs.slice(axis + 1)] }];
  },
});

registerOp({
  name: 'oneHot',
  family: 'movement',
  doc: 'out[..., d] = onValue where indices[...] = d else offValue; out-of-range indices give a row of offValue.',
  inputs: [{ name: 'indices' }],
  attrs: {
    depth: { type: 'int' },
    onValue: { type: 'float', default: 1 },
    offValue: { type: 'float', default: 0 },
    dtype: { type: 'dtype', default: 'int32' },
  },
  infer: ([indices], attrs, ctx) => {
    if (indices!.dtype !== 'int32') throw new KilnError('DTYPE_MISMATCH', `${ctx.what}: indices must be int32, got ${indices!.dtype}`);
    const depth = attrs.depth as number;
    if (depth < 0) throw new KilnError('INVALID_ATTR', `${ctx.what}: depth must be >= 0, got ${depth}`);
    return [{ dtype: attrs.dtype as DType, shape: [...indices!.shape, depth] }];
  },
});

registerOp({
  name: 'pad',
  family: 'movement',
  doc: 'Pads each dim with paddings (flat: before0, after0, before1, ...) copies of constantValue.',
  inputs: [{ name: 'x' }],
  attrs: { paddings: { type: 'ints' }, constantValue: { type: 'float', default: 0 } },
  infer: ([x], attrs, ctx) => {
    const p = attrs.paddings as number[];
    requireRank(ctx, x!, 'paddings', p, 2);
    if (p.some((v) => v < 0)) throw new KilnError('INVALID_ATTR', `${ctx.what}: paddings must be >= 0, got ${fmtList(p)}`);
    return [{ dtype: x!.dtype, shape: x!.shape.map((d, i) => (d === null ? null : d + p[2 * i]! + p[2 * i + 1]!)) }];
  },
});

registerOp({
  name: 'tile',
  family: 'movement',
  doc: 'Repeats x reps[i] times along dim i.',
  inputs: [{ name: 'x' }],
  attrs: { reps: { type: 'ints' } },
  infer: ([x], attrs, ctx) => {
    const reps = attrs.reps as number[];
    requireRank(ctx, x!, 'reps', reps);
    if (reps.some((r) => r < 0)) throw new KilnError('INVALID_ATTR', `${ctx.what}: reps must be >= 0, got ${fmtList(reps)}`);
    return [{ dtype: x!.dtype, shape: x!.shape.map((d, i) => (reps[i] === 0 ? 0 : d === null ? null : d * reps[i]!)) }];
  },
});

/** The shape of x broadcast to `target` (NumPy rules, one direction), or a SHAPE_MISMATCH. */
function broadcastOneWay(x: readonly Dim[], target: readonly Dim[], what: string, targetName: string): Shape {
  const bad = (): never => {
    throw new KilnError('SHAPE_MISMATCH', `${what}: x ${fmtShape(x)} cannot be broadcast to ${targetName} ${fmtShape(target)}`);
  };
  if (x.length > target.length) bad();
  const off = target.length - x.length;
  return target.map((t, i) => {
    const d = i < off ? 1 : x[i - off]!;
    if (d === 1) return t;
    if (t === null) return d;
    if (d === null || d === t) return t;
    return bad();
  });
}

registerOp({
  name: 'broadcastTo',
  family: 'movement',
  doc: 'Broadcasts x to a fully known shape (NumPy rules).',
  inputs: [{ name: 'x' }],
  attrs: { shape: { type: 'shape' } },
  infer: ([x], attrs, ctx) => {
    const target = attrs.shape as Dim[];
    if (target.includes(null)) {
      throw new KilnError(
        'INVALID_ATTR',
        `${ctx.what}: shape ${fmtShape(target)} must be fully known (to follow a tensor's run-time shape, use broadcastLike)`,
      );
    }
    return [{ dtype: x!.dtype, shape: broadcastOneWay(x!.shape, target, ctx.what, 'shape') }];
  },
});

registerOp({
  name: 'broadcastLike',
  family: 'movement',
  doc: "Broadcasts x to like's run-time shape; like's values are not read (used by gradients with unknown dims).",
  inputs: [{ name: 'x' }, { name: 'like' }],
  attrs: {},
  infer: ([x, like], _attrs, ctx) => [{ dtype: x!.dtype, shape: broadcastOneWay(x!.shape, like!.shape, ctx.what, 'like') }],
});

// ---- free functions (TF.js signatures) ----

export function reshape(x: TensorLike, shape: number[]): SymbolicTensor {
  return apply1('reshape', [x], { shape: [...shape] });
}
export function transpose(x: TensorLike, perm?: number[]): SymbolicTensor {
  const [xs] = toSymbolic('transpose', [x]);
  return apply1('transpose', [xs!], { perm: perm ? [...perm] : [...Array(xs!.shape.length).keys()].reverse() });
}
export function expandDims(x: TensorLike, axis = 0): SymbolicTensor {
  return apply1('expandDims', [x], { axis });
}
export function squeeze(x: TensorLike, axis?: number[]): SymbolicTensor {
  return apply1('squeeze', [x], { axis: axis ? [...axis] : [] });
}
export function concat(tensors: TensorLike[], axis = 0): SymbolicTensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new KilnError('INVALID_ARGUMENT', 'concat: expects a non-empty list of tensors');
  return apply1('concat', tensors, { axis });
}
export function stack(tensors: TensorLike[], axis = 0): SymbolicTensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new KilnError('INVALID_ARGUMENT', 'stack: expects a non-empty list of tensors');
  return apply1('stack', tensors, { axis });
}
export function split(x: TensorLike, numOrSizeSplits: number | number[], axis = 0): SymbolicTensor[] {
  const attrs = typeof numOrSizeSplits === 'number' ? { num: numOrSizeSplits, axis } : { sizes: [...numOrSizeSplits], axis };
  if (typeof numOrSizeSplits === 'number' && numOrSizeSplits <= 0) {
    throw new KilnError('INVALID_ARGUMENT', `split: numOrSizeSplits must be > 0, got ${numOrSizeSplits}`);
  }
  return applyOp('split', [x], attrs);
}
/** As tf.slice: begin may be a number (first dim) or a prefix; size -1 or missing = to the end. */
export function slice(x: TensorLike, begin: number | number[], size?: number | number[]): SymbolicTensor {
  const [xs] = toSymbolic('slice', [x]);
  const r = xs!.shape.length;
  const b = typeof begin === 'number' ? [begin] : [...begin];
  while (b.length < r) b.push(0);
  const s = size === undefined ? [] : typeof size === 'number' ? [size] : [...size];
  while (s.length < r) s.push(-1);
  return apply1('slice', [xs!], { begin: b, size: s });
}
/** Literal indices become int32 constants. */
function int32Input(op: string, ref: SymbolicTensor, v: TensorLike): SymbolicTensor {
  return Array.isArray(v) || typeof v === 'number' ? ref.graph.constant(v, 'int32') : (toSymbolic(op, [v], ref.graph)[0] as SymbolicTensor);
}
export function gather(x: TensorLike, indices: TensorLike, axis = 0, batchDims = 0): SymbolicTensor {
  const [xs] = toSymbolic('gather', [x]);
  return apply1('gather', [xs!, int32Input('gather', xs!, indices)], { axis, batchDims });
}
/** As tf.oneHot: the result is int32 unless dtype says otherwise (cast for float math). */
export function oneHot(indices: TensorLike, depth: number, onValue = 1, offValue = 0, dtype: DType = 'int32'): SymbolicTensor {
  return apply1('oneHot', [indices], { depth, onValue, offValue, dtype });
}
export function pad(x: TensorLike, paddings: Array<[number, number]> | number[][], constantValue = 0): SymbolicTensor {
  const flat: number[] = [];
  for (const p of paddings) {
    if (!Array.isArray(p) || p.length !== 2) throw new KilnError('INVALID_ARGUMENT', `pad: each padding must be [before, after], got ${JSON.stringify(p)}`);
    flat.push(p[0]!, p[1]!);
  }
  return apply1('pad', [x], { paddings: flat, constantValue });
}
export function tile(x: TensorLike, reps: number[]): SymbolicTensor {
  return apply1('tile', [x], { reps: [...reps] });
}
export function broadcastTo(x: TensorLike, shape: number[]): SymbolicTensor {
  return apply1('broadcastTo', [x], { shape: [...shape] });
}
export function broadcastLike(x: TensorLike, like: SymbolicTensor): SymbolicTensor {
  const [xs] = toSymbolic('broadcastLike', [x], like.graph);
  return apply1('broadcastLike', [xs!, like]);
}
