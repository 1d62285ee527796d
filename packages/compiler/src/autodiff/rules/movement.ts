/**
 * Gradient rules: movement family. Each rule moves dy back to where the elements came from:
 * reshape/expandDims/squeeze reshape back, transpose applies the inverse permutation,
 * concat/stack split dy, split concatenates the dys (zeros for unused outputs), slice pads,
 * pad slices, tile sums the repeats, broadcastTo/broadcastLike sum the broadcast axes, gather
 * scatter-adds with unsortedSegmentSum. oneHot is not differentiable (integer indices).
 *
 * Where a shape holds unknown (null) dims the rules use only ops that need no run-time shape
 * (expandDims, split with one -1, broadcastLike); the few cases that would need one raise
 * UNSUPPORTED naming the node (e.g. reshape back to a shape with two unknown dims).
 */
import {
  KilnError,
  type SymbolicTensor,
  add,
  broadcastLike,
  concat,
  expandDims,
  fillTensor,
  fmtShape,
  isFullyDefined,
  normalizeAxes,
  normalizeAxis,
  pad,
  reshape,
  slice,
  split,
  squeeze,
  sum,
  transpose,
  unsortedSegmentSum,
} from '@kiln/graph';
import { type GradContext, registerGradient, registerNonDifferentiable } from '../registry.js';
import { unbroadcast } from '../unbroadcast.js';

function what(ctx: GradContext): string {
  return `${ctx.node.op} '${ctx.node.name}'`;
}

function unsupported(ctx: GradContext, why: string): never {
  throw new KilnError('UNSUPPORTED', `${what(ctx)}: cannot build the gradient: ${why}`);
}

/** Zeros shaped like t (run-time shape when t has unknown dims). */
function zerosLikeOf(t: SymbolicTensor): SymbolicTensor {
  const g = t.graph;
  if (isFullyDefined(t.shape)) return g.constant(fillTensor(t.shape, 0, t.dtype), t.dtype, 'zeros');
  return broadcastLike(g.constant(0, t.dtype, 'zeros'), t);
}

/** A static reshape target for `shape`: null becomes -1 (at most one allowed). */
function reshapeTarget(ctx: GradContext, shape: readonly (number | null)[]): number[] {
  if (shape.filter((d) => d === null).length > 1) {
    unsupported(ctx, `reshaping back to ${fmtShape(shape)} needs its run-time shape (more than one unknown dim)`);
  }
  return shape.map((d) => (d === null ? -1 : d));
}

registerGradient('reshape', ([dy], ctx) => {
  if (!dy) return [null];
  return [reshape(dy, reshapeTarget(ctx, ctx.inputs[0]!.shape))];
});

registerGradient('transpose', ([dy], ctx) => {
  if (!dy) return [null];
  const perm = ctx.attrs.perm as number[];
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inverse[p] = i;
  });
  return [transpose(dy, inverse)];
});

registerGradient('expandDims', ([dy], ctx) => {
  if (!dy) return [null];
  const axis = normalizeAxis(ctx.attrs.axis as number, ctx.inputs[0]!.shape.length + 1, what(ctx));
  return [squeeze(dy, [axis])];
});

registerGradient('squeeze', ([dy], ctx) => {
  if (!dy) return [null];
  const x = ctx.inputs[0]!;
  const given = ctx.attrs.axis as number[];
  const axes = given.length > 0 ? normalizeAxes(given, x.shape.length, what(ctx)) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  let g = dy;
  for (const a of axes) g = expandDims(g, a);
  return [g];
});

registerGradient('concat', ([dy], ctx) => {
  if (!dy) return ctx.inputs.map(() => null);
  const axis = normalizeAxis(ctx.attrs.axis as number, ctx.inputs[0]!.shape.length, what(ctx));
  const sizes = ctx.inputs.map((x) => x.shape[axis]!);
  if (sizes.filter((s) => s === null).length > 1) {
    unsupported(ctx, `more than one input has an unknown size along axis ${axis} (${ctx.inputs.map((x) => fmtShape(x.shape)).join(', ')})`);
  }
  if (ctx.inputs.length === 1) return [dy];
  return split(
    dy,
    sizes.map((s) => (s === null ? -1 : s)),
    axis,
  );
});

registerGradient('stack', ([dy], ctx) => {
  if (!dy) return ctx.inputs.map(() => null);
  const axis = normalizeAxis(ctx.attrs.axis as number, ctx.inputs[0]!.shape.length + 1, what(ctx));
  if (ctx.inputs.length === 1) return [squeeze(dy, [axis])];
  return split(dy, ctx.inputs.length, axis).map((piece) => squeeze(piece, [axis]));
});

registerGradient('split', (dys, ctx) => {
  if (dys.every((d) => d === null)) return [null];
  const axis = normalizeAxis(ctx.attrs.axis as number, ctx.inputs[0]!.shape.length, what(ctx));
  const parts = dys.map((d, i) => d ?? zerosLikeOf(ctx.outputs[i]!));
  return [parts.length === 1 ? parts[0]! : concat(parts, axis)];
});

