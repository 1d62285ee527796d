/**
 * ONNX operators that are compositions of Kiln ops: Mod (both fmod modes, integer and float),
 * InstanceNormalization and GroupNormalization (mean/variance reductions), LRN (a padded
 * channel-window sum of squares), NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss
 * (oneHot picks, class weights, ignore_index and the three reductions), and the small
 * activations/predicates Shrink, Celu, IsNaN, IsInf, MeanVarianceNormalization and EyeLike.
 */
import {
  KilnError,
  type SymbolicTensor,
  Tensor,
  add,
  cast,
  div,
  floor,
  gather,
  less,
  logSoftmax,
  logicalAnd,
  mean,
  mul,
  neg,
  notEqual,
  oneHot,
  pad,
  pow,
  reshape,
  slice,
  sqrt,
  square,
  sub,
  sum,
  transpose,
  where,
  abs,
  sign,
  equal,
  exp,
  greater,
  logicalOr,
  maximum,
  minimum,
} from '@kiln/graph';
import { dtypeFor } from './util.js';
import type { ConvertContext } from '../context.js';
import { register } from '../registry.js';

register('Mod', (ctx) => {
  const a = ctx.input(0);
  const b = ctx.input(1);
  if (a.dtype !== b.dtype) throw new KilnError('DTYPE_MISMATCH', `${ctx.what}: A and B must have one dtype, got ${a.dtype} and ${b.dtype}`);
  if (a.dtype === 'bool') throw new KilnError('DTYPE_MISMATCH', `${ctx.what}: A must be numeric, got bool`);
  const fmod = ctx.int('fmod', 0) !== 0;
  if (a.dtype === 'float32') {
    const q = div(a, b);
    // fmod: the quotient truncated toward zero (C fmod); else floored (Python %, sign of B).
    const t = fmod ? mul(sign(q), floor(abs(q))) : floor(q);
    return [sub(a, mul(b, t))];
  }
  // Integer division floors in Kiln, so a - b * (a / b) is Python's remainder (sign of B).
  const py = sub(a, mul(b, div(a, b)));
  if (!fmod) return [py];
  // fmod takes the sign of A: where the signs of A and B differ and the remainder is not 0.
  const signsDiffer = notEqual(cast(less(a, 0), 'int32'), cast(less(b, 0), 'int32'));
  return [where(logicalAnd(notEqual(py, 0), signsDiffer), sub(py, b), py)];
});

/** Normalizes x over `axes` (biased variance), as the ONNX normalization ops define it. */
function normalize(x: SymbolicTensor, axes: number[], eps: number): SymbolicTensor {
  const m = mean(x, axes, true);
  const centered = sub(x, m);
  const v = mean(square(centered), axes, true);
  return div(centered, sqrt(add(v, eps)));
}

/** A per-channel [C] vector shaped to broadcast over NCHW... inputs of rank `rank`. */
function perChannel(v: SymbolicTensor, rank: number): SymbolicTensor {
  return reshape(v, [-1, ...new Array<number>(rank - 2).fill(1)]);
}

register('InstanceNormalization', (ctx) => {
  const x = ctx.input(0);
  const rank = ctx.staticShape(0, 'InstanceNormalization').length;
  if (rank < 3) throw new KilnError('SHAPE_MISMATCH', `${ctx.what}: input must have rank >= 3 (N, C, spatial...), got rank ${rank}`);
  const y = normalize(
    x,
    [...Array(rank - 2).keys()].map((d) => d + 2),
    ctx.float('epsilon', 1e-5),
  );
  return [add(mul(y, perChannel(ctx.input(1), rank)), perChannel(ctx.input(2), rank))];
});

register('GroupNormalization', (ctx) => {
  const x = ctx.input(0);
  const shape = ctx.staticShape(0, 'GroupNormalization');
  const [n, c] = shape as [number, number];
  const g = ctx.int('num_groups', 0);
  if (g < 1 || c % g !== 0) throw new KilnError('INVALID_ATTR', `${ctx.what}: num_groups ${g} must be >= 1 and divide the ${c} channels`);
  if (ctx.int('stash_type', 1) !== 1) ctx.unsupported('stash_type other than 1 (float32)');
  const y = reshape(normalize(reshape(x, [n, g, -1]), [2], ctx.float('epsilon', 1e-5)), shape);
  let scale = ctx.input(1);
  let bias = ctx.input(2);
  if (ctx.staticShape(1, 'GroupNormalization scale')[0] === g && g !== c) {
    // Opset 18: scale and bias are per group; repeat each over its channels.
    const per = ctx.graph.constant(
      new Tensor(
        'int32',
        [c],
        Int32Array.from({ length: c }, (_, i) => Math.floor(i / (c / g))),
      ),
    );
    scale = gather(scale, per, 0);
    bias = gather(bias, per, 0);
  }
  return [add(mul(y, perChannel(scale, shape.length)), perChannel(bias, shape.length))];
});

register('LRN', (ctx) => {
  const x = ctx.input(0);
  const shape = ctx.staticShape(0, 'LRN');
  const size = ctx.int('size', 0);
  if (size < 1) throw new KilnError('INVALID_ATTR', `${ctx.what}: size must be >= 1, got ${size}`);
  const alpha = ctx.float('alpha', 1e-4);
  const beta = ctx.float('beta', 0.75);
  const bias = ctx.float('bias', 1);
  const before = Math.floor((size - 1) / 2);
  const after = Math.ceil((size - 1) / 2);
  const paddings = shape.map((_, d): [number, number] => (d === 1 ? [before, after] : [0, 0]));
  const sq = pad(square(x), paddings);
  const c = shape[1]!;
  let window: SymbolicTensor | undefined;
  for (let i = 0; i < size; i++) {
    const begin = shape.map((_, d) => (d === 1 ? i : 0));
    const part = slice(
      sq,
      begin,
      shape.map((s, d) => (d === 1 ? c : s)),
    );
    window = window ? add(window, part) : part;
  }
  return [div(x, pow(add(mul(window!, alpha / size), bias), ctx.lit(beta)))];
});

