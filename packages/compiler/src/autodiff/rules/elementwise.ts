/**
 * Gradient rules: elementwise family. Each rule builds ordinary graph ops (so gradients can be
 * differentiated again). Binary ops reduce their gradients back to each input's shape with
 * unbroadcast. Only float32 inputs receive gradients; integer inputs get null.
 */
import {
  type OpName,
  type SymbolicTensor,
  add,
  cos,
  cosh,
  div,
  erf,
  exp,
  greater,
  greaterEqual,
  lessEqual,
  less,
  log,
  logicalAnd,
  mul,
  neg,
  pow,
  sigmoid,
  sign,
  sin,
  sinh,
  sqrt,
  square,
  sub,
  tanh,
  where,
} from '@kiln/graph';
import { type GradContext, registerGradient, registerNonDifferentiable } from '../registry.js';
import { unbroadcast } from '../unbroadcast.js';

type T = SymbolicTensor;

/** Registers a binary rule: f gets dy and returns the (broadcast-shaped) gradients of a and b. */
function binaryGrad(op: OpName, f: (dy: T, a: T, b: T, y: T) => [T | null, T | null]): void {
  registerGradient(op, (dys, ctx: GradContext) => {
    const dy = dys[0];
    const [a, b] = ctx.inputs as [T, T];
    if (!dy || a.dtype !== 'float32') return [null, null];
    const [ga, gb] = f(dy, a, b, ctx.outputs[0]!);
    return [ga && unbroadcast(ga, a.shape), gb && unbroadcast(gb, b.shape)];
  });
}

/** Registers a unary rule: f gets dy, x, y and the attrs and returns dx. */
function unaryGrad(op: OpName, f: (dy: T, x: T, y: T, attrs: GradContext['attrs']) => T): void {
  registerGradient(op, (dys, ctx) => {
    const dy = dys[0];
    const x = ctx.inputs[0]!;
    if (!dy || x.dtype !== 'float32') return [null];
    return [f(dy, x, ctx.outputs[0]!, ctx.attrs)];
  });
}

// ---- binary -------------------------------------------------------------------------------
binaryGrad('add', (dy) => [dy, dy]);
binaryGrad('sub', (dy) => [dy, neg(dy)]);
binaryGrad('mul', (dy, a, b) => [mul(dy, b), mul(dy, a)]);
binaryGrad('div', (dy, a, b) => [div(dy, b), div(mul(neg(dy), a), square(b))]);
// d/da a^b = b a^(b-1); d/db a^b = a^b log(a), taken as 0 where a <= 0 (log undefined), as TF.
binaryGrad('pow', (dy, a, b, y) => [mul(dy, mul(b, pow(a, sub(b, 1)))), mul(dy, mul(y, where(greater(a, 0), log(a), 0)))]);
// The winner takes the gradient; ties go to a (TensorFlow's convention).
binaryGrad('maximum', (dy, a, b) => {
  const aWins = greaterEqual(a, b);
  return [where(aWins, dy, 0), where(aWins, 0, dy)];
});
binaryGrad('minimum', (dy, a, b) => {
  const aWins = lessEqual(a, b);
  return [where(aWins, dy, 0), where(aWins, 0, dy)];
});
binaryGrad('squaredDifference', (dy, a, b) => {
  const g = mul(dy, mul(2, sub(a, b)));
  return [g, neg(g)];
});

// ---- unary --------------------------------------------------------------------------------
const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;
const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

