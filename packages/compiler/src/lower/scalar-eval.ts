/**
 * The meaning of every scalar function, edge cases included: the interpreter beside the
 * ScalarExpr type that every code generator (JS, WASM, later WGSL) is tested against on one
 * table of edge values. It agrees with the reference kernels, which are the oracle for whole
 * ops. The rules:
 *
 * - Each node's result is stored in its dtype: float32 results are rounded to float32 after
 *   every operation (as the unfused program stores each op's output), int32 results wrap
 *   modulo 2^32 after every operation (two's complement: abs(-2^31) = -2^31, neg(-2^31) =
 *   -2^31, int32 add/sub/mul/pow wrap), bool results are 0 or 1.
 * - Inputs are read as stored: float32 inputs rounded to float32, int32 wrapped, bool 0/1.
 * - div: IEEE division (x / 0 = ±Infinity, 0 / 0 = NaN); on int32 it truncates the quotient
 *   and a division by 0 gives 0. floordiv: floor(a / b); on int32 a floordiv by 0 gives 0
 *   (floating floordiv by 0 is ±Infinity or NaN). mod: remainder with the sign of the
 *   dividend; int32 x mod 0 = 0.
 * - max / min: NaN if either operand is NaN; -0 < +0 (max(-0, +0) = +0, min = -0).
 * - sign: -1, 0 or 1; sign(NaN) = NaN; sign(-0) = +0.
 * - relu (a target form of select(le(x, 0), 0, x)): x > 0 ? x : +0, so relu(-0) = +0,
 *   relu(-Infinity) = +0, relu(NaN) = NaN.
 * - roundEven: halves to even (2.5 -> 2, -2.5 -> -2, 0.5 -> 0); erf to ~1e-15 before the float32 rounding.
 * - comparisons are false when an operand is NaN, except ne (true); and / or / not / select
 *   and toBool test `!== 0`, so NaN counts as true.
 * - toInt: from float32, truncation toward zero saturating at [-2^31, 2^31 - 1], NaN -> 0;
 *   from int32 or bool, the value. toFloat: the value rounded to float32 (2^24 + 1 -> 2^24).
 */
import type { DType } from '@kiln/graph';
import { postorder } from './expr-dag.js';
import type { ScalarExpr, ScalarFn } from './scalar-expr.js';
import { erfScalar, roundHalfEven } from './scalar-math.js';

/** A value as stored in a buffer of the given dtype. */
export function storeAs(v: number, dtype: DType): number {
  switch (dtype) {
    case 'float32':
      return Math.fround(v);
    case 'int32':
      return v | 0;
    case 'bool':
      return v !== 0 ? 1 : 0;
  }
}

const truthy = (v: number) => v !== 0;
const bit = (b: boolean) => (b ? 1 : 0);

/** The unrounded result of fn on argument values of dtype `argType` (the first argument's). */
function apply(fn: ScalarFn, a: readonly number[], argType: DType): number {
  const [x, y, z] = a as [number, number, number];
  const int = argType === 'int32';
  switch (fn) {
    case 'add':
      return x + y;
    case 'sub':
      return x - y;
    case 'mul':
      return int ? Math.imul(x, y) : x * y;
    case 'div':
      return int ? (y === 0 ? 0 : Math.trunc(x / y)) : x / y;
    case 'floordiv':
      return int && y === 0 ? 0 : Math.floor(x / y);
    case 'mod':
      return int && y === 0 ? 0 : x % y;
    case 'neg':
      return -x;
    case 'abs':
      return Math.abs(x);
    case 'pow':
      return Math.pow(x, y);
    case 'max':
      return Math.max(x, y);
    case 'min':
      return Math.min(x, y);
    case 'exp':
      return Math.exp(x);
    case 'log':
      return Math.log(x);
    case 'log1p':
      return Math.log1p(x);
    case 'sqrt':
      return Math.sqrt(x);
    case 'tanh':
      return Math.tanh(x);
    case 'sin':
      return Math.sin(x);
    case 'atan':
      return Math.atan(x);
    case 'cos':
      return Math.cos(x);
    case 'erf':
      return erfScalar(x);
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    case 'roundEven':
      return roundHalfEven(x);
    case 'trunc':
      return Math.trunc(x);
    case 'sign':
      return Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : 0;
    case 'lt':
      return bit(x < y);
    case 'le':
      return bit(x <= y);
    case 'eq':
      return bit(x === y);
    case 'ne':
      return bit(x !== y);
    case 'and':
      return bit(truthy(x) && truthy(y));
    case 'or':
      return bit(truthy(x) || truthy(y));
    case 'not':
      return bit(!truthy(x));
    case 'select':
      return truthy(x) ? y : z;
    case 'toInt':
      return argType === 'float32' ? (Number.isNaN(x) ? 0 : Math.max(-2147483648, Math.min(2147483647, Math.trunc(x)))) : x;
    case 'toFloat':
      return x;
    case 'toBool':
      return bit(truthy(x));
    case 'relu':
      return x > 0 ? x : Number.isNaN(x) ? NaN : 0;
  }
}

/**
 * The values of `exprs` (one per expression, each stored in its dtype) for one element whose
 * inputs are `inputs` (%i = inputs[i], read as stored in the input node's dtype). Iterative:
 * each distinct node is evaluated once.
 */
export function evaluateExprs(exprs: readonly ScalarExpr[], inputs: readonly number[]): number[] {
  const value = new Map<ScalarExpr, number>();
  for (const e of postorder(exprs)) {
    if (e.kind === 'input') value.set(e, storeAs(inputs[e.index]!, e.dtype));
    else if (e.kind === 'const') value.set(e, storeAs(e.value, e.dtype));
    else {
      const args = e.args.map((a) => value.get(a)!);
      value.set(e, storeAs(apply(e.fn, args, e.args[0]!.dtype), e.dtype));
    }
  }
  return exprs.map((e) => value.get(e)!);
}

/** The value of one expression (see evaluateExprs). */
export function evaluateExpr(e: ScalarExpr, inputs: readonly number[]): number {
  return evaluateExprs([e], inputs)[0]!;
}