/**
 * The NLL of log-probabilities `logp` [N, C, d...] at `target` [N, d...]: per element
 * -logp[n, target, d...] * weight[target], 0 where target is ignore_index; reduced as asked.
 */
function nll(ctx: ConvertContext, logp: SymbolicTensor, target: SymbolicTensor, weight: SymbolicTensor | undefined): SymbolicTensor {
  if (target.dtype !== 'int32') throw new KilnError('DTYPE_MISMATCH', `${ctx.what}: target must be integers, got ${target.dtype}`);
  const shape = logp.shape;
  const c = shape[1];
  if (c === null || c === undefined) ctx.unsupported('the class dim must be known');
  const rank = shape.length;
  const ignore = ctx.int('ignore_index');
  let keep: SymbolicTensor | undefined;
  let safe = target;
  if (ignore !== undefined) {
    keep = notEqual(target, ignore);
    safe = where(keep, target, 0);
  }
  // Classes last: [N, d..., C], then pick each target's log-probability with a one-hot mask.
  const classesLast = rank > 2 ? transpose(logp, [0, ...[...Array(rank - 2).keys()].map((d) => d + 2), 1]) : logp;
  const picked = sum(mul(classesLast, oneHot(safe, c, 1, 0, 'float32')), -1);
  let w: SymbolicTensor | undefined = weight ? gather(weight, safe, 0) : undefined;
  if (keep) w = w ? mul(w, cast(keep, 'float32')) : cast(keep, 'float32');
  const loss = w ? mul(neg(picked), w) : neg(picked);
  const reduction = ctx.string('reduction', 'mean');
  if (reduction === 'none') return loss;
  if (reduction === 'sum') return sum(loss);
  if (reduction !== 'mean') throw new KilnError('INVALID_ATTR', `${ctx.what}: reduction must be 'none', 'sum' or 'mean', got '${reduction}'`);
  return w ? div(sum(loss), sum(w)) : mean(loss);
}

register('NegativeLogLikelihoodLoss', (ctx) => [nll(ctx, ctx.input(0), ctx.input(1), ctx.optInput(2))]);

register('SoftmaxCrossEntropyLoss', (ctx) => {
  const logp = logSoftmax(ctx.input(0), 1);
  const out: SymbolicTensor[] = [nll(ctx, logp, ctx.input(1), ctx.optInput(2))];
  if (ctx.node.outputs.length > 1 && ctx.node.outputs[1]) out.push(logp);
  return out;
});

register('Shrink', (ctx) => {
  const x = ctx.input(0);
  const bias = ctx.float('bias', 0);
  const lambd = ctx.float('lambd', 0.5);
  const lit = (v: number): SymbolicTensor => ctx.lit(v, x.dtype);
  return [where(less(x, lit(-lambd)), add(x, lit(bias)), where(greater(x, lit(lambd)), sub(x, lit(bias)), lit(0)))];
});

register('IsNaN', (ctx) => {
  const x = ctx.input(0);
  return [notEqual(x, x)];
});

register('IsInf', (ctx) => {
  const x = ctx.input(0);
  const pos = ctx.int('detect_positive', 1) !== 0;
  const negative = ctx.int('detect_negative', 1) !== 0;
  const isPos = equal(x, ctx.lit(Infinity));
  const isNeg = equal(x, ctx.lit(-Infinity));
  if (pos && negative) return [logicalOr(isPos, isNeg)];
  if (pos) return [isPos];
  if (negative) return [isNeg];
  // Neither sign asked for: nothing is reported.
  return [logicalAnd(isPos, isNeg)];
});

register('Celu', (ctx) => {
  const x = ctx.input(0);
  const alpha = ctx.float('alpha', 1);
  // max(0, x) + min(0, alpha * (exp(x / alpha) - 1))
  return [add(maximum(x, 0), minimum(0, mul(alpha, sub(exp(div(x, alpha)), 1))))];
});

register('MeanVarianceNormalization', (ctx) => {
  const x = ctx.input(0);
  const rank = x.shape.length;
  const axes = (ctx.intList('axes') ?? [0, 2, 3]).map((a) => (a < 0 ? a + rank : a));
  return [normalize(x, axes, 1e-9)];
});

register(
  'EyeLike',
  (ctx) => {
    const shape = ctx.staticShape(0, 'EyeLike');
    if (shape.length !== 2) throw new KilnError('SHAPE_MISMATCH', `${ctx.what}: input must be 2-D, got rank ${shape.length}`);
    const [rows, cols] = shape as [number, number];
    const k = ctx.int('k', 0);
    const dtype = ctx.hasAttr('dtype') ? dtypeFor(ctx, ctx.int('dtype', 1)) : ctx.dtype(0);
    const eye = new Tensor(dtype, [rows, cols]);
    for (let i = 0; i < rows; i++) if (i + k >= 0 && i + k < cols) eye.data[i * cols + i + k] = 1;
    return [eye];
  },
  { shapeOnlyInputs: [0] },
);