registerGradient('slice', ([dy], ctx) => {
  if (!dy) return [null];
  const x = ctx.inputs[0]!;
  const begin = ctx.attrs.begin as number[];
  const size = ctx.attrs.size as number[];
  const paddings = x.shape.map((d, i): [number, number] => {
    if (size[i] === -1) return [begin[i]!, 0];
    if (d === null) unsupported(ctx, `dim ${i} of x ${fmtShape(x.shape)} is unknown, so the padding after the slice is unknown`);
    return [begin[i]!, d - begin[i]! - size[i]!];
  });
  return [pad(dy, paddings)];
});

registerGradient('pad', ([dy], ctx) => {
  if (!dy) return [null];
  const x = ctx.inputs[0]!;
  const p = ctx.attrs.paddings as number[];
  // Known dims: one slice. Unknown dims with padding after: slice to the end, then split it off.
  const begin = x.shape.map((_, i) => p[2 * i]!);
  const size = x.shape.map((d) => (d === null ? -1 : d));
  let g = slice(dy, begin, size);
  x.shape.forEach((d, i) => {
    const after = p[2 * i + 1]!;
    if (d === null && after > 0) g = split(g, [-1, after], i)[0]!;
  });
  return [g];
});

registerGradient('tile', ([dy], ctx) => {
  if (!dy) return [null];
  const x = ctx.inputs[0]!;
  const reps = ctx.attrs.reps as number[];
  // View dy as [r0, d0, r1, d1, ...] (only for dims that were repeated) and sum the r axes.
  const view: (number | null)[] = [];
  const repAxes: number[] = [];
  x.shape.forEach((d, i) => {
    if (reps[i] !== 1) {
      if (d === null) unsupported(ctx, `dim ${i} of x ${fmtShape(x.shape)} is unknown but repeated ${reps[i]} times`);
      repAxes.push(view.length);
      view.push(reps[i]!);
    }
    view.push(d);
  });
  if (repAxes.length === 0) return [dy];
  return [sum(reshape(dy, reshapeTarget(ctx, view)), repAxes, false)];
});

registerGradient('broadcastTo', ([dy], ctx) => [dy ? unbroadcast(dy, ctx.inputs[0]!.shape) : null]);
registerGradient('broadcastLike', ([dy], ctx) => [dy ? unbroadcast(dy, ctx.inputs[0]!.shape) : null, null]);

/**
 * Gradient of gather with batchDims = b > 0 and axis = b: folds the batch dims into the index
 * (index + flatBatch * N), so the scatter-add is one unsortedSegmentSum over B*N segments.
 * Needs static batch, gathered and trailing sizes.
 */
function batchedGatherGrad(dy: SymbolicTensor, x: SymbolicTensor, indices: SymbolicTensor, axis: number, ctx: GradContext): SymbolicTensor {
  const b = ctx.attrs.batchDims as number;
  if (axis !== b) unsupported(ctx, `batchDims ${b} with axis ${axis} (only axis == batchDims is supported)`);
  if (!isFullyDefined(x.shape) || !isFullyDefined(indices.shape)) {
    unsupported(ctx, `batchDims > 0 needs static shapes (x: ${fmtShape(x.shape)}, indices: ${fmtShape(indices.shape)})`);
  }
  const xs = x.shape as number[];
  const is = indices.shape as number[];
  const B = xs.slice(0, b).reduce((p, d) => p * d, 1);
  const N = xs[axis]!;
  const I = is.slice(b).reduce((p, d) => p * d, 1);
  const offsets = fillTensor([...is.slice(0, b), ...is.slice(b).map(() => 1)], 0, 'int32');
  for (let i = 0; i < B; i++) offsets.data[i] = i * N;
  const flatIdx = reshape(add(indices, x.graph.constant(offsets)), [B * I]);
  const flatDy = reshape(dy, [B * I, ...xs.slice(axis + 1)]);
  return reshape(unsortedSegmentSum(flatDy, flatIdx, B * N), xs);
}

registerGradient('gather', ([dy], ctx) => {
  const [x, indices] = ctx.inputs as [SymbolicTensor, SymbolicTensor];
  if (!dy || x.dtype !== 'float32') return [null, null];
  const axis = normalizeAxis(ctx.attrs.axis as number, x.shape.length, what(ctx));
  if ((ctx.attrs.batchDims as number) !== 0) return [batchedGatherGrad(dy, x, indices, axis, ctx), null];
  const numSegments = x.shape[axis];
  if (numSegments === null || numSegments === undefined) {
    unsupported(ctx, `the gathered axis ${axis} of x ${fmtShape(x.shape)} has an unknown size`);
  }
  if (axis === 0) return [unsortedSegmentSum(dy, indices, numSegments), null];
  // dy is [p..., I..., q...]: move the index dims I to the front, scatter-add, move A back.
  const ri = indices.shape.length;
  const rank = dy.shape.length;
  const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, k) => a + k);
  const toFront = [...range(axis, axis + ri), ...range(0, axis), ...range(axis + ri, rank)];
  const scattered = unsortedSegmentSum(transpose(dy, toFront), indices, numSegments);
  const back = [...range(1, axis + 1), 0, ...range(axis + 1, x.shape.length)];
  return [transpose(scattered, back), null];
});

registerNonDifferentiable('oneHot', 'its input is integer indices');
