/**
 * Gradient rules: reduce family.
 *
 * - sum / mean: dy is brought back to x's rank (expandDims at the reduced axes) and broadcast
 *   to x's shape (broadcastLike when x has unknown dims); mean also divides by the count of
 *   reduced elements (counted at run time when a reduced dim is unknown).
 * - max / min: as TensorFlow, the gradient goes to every element equal to the result, split
 *   equally among ties (TF.js instead gives each tie the full gradient).
 * - prod: dy * prod / x. Correct for nonzero inputs; a zero input gives NaN/Inf (documented
 *   limitation: the exact rule needs an exclusive cumulative product, which Kiln lacks).
 * - cumsum: cumsum of dy in the opposite direction.
 * - unsortedSegmentSum: gather of dy at the segment ids (dropped negative ids get 0).
 * - argMax / argMin: not differentiable (integer indices).
 */
import {
  type SymbolicTensor,
  broadcastLike,
  broadcastTo,
  cast,
  cumsum,
  div,
  equal,
  expandDims,
  gather,
  greaterEqual,
  isFullyDefined,
  maximum,
  mul,
  normalizeAxes,
  slice,
  sum,
} from '@kiln/graph';
import { type GradContext, registerGradient, registerNonDifferentiable } from '../registry.js';

function what(ctx: GradContext): string {
  return `${ctx.node.op} '${ctx.node.name}'`;
}

/** The reduced axes of a reduction node, normalized and sorted. */
function reducedAxes(ctx: GradContext): number[] {
  return normalizeAxes(ctx.attrs.axis as number[], ctx.inputs[0]!.shape.length, what(ctx));
}

/** A reduction's output (or its gradient) with the reduced axes re-inserted as size 1. */
function withKeptDims(t: SymbolicTensor, axes: readonly number[], keepDims: boolean): SymbolicTensor {
  if (keepDims) return t;
  let g = t;
  for (const a of axes) g = expandDims(g, a);
  return g;
}

/** Broadcasts t to x's shape; at run time when x's shape holds unknown dims. */
function broadcastToInput(t: SymbolicTensor, x: SymbolicTensor): SymbolicTensor {
  return isFullyDefined(x.shape) ? broadcastTo(t, x.shape) : broadcastLike(t, x);
}

/** The number of elements a reduction over `axes` combines, as a float32 scalar tensor. */
function reducedCount(x: SymbolicTensor, axes: readonly number[]): SymbolicTensor | number {
  const dims = axes.map((a) => x.shape[a]!);
  if (dims.every((d) => d !== null)) return dims.reduce((n, d) => n * (d as number), 1);
  // Count at run time: a slice of x keeping only the reduced axes, filled with ones and summed.
  const begin = x.shape.map(() => 0);
  const size = x.shape.map((d, i) => (axes.includes(i) ? -1 : d === 0 ? 0 : 1));
  const ones = broadcastLike(x.graph.constant(1, 'float32', 'ones'), slice(x, begin, size));
  return sum(ones);
}

registerGradient('sum', ([dy], ctx) => {
  const x = ctx.inputs[0]!;
  if (!dy || x.dtype !== 'float32') return [null];
  return [broadcastToInput(withKeptDims(dy, reducedAxes(ctx), ctx.attrs.keepDims as boolean), x)];
});

registerGradient('mean', ([dy], ctx) => {
  const x = ctx.inputs[0]!;
  if (!dy || x.dtype !== 'float32') return [null];
  const axes = reducedAxes(ctx);
  const count = reducedCount(x, axes);
  const scaled = typeof count === 'number' ? mul(dy, x.graph.constant(1 / count, 'float32')) : div(dy, count);
  return [broadcastToInput(withKeptDims(scaled, axes, ctx.attrs.keepDims as boolean), x)];
});

for (const op of ['max', 'min'] as const) {
  registerGradient(op, ([dy], ctx) => {
    const x = ctx.inputs[0]!;
    if (!dy || x.dtype !== 'float32') return [null];
    const axes = reducedAxes(ctx);
    const keepDims = ctx.attrs.keepDims as boolean;
    const y = withKeptDims(ctx.outputs[0]!, axes, keepDims);
    const mask = cast(equal(x, y), 'float32');
    const ties = sum(mask, axes, true);
    return [mul(div(mask, ties), withKeptDims(dy, axes, keepDims))];
  });
}

registerGradient('prod', ([dy], ctx) => {
  const x = ctx.inputs[0]!;
  if (!dy || x.dtype !== 'float32') return [null];
  const axes = reducedAxes(ctx);
  const keepDims = ctx.attrs.keepDims as boolean;
  const y = withKeptDims(ctx.outputs[0]!, axes, keepDims);
  return [mul(div(y, x), withKeptDims(dy, axes, keepDims))];
});

registerGradient('cumsum', ([dy], ctx) => {
  if (!dy || ctx.inputs[0]!.dtype !== 'float32') return [null];
  const { axis, exclusive, reverse } = ctx.attrs as { axis: number; exclusive: boolean; reverse: boolean };
  return [cumsum(dy, axis, exclusive, !reverse)];
});

registerGradient('unsortedSegmentSum', ([dy], ctx) => {
  const [data, ids] = ctx.inputs as [SymbolicTensor, SymbolicTensor];
  if (!dy || data.dtype !== 'float32') return [null, null];
  const picked = gather(dy, maximum(ids, 0), 0);
  // Negative ids were dropped by the forward op: their rows get no gradient.
  let keep = cast(greaterEqual(ids, 0), 'float32');
  for (let i = ids.shape.length; i < data.shape.length; i++) keep = expandDims(keep, i);
  return [mul(picked, keep), null];
});

registerNonDifferentiable('argMax', 'returns integer indices (piecewise constant in x)');
registerNonDifferentiable('argMin', 'returns integer indices (piecewise constant in x)');
