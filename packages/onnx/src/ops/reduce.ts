/**
 * ONNX reductions: ReduceSum/Mean/Max/Min/Prod onto Kiln's reductions, the composite ones
 * (ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp, ReduceSumSquare), ArgMax/ArgMin
 * (keepdims, select_last_index) and CumSum. Axes are an attribute before opset 13 (ReduceSum)
 * or 18 (the others) and an input from then on, with noop_with_empty_axes.
 */
import {
  type SymbolicTensor,
  abs,
  add,
  argMax,
  argMin,
  cast,
  cumsum,
  exp,
  expandDims,
  identity,
  log,
  max,
  mean,
  min,
  mul,
  prod,
  sqrt,
  squeeze,
  sub,
  sum,
} from '@kiln/graph';
import type { ConvertContext } from '../context.js';
import { register } from '../registry.js';
import { onnxAxis, pickAlong, staticDim } from './util.js';

type Reducer = (x: SymbolicTensor, axes: number[], keepDims: boolean) => SymbolicTensor;

/** The opset from which `axes` is an input rather than an attribute. */
function axesInputFrom(op: string): number {
  return op === 'ReduceSum' ? 13 : 18;
}

/** Resolved axes (normalized, sorted), or null for "no reduction" (noop_with_empty_axes). */
function reduceAxes(ctx: ConvertContext, op: string, rank: number): number[] | null {
  let axes: number[] | undefined;
  if (ctx.opset >= axesInputFrom(op)) {
    if (ctx.has(1)) axes = ctx.ints(1, 'axes');
  } else {
    axes = ctx.intList('axes');
  }
  if (!axes || axes.length === 0) {
    if (ctx.opset >= axesInputFrom(op) && ctx.int('noop_with_empty_axes', 0) === 1) return null;
    return [...Array(rank).keys()];
  }
  const norm = axes.map((a) => onnxAxis(ctx, a, rank, 'axes'));
  return [...new Set(norm)].sort((a, b) => a - b);
}

function defineReduce(op: string, reducer: Reducer, opts: { boolViaInt?: boolean } = {}): void {
  register(
    op,
    (ctx) => {
      let x = ctx.input(0);
      const axes = reduceAxes(ctx, op, x.shape.length);
      if (axes === null) return [identity(x)];
      const keep = ctx.int('keepdims', 1) === 1;
      const isBool = x.dtype === 'bool';
      if (isBool && !opts.boolViaInt) ctx.unsupported('bool input');
      if (isBool) x = cast(x, 'int32');
      const y = reducer(x, axes, keep);
      return [isBool ? cast(y, 'bool') : y];
    },
    { staticInputs: (opset) => (opset >= axesInputFrom(op) ? [1] : []) },
  );
}

defineReduce('ReduceSum', (x, a, k) => sum(x, a, k));
defineReduce('ReduceMean', (x, a, k) => mean(x, a, k));
defineReduce('ReduceMax', (x, a, k) => max(x, a, k), { boolViaInt: true });
defineReduce('ReduceMin', (x, a, k) => min(x, a, k), { boolViaInt: true });
defineReduce('ReduceProd', (x, a, k) => prod(x, a, k));
defineReduce('ReduceL1', (x, a, k) => sum(abs(x), a, k));
defineReduce('ReduceL2', (x, a, k) => sqrt(sum(mul(x, x), a, k)));
defineReduce('ReduceSumSquare', (x, a, k) => sum(mul(x, x), a, k));
defineReduce('ReduceLogSum', (x, a, k) => log(sum(x, a, k)));
defineReduce('ReduceLogSumExp', (x, a, k) => {
  // log(sum(exp(x - m))) + m with m the max over the axes: stable for large x.
  const m = max(x, a, true);
  const y = add(log(sum(exp(sub(x, m)), a, true)), m);
  return k ? y : squeeze(y, a);
});

function defineArg(op: 'ArgMax' | 'ArgMin'): void {
  const fn = op === 'ArgMax' ? argMax : argMin;
  register(op, (ctx) => {
    const x = ctx.input(0);
    const axis = onnxAxis(ctx, ctx.int('axis', 0), x.shape.length);
    const keep = ctx.int('keepdims', 1) === 1;
    let idx: SymbolicTensor;
    if (ctx.int('select_last_index', 0) === 1) {
      // The last extreme is the first one of x reversed along the axis.
      const n = staticDim(ctx, x, axis, 'select_last_index');
      const reversed = pickAlong(ctx, x, axis, [...Array(n).keys()].reverse());
      idx = sub(n - 1, fn(reversed, axis));
    } else {
      idx = fn(x, axis);
    }
    return [keep ? expandDims(idx, axis) : idx];
  });
}
defineArg('ArgMax');
defineArg('ArgMin');

register(
  'CumSum',
  (ctx) => {
    const x = ctx.input(0);
    const [a] = ctx.ints(1, 'axis');
    const axis = onnxAxis(ctx, a ?? 0, x.shape.length);
    return [cumsum(x, axis, ctx.int('exclusive', 0) === 1, ctx.int('reverse', 0) === 1)];
  },
  { staticInputs: [1] },
);
