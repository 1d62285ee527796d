/**
 * Elementwise arithmetic: binary ops with NumPy broadcasting, unary math and activations,
 * cast/identity/stopGradient. Dtype rule as in TensorFlow: both operands of a binary op have
 * the same dtype (no silent float/int mixing; use cast()).
 */
import type { DType } from '../dtype.js';
import { KilnError } from '../errors.js';
import type { SymbolicTensor } from '../graph.js';
import { broadcastShapes } from '../shape.js';
import { type TensorLike, apply1 } from './apply.js';
import { type AttrSpec, type InferContext, type TensorType, registerOp } from './registry.js';

export function checkDType(what: string, operand: string, got: DType, allowed: readonly DType[]): void {
  if (!allowed.includes(got)) {
    throw new KilnError('DTYPE_MISMATCH', `${what}: ${operand} must be ${allowed.join(' or ')}, got ${got}`);
  }
}

export function sameDType(what: string, a: TensorType, b: TensorType): DType {
  if (a.dtype !== b.dtype) {
    throw new KilnError('DTYPE_MISMATCH', `${what}: operands must have the same dtype, got ${a.dtype} and ${b.dtype} (use cast())`);
  }
  return a.dtype;
}

/** Registers a broadcasting binary op whose operands share a dtype from `allowed`. */
export function defineBinary(name: string, allowed: readonly DType[], doc: string, outDType?: DType, family = 'elementwise'): void {
  registerOp({
    name,
    family,
    doc,
    inputs: [{ name: 'a' }, { name: 'b' }],
    attrs: {},
    infer: ([a, b], _attrs, ctx: InferContext) => {
      const dt = sameDType(ctx.what, a!, b!);
      checkDType(ctx.what, 'operands', dt, allowed);
      return [{ dtype: outDType ?? dt, shape: broadcastShapes(a!.shape, b!.shape, ctx.what) }];
    },
  });
}

/** Registers a unary op on dtypes from `allowed`, shape-preserving (and dtype-preserving unless `outDType`). */
export function defineUnary(name: string, allowed: readonly DType[], doc: string, attrs: Record<string, AttrSpec> = {}, family = 'elementwise'): void {
  registerOp({
    name,
    family,
    doc,
    inputs: [{ name: 'x' }],
    attrs,
    infer: ([x], _attrs, ctx) => {
      checkDType(ctx.what, 'x', x!.dtype, allowed);
      return [{ dtype: x!.dtype, shape: [...x!.shape] }];
    },
  });
}

const NUM: readonly DType[] = ['float32', 'int32'];
const FLOAT: readonly DType[] = ['float32'];
const ANY: readonly DType[] = ['float32', 'int32', 'bool'];

// ---- binary -------------------------------------------------------------------------------
defineBinary('add', NUM, 'a + b, broadcasting.');
defineBinary('sub', NUM, 'a - b, broadcasting.');
defineBinary('mul', NUM, 'a * b, broadcasting.');
// int32 / int32 is floor division, as tf.div does for two int32 tensors (it calls floorDiv):
// div(-7, 2) = -4. Integer division by zero yields 0 (TF.js's CPU backend stores floor(±Inf) in
// an Int32Array, which is 0).
defineBinary('div', NUM, 'a / b, broadcasting; floor division for int32.');
defineBinary('pow', NUM, 'a ** b, broadcasting.');
defineBinary('maximum', NUM, 'max(a, b), broadcasting; NaN propagates.');
defineBinary('minimum', NUM, 'min(a, b), broadcasting; NaN propagates.');
defineBinary('squaredDifference', NUM, '(a - b)^2, broadcasting.');

