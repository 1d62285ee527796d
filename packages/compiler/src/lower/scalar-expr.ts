/**
 * The elementwise primitive: a scalar expression over the kernel's inputs, evaluated once per
 * output element. High-level elementwise ops (sigmoid, gelu, where, ...) lower to these few
 * scalar functions; code generators (JS and WASM for CPU, WGSL) render only these.
 *
 * An expression is a DAG, not a tree: a subexpression used twice (relu = select(le(x, 0), 0, x)
 * uses x twice) is one object referenced twice, so a chain of k relus is k nodes, not 2^k.
 * Every traversal (expr-dag.ts) visits each distinct node once and never recurses on depth;
 * the meaning of every function, edge cases included, is defined in scalar-eval.ts.
 */
import type { DType } from '@kiln/graph';

export type ScalarFn =
  // arithmetic
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'floordiv'
  | 'mod'
  | 'neg'
  | 'abs'
  | 'pow'
  | 'max'
  | 'min'
  // transcendental
  | 'exp'
  | 'log'
  | 'log1p'
  | 'sqrt'
  | 'tanh'
  | 'sin'
  | 'cos'
  | 'atan'
  | 'erf'
  // rounding
  | 'floor'
  | 'ceil'
  | 'roundEven'
  | 'trunc'
  | 'sign'
  // comparison (bool result 0/1) and logic
  | 'lt'
  | 'le'
  | 'eq'
  | 'ne'
  | 'and'
  | 'or'
  | 'not'
  | 'select'
  // conversion
  | 'toInt'
  | 'toFloat'
  | 'toBool'
  // target forms (introduced only by target rewrites, see target-rewrites.ts)
  | 'relu';

export type ScalarExpr =
  | { kind: 'input'; index: number; dtype: DType }
  | { kind: 'const'; value: number; dtype: DType }
  | { kind: 'call'; fn: ScalarFn; args: ScalarExpr[]; dtype: DType };

export type CallExpr = ScalarExpr & { kind: 'call' };

export const input = (index: number, dtype: DType): ScalarExpr => ({ kind: 'input', index, dtype });
export const lit = (value: number, dtype: DType = 'float32'): ScalarExpr => ({ kind: 'const', value, dtype });
export const call = (fn: ScalarFn, dtype: DType, ...args: ScalarExpr[]): ScalarExpr => ({ kind: 'call', fn, args, dtype });

/** Scalar functions and their arity (a Record, so a new ScalarFn must be added here to type-check). */
export const SCALAR_FN_ARITY: Readonly<Record<ScalarFn, number>> = {
  add: 2,
  sub: 2,
  mul: 2,
  div: 2,
  floordiv: 2,
  mod: 2,
  neg: 1,
  abs: 1,
  pow: 2,
  max: 2,
  min: 2,
  exp: 1,
  log: 1,
  log1p: 1,
  sqrt: 1,
  tanh: 1,
  sin: 1,
  cos: 1,
  atan: 1,
  erf: 1,
  floor: 1,
  ceil: 1,
  roundEven: 1,
  trunc: 1,
  sign: 1,
  lt: 2,
  le: 2,
  eq: 2,
  ne: 2,
  and: 2,
  or: 2,
  not: 1,
  select: 3,
  toInt: 1,
  toFloat: 1,
  toBool: 1,
  relu: 1,
};

export { exprToString, internExprs, postorder, structuralKey, substitute, useCounts } from './expr-dag.js';
