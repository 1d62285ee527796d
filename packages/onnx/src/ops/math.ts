/**
 * Elementwise ONNX operators: arithmetic (Add ... Pow, variadic Max/Min/Sum/Mean), unary math,
 * activations (with ONNX's alpha/beta/gamma attributes as compositions when Kiln's op has fixed
 * constants), Clip, Cast/CastLike, Identity and Dropout (inference: identity).
 */
import {
  type SymbolicTensor,
  Tensor,
  abs,
  add,
  cast,
  ceil,
  clipByValue,
  cos,
  div,
  elu,
  erf,
  tan,
  asin,
  acos,
  atan,
  sinh,
  cosh,
  asinh,
  acosh,
  atanh,
  exp,
  fillTensor,
  floor,
  gelu,
  greater,
  identity,
  leakyRelu,
  less,
  log,
  logicalAnd,
  maximum,
  minimum,
  mul,
  neg,
  notEqual,
  pow,
  reciprocal,
  relu,
  reshape,
  round,
  selu,
  sigmoid,
  sign,
  sin,
  softplus,
  sqrt,
  sub,
  tanh,
  where,
} from '@kiln/graph';
import type { ConvertContext, Produced } from '../context.js';
import { type Converter, register } from '../registry.js';
import { dtypeFor } from './util.js';

const unary =
  (fn: (x: SymbolicTensor) => SymbolicTensor): Converter =>
  (ctx) => [fn(ctx.input(0))];

for (const [op, fn] of [
  ['Abs', abs],
  ['Neg', neg],
  ['Exp', exp],
  ['Log', log],
  ['Sqrt', sqrt],
  ['Reciprocal', reciprocal],
  ['Tanh', tanh],
  ['Sigmoid', sigmoid],
  ['Relu', relu],
  ['Floor', floor],
  ['Ceil', ceil],
  ['Round', round],
  ['Sign', sign],
  ['Sin', sin],
  ['Cos', cos],
  ['Erf', erf],
  ['Tan', tan],
  ['Asin', asin],
  ['Acos', acos],
  ['Atan', atan],
  ['Sinh', sinh],
  ['Cosh', cosh],
  ['Asinh', asinh],
  ['Acosh', acosh],
  ['Atanh', atanh],
  ['Softplus', softplus],
] as const) {
  register(op, unary(fn));
}

// ---- binary arithmetic ----

/** Integer division truncates toward zero in ONNX; Kiln's int32 div floors, so fix the quotient. */
function onnxDiv(a: SymbolicTensor, b: SymbolicTensor): SymbolicTensor {
  const q = div(a, b);
  if (a.dtype !== 'int32') return q;
  const r = sub(a, mul(q, b));
  const fix = logicalAnd(notEqual(r, 0), notEqual(less(a, 0), less(b, 0)));
  return add(q, cast(fix, 'int32'));
}

register('Add', (ctx) => [add(ctx.input(0), ctx.input(1))]);
register('Sub', (ctx) => [sub(ctx.input(0), ctx.input(1))]);
register('Mul', (ctx) => [mul(ctx.input(0), ctx.input(1))]);
register('Div', (ctx) => [onnxDiv(ctx.input(0), ctx.input(1))]);

/** Pow: the result has the base's dtype; a mixed pair is computed in float32. */
register('Pow', (ctx) => {
  const base = ctx.input(0);
  const e = ctx.input(1);
  if (base.dtype === e.dtype) return [pow(base, e)];
  if (base.dtype === 'float32') return [pow(base, cast(e, 'float32'))];
  return [cast(pow(cast(base, 'float32'), cast(e, 'float32')), base.dtype)];
});

function variadic(fn: (a: SymbolicTensor, b: SymbolicTensor) => SymbolicTensor, finish?: (acc: SymbolicTensor, n: number) => SymbolicTensor): Converter {
  return (ctx) => {
    const xs: SymbolicTensor[] = [];
    for (let i = 0; i < ctx.numInputs; i++) if (ctx.has(i)) xs.push(ctx.input(i));
    if (xs.length === 0) ctx.unsupported('no inputs');
    let acc = xs[0]!;
    for (const x of xs.slice(1)) acc = fn(acc, x);
    if (xs.length === 1) acc = identity(acc);
    return [finish ? finish(acc, xs.length) : acc];
  };
}
register('Max', variadic(maximum));
register('Min', variadic(minimum));
register('Sum', variadic(add));
register(
  'Mean',
  variadic(add, (acc, n) => div(acc, n)),
);

// ---- activations with attributes ----

register('LeakyRelu', (ctx) => [leakyRelu(ctx.input(0), ctx.float('alpha', 0.01))]);

register('Elu', (ctx) => {
  const x = ctx.input(0);
  const alpha = ctx.float('alpha', 1);
  if (alpha === 1) return [elu(x)];
  return [where(greater(x, 0), x, mul(sub(exp(x), 1), alpha))];
});