// ---- unary --------------------------------------------------------------------------------
defineUnary('neg', NUM, '-x.');
defineUnary('abs', NUM, '|x|.');
defineUnary('square', NUM, 'x * x.');
defineUnary('sign', NUM, '-1, 0 or 1 by the sign of x (NaN stays NaN).');
defineUnary('exp', FLOAT, 'e^x.');
defineUnary('log', FLOAT, 'Natural log (log(0) = -Inf, log(x<0) = NaN).');
defineUnary('sqrt', FLOAT, 'Square root (sqrt(x<0) = NaN).');
defineUnary('rsqrt', FLOAT, '1 / sqrt(x).');
defineUnary('reciprocal', FLOAT, '1 / x.');
defineUnary('floor', FLOAT, 'Largest integer <= x.');
defineUnary('ceil', FLOAT, 'Smallest integer >= x.');
defineUnary('round', FLOAT, 'Nearest integer, halves to even (as TensorFlow: round(2.5) = 2).');
defineUnary('sin', FLOAT, 'sin(x).');
defineUnary('cos', FLOAT, 'cos(x).');
defineUnary('tan', FLOAT, 'tan(x).');
defineUnary('asin', FLOAT, 'arcsin(x) (NaN outside [-1, 1]).');
defineUnary('acos', FLOAT, 'arccos(x) (NaN outside [-1, 1]).');
defineUnary('atan', FLOAT, 'arctan(x).');
defineUnary('sinh', FLOAT, 'sinh(x).');
defineUnary('cosh', FLOAT, 'cosh(x).');
defineUnary('asinh', FLOAT, 'arsinh(x).');
defineUnary('acosh', FLOAT, 'arcosh(x) (NaN below 1).');
defineUnary('atanh', FLOAT, 'artanh(x) (NaN outside [-1, 1]).');
defineUnary('tanh', FLOAT, 'tanh(x).');
defineUnary('sigmoid', FLOAT, '1 / (1 + e^-x).');
defineUnary('relu', NUM, 'max(x, 0).');
defineUnary('relu6', FLOAT, 'min(max(x, 0), 6).');
defineUnary('elu', FLOAT, 'x if x > 0 else e^x - 1.');
defineUnary('selu', FLOAT, 'scale * (x if x > 0 else alpha * (e^x - 1)), the self-normalizing constants.');
defineUnary('softplus', FLOAT, 'log(1 + e^x), computed stably.');
defineUnary('erf', FLOAT, 'The error function.');
defineUnary('gelu', FLOAT, 'x * Phi(x): exact (erf) form, or the tanh approximation when approximate.', {
  approximate: { type: 'bool', default: false },
});
defineUnary('leakyRelu', FLOAT, 'x if x > 0 else alpha * x.', { alpha: { type: 'float', default: 0.2 } });

registerOp({
  name: 'clipByValue',
  family: 'elementwise',
  doc: 'min(max(x, clipValueMin), clipValueMax).',
  inputs: [{ name: 'x' }],
  attrs: { clipValueMin: { type: 'float' }, clipValueMax: { type: 'float' } },
  infer: ([x], attrs, ctx) => {
    checkDType(ctx.what, 'x', x!.dtype, NUM);
    const lo = attrs.clipValueMin as number;
    const hi = attrs.clipValueMax as number;
    if (!(lo <= hi)) {
      throw new KilnError('INVALID_ATTR', `${ctx.what}: clipValueMin must be <= clipValueMax, got clipValueMin=${lo} and clipValueMax=${hi}`);
    }
    return [{ dtype: x!.dtype, shape: [...x!.shape] }];
  },
});

// ---- dtype and identity -------------------------------------------------------------------
registerOp({
  name: 'cast',
  family: 'elementwise',
  doc: 'Converts to `dtype`: float->int truncates toward zero; ->bool is x != 0; bool-> 0/1.',
  inputs: [{ name: 'x' }],
  attrs: { dtype: { type: 'dtype' } },
  infer: ([x], attrs) => [{ dtype: attrs.dtype as DType, shape: [...x!.shape] }],
});
defineUnary('identity', ANY, 'Returns x unchanged.');
defineUnary('stopGradient', ANY, 'Returns x unchanged; no gradient flows through it.');

// ---- free functions (TF.js signatures) ----------------------------------------------------
export function add(a: TensorLike, b: TensorLike): SymbolicTensor {
  return apply1('add', [a, b]);
}
export function sub(a: TensorLike, b: TensorLike): SymbolicTensor {
  return apply1('sub', [a, b]);
}
export function mul(a: TensorLike, b: TensorLike): SymbolicTensor {
  return apply1('mul', [a, b]);
}
export function div(a: TensorLike, b: TensorLike): SymbolicTensor {
  return apply1('div', [a, b]);
}
export function pow(base: TensorLike, exp: TensorLike): SymbolicTensor {
  return apply1('pow', [base, exp]);
}
export function maximum(a: TensorLike, b: TensorLike): SymbolicTensor {
  return apply1('maximum', [a, b]);
}
export function minimum(a: TensorLike, b: TensorLike): SymbolicTensor {
  return apply1('minimum', [a, b]);
}
export function squaredDifference(a: TensorLike, b: TensorLike): SymbolicTensor {
  return apply1('squaredDifference', [a, b]);
}

