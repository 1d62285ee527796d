/**
 * The elementwise primitive: a scalar expression over the kernel's inputs, evaluated once per
 * output element. High-level elementwise ops (sigmoid, gelu, where, ...) lower to trees of
 * these few scalar functions; code generators (JS for CPU, WGSL) render only these.
 */
import type { DType } from '@kiln/graph';

export type ScalarFn =
  // arithmetic
  | 'add' | 'sub' | 'mul' | 'div' | 'floordiv' | 'mod' | 'neg' | 'abs' | 'pow' | 'max' | 'min'
  // transcendental
  | 'exp' | 'log' | 'log1p' | 'sqrt' | 'tanh' | 'sin' | 'cos' | 'erf'
  // rounding
  | 'floor' | 'ceil' | 'roundEven' | 'trunc' | 'sign'
  // comparison (bool result 0/1) and logic
  | 'lt' | 'le' | 'eq' | 'ne' | 'and' | 'or' | 'not' | 'select'
  // conversion
  | 'toInt' | 'toFloat' | 'toBool';

export type ScalarExpr =
  | { kind: 'input'; index: number; dtype: DType }
  | { kind: 'const'; value: number; dtype: DType }
  | { kind: 'call'; fn: ScalarFn; args: ScalarExpr[]; dtype: DType };

export const input = (index: number, dtype: DType): ScalarExpr => ({ kind: 'input', index, dtype });
export const lit = (value: number, dtype: DType = 'float32'): ScalarExpr => ({ kind: 'const', value, dtype });
export const call = (fn: ScalarFn, dtype: DType, ...args: ScalarExpr[]): ScalarExpr => ({ kind: 'call', fn, args, dtype });

/** Replaces input references by the given expressions (used when fusing a producer into a consumer). */
export function substitute(e: ScalarExpr, args: readonly ScalarExpr[]): ScalarExpr {
  switch (e.kind) {
    case 'input':
      return args[e.index]!;
    case 'const':
      return e;
    case 'call':
      return { ...e, args: e.args.map((a) => substitute(a, args)) };
  }
}

/** A compact, stable text form used in program dumps: sigmoid(x) -> div(1, add(1, exp(neg(%0)))). */
export function exprToString(e: ScalarExpr): string {
  switch (e.kind) {
    case 'input':
      return `%${e.index}`;
    case 'const':
      return Number.isNaN(e.value) ? 'nan' : String(e.value);
    case 'call':
      return `${e.fn}(${e.args.map(exprToString).join(', ')})`;
  }
}