unaryGrad('neg', (dy) => neg(dy));
unaryGrad('abs', (dy, x) => mul(dy, sign(x)));
unaryGrad('square', (dy, x) => mul(dy, mul(2, x)));
unaryGrad('exp', (dy, _x, y) => mul(dy, y));
unaryGrad('log', (dy, x) => div(dy, x));
unaryGrad('sqrt', (dy, _x, y) => div(dy, mul(2, y)));
unaryGrad('rsqrt', (dy, x, y) => mul(dy, mul(-0.5, div(y, x))));
unaryGrad('reciprocal', (dy, _x, y) => neg(mul(dy, square(y))));
unaryGrad('sin', (dy, x) => mul(dy, cos(x)));
unaryGrad('cos', (dy, x) => neg(mul(dy, sin(x))));
unaryGrad('tan', (dy, _x, y) => mul(dy, add(1, square(y))));
unaryGrad('asin', (dy, x) => div(dy, sqrt(sub(1, square(x)))));
unaryGrad('acos', (dy, x) => neg(div(dy, sqrt(sub(1, square(x))))));
unaryGrad('atan', (dy, x) => div(dy, add(1, square(x))));
unaryGrad('sinh', (dy, x) => mul(dy, cosh(x)));
unaryGrad('cosh', (dy, x) => mul(dy, sinh(x)));
unaryGrad('asinh', (dy, x) => div(dy, sqrt(add(square(x), 1))));
unaryGrad('acosh', (dy, x) => div(dy, sqrt(sub(square(x), 1))));
unaryGrad('atanh', (dy, x) => div(dy, sub(1, square(x))));
unaryGrad('tanh', (dy, _x, y) => mul(dy, sub(1, square(y))));
unaryGrad('sigmoid', (dy, _x, y) => mul(dy, mul(y, sub(1, y))));
// relu'(0) = 0, as TensorFlow.
// relu, elu, selu: y > 0 exactly where x > 0, so the masks read the output (as TF's ReluGrad
// may), and the forward pass keeps one tensor per layer instead of two.
unaryGrad('relu', (dy, _x, y) => where(greater(y, 0), dy, 0));
unaryGrad('relu6', (dy, x) => where(logicalAnd(greater(x, 0), less(x, 6)), dy, 0));
unaryGrad('elu', (dy, _x, y) => where(greater(y, 0), dy, mul(dy, add(y, 1))));
unaryGrad('selu', (dy, _x, y) => where(greater(y, 0), mul(dy, SELU_SCALE), mul(dy, add(y, SELU_SCALE * SELU_ALPHA))));
unaryGrad('softplus', (dy, x) => mul(dy, sigmoid(x)));
unaryGrad('erf', (dy, x) => mul(dy, mul(2 / Math.sqrt(Math.PI), exp(neg(square(x))))));
unaryGrad('gelu', (dy, x, _y, attrs) => {
  if (attrs.approximate) {
    // y = 0.5 x (1 + tanh(u)), u = k (x + c x^3)
    const t = tanh(mul(GELU_K, add(x, mul(GELU_C, mul(x, square(x))))));
    const du = mul(GELU_K, add(1, mul(3 * GELU_C, square(x))));
    const d = add(mul(0.5, add(1, t)), mul(mul(0.5, x), mul(sub(1, square(t)), du)));
    return mul(dy, d);
  }
  // y = x Phi(x): y' = Phi(x) + x phi(x)
  const cdf = mul(0.5, add(1, erf(mul(x, Math.SQRT1_2))));
  const pdf = mul(1 / Math.sqrt(2 * Math.PI), exp(mul(-0.5, square(x))));
  return mul(dy, add(cdf, mul(x, pdf)));
});
unaryGrad('leakyRelu', (dy, x, _y, attrs) => where(greater(x, 0), dy, mul(dy, attrs.alpha as number)));
unaryGrad('clipByValue', (dy, x, _y, attrs) =>
  where(logicalAnd(greaterEqual(x, attrs.clipValueMin as number), lessEqual(x, attrs.clipValueMax as number)), dy, 0),
);
unaryGrad('identity', (dy) => dy);

// cast passes the gradient between float types only; nothing flows into or out of int/bool.
registerGradient('cast', (dys, ctx) => {
  const dy = dys[0];
  const x = ctx.inputs[0]!;
  return [dy && x.dtype === 'float32' && ctx.outputs[0]!.dtype === 'float32' ? dy : null];
});

registerNonDifferentiable('sign', 'piecewise constant: its derivative is zero almost everywhere');
registerNonDifferentiable('floor', 'piecewise constant: its derivative is zero almost everywhere');
registerNonDifferentiable('ceil', 'piecewise constant: its derivative is zero almost everywhere');
registerNonDifferentiable('round', 'piecewise constant: its derivative is zero almost everywhere');
registerNonDifferentiable('stopGradient', 'stopGradient blocks gradients by definition');