export function neg(x: TensorLike): SymbolicTensor {
  return apply1('neg', [x]);
}
export function abs(x: TensorLike): SymbolicTensor {
  return apply1('abs', [x]);
}
export function square(x: TensorLike): SymbolicTensor {
  return apply1('square', [x]);
}
export function sign(x: TensorLike): SymbolicTensor {
  return apply1('sign', [x]);
}
export function exp(x: TensorLike): SymbolicTensor {
  return apply1('exp', [x]);
}
export function log(x: TensorLike): SymbolicTensor {
  return apply1('log', [x]);
}
export function sqrt(x: TensorLike): SymbolicTensor {
  return apply1('sqrt', [x]);
}
export function rsqrt(x: TensorLike): SymbolicTensor {
  return apply1('rsqrt', [x]);
}
export function reciprocal(x: TensorLike): SymbolicTensor {
  return apply1('reciprocal', [x]);
}
export function floor(x: TensorLike): SymbolicTensor {
  return apply1('floor', [x]);
}
export function ceil(x: TensorLike): SymbolicTensor {
  return apply1('ceil', [x]);
}
export function round(x: TensorLike): SymbolicTensor {
  return apply1('round', [x]);
}
export function sin(x: TensorLike): SymbolicTensor {
  return apply1('sin', [x]);
}
export function cos(x: TensorLike): SymbolicTensor {
  return apply1('cos', [x]);
}
export function tan(x: TensorLike): SymbolicTensor {
  return apply1('tan', [x]);
}
export function asin(x: TensorLike): SymbolicTensor {
  return apply1('asin', [x]);
}
export function acos(x: TensorLike): SymbolicTensor {
  return apply1('acos', [x]);
}
export function atan(x: TensorLike): SymbolicTensor {
  return apply1('atan', [x]);
}
export function sinh(x: TensorLike): SymbolicTensor {
  return apply1('sinh', [x]);
}
export function cosh(x: TensorLike): SymbolicTensor {
  return apply1('cosh', [x]);
}
export function asinh(x: TensorLike): SymbolicTensor {
  return apply1('asinh', [x]);
}
export function acosh(x: TensorLike): SymbolicTensor {
  return apply1('acosh', [x]);
}
export function atanh(x: TensorLike): SymbolicTensor {
  return apply1('atanh', [x]);
}
export function tanh(x: TensorLike): SymbolicTensor {
  return apply1('tanh', [x]);
}
export function sigmoid(x: TensorLike): SymbolicTensor {
  return apply1('sigmoid', [x]);
}
export function relu(x: TensorLike): SymbolicTensor {
  return apply1('relu', [x]);
}
export function relu6(x: TensorLike): SymbolicTensor {
  return apply1('relu6', [x]);
}
export function elu(x: TensorLike): SymbolicTensor {
  return apply1('elu', [x]);
}
export function selu(x: TensorLike): SymbolicTensor {
  return apply1('selu', [x]);
}
export function softplus(x: TensorLike): SymbolicTensor {
  return apply1('softplus', [x]);
}
export function erf(x: TensorLike): SymbolicTensor {
  return apply1('erf', [x]);
}
export function gelu(x: TensorLike, approximate = false): SymbolicTensor {
  return apply1('gelu', [x], { approximate });
}
export function leakyRelu(x: TensorLike, alpha = 0.2): SymbolicTensor {
  return apply1('leakyRelu', [x], { alpha });
}
export function clipByValue(x: TensorLike, clipValueMin: number, clipValueMax: number): SymbolicTensor {
  return apply1('clipByValue', [x], { clipValueMin, clipValueMax });
}

export function cast(x: TensorLike, dtype: DType): SymbolicTensor {
  return apply1('cast', [x], { dtype });
}
export function identity(x: TensorLike): SymbolicTensor {
  return apply1('identity', [x]);
}
export function stopGradient(x: TensorLike): SymbolicTensor {
  return apply1('stopGradient', [x]);
}

export { FLOAT, NUM };