const SELU_ALPHA = 1.67326319217681884765625;
const SELU_GAMMA = 1.05070102214813232421875;
register('Selu', (ctx) => {
  const x = ctx.input(0);
  if (!ctx.hasAttr('alpha') && !ctx.hasAttr('gamma')) return [selu(x)];
  const alpha = ctx.float('alpha', SELU_ALPHA);
  const gamma = ctx.float('gamma', SELU_GAMMA);
  return [mul(where(greater(x, 0), x, mul(sub(exp(x), 1), alpha)), gamma)];
});

function hardSigmoid(x: SymbolicTensor, alpha: number, beta: number): SymbolicTensor {
  return clipByValue(add(mul(x, alpha), beta), 0, 1);
}
register('HardSigmoid', (ctx) => [hardSigmoid(ctx.input(0), ctx.float('alpha', 0.2), ctx.float('beta', 0.5))]);
register('HardSwish', (ctx) => {
  const x = ctx.input(0);
  return [mul(x, hardSigmoid(x, 1 / 6, 0.5))];
});
register('Softsign', (ctx) => {
  const x = ctx.input(0);
  return [div(x, add(abs(x), 1))];
});
register('Mish', (ctx) => {
  const x = ctx.input(0);
  return [mul(x, tanh(softplus(x)))];
});
register('Gelu', (ctx) => {
  const approx = ctx.string('approximate', 'none');
  if (approx !== 'none' && approx !== 'tanh') ctx.unsupported(`approximate='${approx}'`);
  return [gelu(ctx.input(0), approx === 'tanh')];
});
register('PRelu', (ctx) => {
  const x = ctx.input(0);
  let slope = ctx.input(1);
  // Before opset 7 a 1-D slope of C values is per channel (axis 1), not numpy-broadcast.
  const c = x.shape[1];
  if (ctx.opset < 7 && slope.shape.length === 1 && x.shape.length > 2 && typeof c === 'number' && slope.shape[0] === c && c !== 1) {
    slope = reshape(slope, [c, ...new Array<number>(x.shape.length - 2).fill(1)]);
  }
  return [where(less(x, 0), mul(x, slope), x)];
});
register('ThresholdedRelu', (ctx) => {
  const x = ctx.input(0);
  return [where(greater(x, ctx.float('alpha', 1)), x, 0)];
});

/** Clip: min/max attributes before opset 11, optional inputs after; min > max gives max (ONNX). */
register('Clip', (ctx) => {
  const x = ctx.input(0);
  if (ctx.opset < 11) {
    const lo = ctx.float('min', -Infinity);
    const hi = ctx.float('max', Infinity);
    return [lo <= hi ? clipByValue(x, lo, hi) : minimum(maximum(x, lo), hi)];
  }
  const loC = ctx.tryConstant(1);
  const hiC = ctx.tryConstant(2);
  const scalarOf = (t: Tensor | undefined): number | undefined => (t && t.size === 1 ? t.data[0]! : undefined);
  const lo = ctx.has(1) ? scalarOf(loC) : -Infinity;
  const hi = ctx.has(2) ? scalarOf(hiC) : Infinity;
  if (lo !== undefined && hi !== undefined && lo <= hi && x.dtype === 'float32') return [clipByValue(x, lo, hi)];
  let y = x;
  if (ctx.has(1)) y = maximum(y, ctx.input(1));
  if (ctx.has(2)) y = minimum(y, ctx.input(2));
  if (y === x) y = identity(x);
  return [y];
});

// ---- dtype and pass-through ----

register('Cast', (ctx) => {
  const to = ctx.int('to');
  if (to === undefined) return ctx.unsupported("Cast without a 'to' attribute");
  const x = ctx.input(0);
  const dt = dtypeFor(ctx, to);
  return [x.dtype === dt ? identity(x) : cast(x, dt)];
});
register('CastLike', (ctx) => {
  const x = ctx.input(0);
  const dt = ctx.input(1).dtype;
  return [x.dtype === dt ? identity(x) : cast(x, dt)];
});

register('Identity', (ctx) => [ctx.input(0)]);

/** Dropout at inference: y = x; the optional mask is all true. */
register(
  'Dropout',
  (ctx): Produced[] => {
    const x = ctx.input(0);
    const training = ctx.opset >= 12 && ctx.has(2) ? ctx.constant(2, 'training_mode') : undefined;
    if (training && training.data[0]) ctx.unsupported('training_mode=true (Kiln imports inference graphs)');
    if (ctx.opset < 7 && ctx.int('is_test', 0) === 0) ctx.unsupported('is_test=0 (training mode)');
    const out: Produced[] = [x];
    if (ctx.wantsOutput(1)) {
      if (x.shape.some((d) => d === null)) ctx.unsupported('the mask output needs a fully known shape');
      out.push(fillTensor(x.shape as number[], 1, 'bool'));
    }
    return out;
  },
  { staticInputs: [2] },
);
