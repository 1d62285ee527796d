/** Shape and dtype inference of the elementwise and compare op families, errors included. */
import { describe, expect, it } from '@jest/globals';
import * as k from '@kiln/graph';
import { Graph, KilnError, getOp } from '@kiln/graph';

type Fn1 = (x: k.TensorLike) => k.SymbolicTensor;
type Fn2 = (a: k.TensorLike, b: k.TensorLike) => k.SymbolicTensor;
const fns = k as unknown as Record<string, Fn1 & Fn2>;

const BINARY = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'squaredDifference'];
const UNARY_NUM = ['neg', 'abs', 'square', 'sign', 'relu'];
const UNARY_FLOAT = [
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'reciprocal',
  'floor',
  'ceil',
  'round',
  'sin',
  'cos',
  'tanh',
  'sigmoid',
  'relu6',
  'elu',
  'selu',
  'softplus',
  'gelu',
  'erf',
  'leakyRelu',
];
const COMPARE = ['equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual'];

/** Runs fn, expecting a KilnError with `code` whose message matches every pattern. */
function expectError(fn: () => unknown, code: string, ...patterns: RegExp[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(KilnError);
  expect((err as KilnError).code).toBe(code);
  for (const p of patterns) expect((err as Error).message).toMatch(p);
}

describe('elementwise binary ops', () => {
  it.each(BINARY)('%s broadcasts shapes with unknown dims and keeps the dtype', (op) => {
    const g = new Graph();
    const a = g.placeholder('float32', [null, 1, 3], 'a');
    const b = g.placeholder('float32', [4, 1], 'b');
    const y = fns[op]!(a, b);
    expect(y.shape).toEqual([null, 4, 3]);
    expect(y.dtype).toBe('float32');
    expect(y.node.op).toBe(op);
    const i = g.placeholder('int32', [2], 'i');
    expect(fns[op]!(i, i).dtype).toBe('int32');
  });
  it.each(BINARY)('%s rejects float32/int32 mixing naming both dtypes, and bool', (op) => {
    const g = new Graph();
    const f = g.placeholder('float32', [2], 'f');
    const i = g.placeholder('int32', [2], 'i');
    const b = g.placeholder('bool', [2], 'b');
    expectError(() => fns[op]!(f, i), 'DTYPE_MISMATCH', new RegExp(`^${op} '${op}'`), /float32 and int32/);
    expectError(() => fns[op]!(b, b), 'DTYPE_MISMATCH', /operands must be float32 or int32, got bool/);
  });
  it('reports incompatible shapes with both shapes', () => {
    const g = new Graph();
    const a = g.placeholder('float32', [null, 3], 'a');
    const b = g.placeholder('float32', [4], 'b');
    expectError(() => k.mul(a, b), 'SHAPE_MISMATCH', /^mul 'mul'/, /\[\?,3\]/, /\[4\]/);
  });
  it('turns JS numbers into constants of the other operand dtype', () => {
    const g = new Graph();
    const x = g.placeholder('int32', [3], 'x');
    const y = k.pow(2, x);
    expect(y.dtype).toBe('int32');
    expect(y.node.inputs[0]!.node.op).toBe('const');
    expect(k.sub(g.placeholder('float32', [], 's'), 0.5).shape).toEqual([]);
    expectError(() => k.div(x, 0.5), 'DTYPE_MISMATCH', /not an integer/);
  });
});

describe('elementwise unary ops', () => {
  it.each([...UNARY_NUM, ...UNARY_FLOAT])('%s preserves shape (with nulls) and dtype', (op) => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 5], 'x');
    const y = fns[op]!(x);
    expect(y.shape).toEqual([null, 5]);
    expect(y.dtype).toBe('float32');
  });
  it.each(UNARY_NUM)('%s accepts int32 and rejects bool', (op) => {
    const g = new Graph();
    expect(fns[op]!(g.placeholder('int32', [2])).dtype).toBe('int32');
    expectError(() => fns[op]!(g.placeholder('bool', [2])), 'DTYPE_MISMATCH', /x must be float32 or int32, got bool/);
  });
  it.each(UNARY_FLOAT)('%s rejects int32', (op) => {
    const g = new Graph();
    expectError(() => fns[op]!(g.placeholder('int32', [2])), 'DTYPE_MISMATCH', new RegExp(`^${op} '`), /x must be float32, got int32/);
  });
  it('gelu and leakyRelu store their attrs with TF.js defaults', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [2]);
    expect(k.gelu(x).node.attrs.approximate).toBe(false);
    expect(k.gelu(x, true).node.attrs.approximate).toBe(true);
    expect(k.leakyRelu(x).node.attrs.alpha).toBe(0.2);
    expect(k.leakyRelu(x, 0.1).node.attrs.alpha).toBe(0.1);
  });
  it('clipByValue validates clipValueMin <= clipValueMax', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 2]);
    const y = k.clipByValue(x, -1, 1);
    expect(y.shape).toEqual([null, 2]);
    expect(y.node.attrs).toEqual({ clipValueMin: -1, clipValueMax: 1 });
    expect(k.clipByValue(g.placeholder('int32', [2]), 0, 3).dtype).toBe('int32');
    expectError(() => k.clipByValue(x, 2, 1), 'INVALID_ATTR', /^clipByValue '/, /clipValueMin=2/, /clipValueMax=1/);
    expectError(() => k.clipByValue(x, NaN, 1), 'INVALID_ATTR', /clipValueMin must be <= clipValueMax/);
  });
});

describe('cast, identity, stopGradient', () => {
  it('cast changes the dtype and keeps the shape', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 3]);
    for (const dt of ['int32', 'bool', 'float32'] as const) {
      const y = k.cast(x, dt);
      expect(y.dtype).toBe(dt);
      expect(y.shape).toEqual([null, 3]);
    }
    expectError(() => k.cast(x, 'float64' as k.DType), 'INVALID_ATTR', /attr 'dtype'/);
  });
  it('identity and stopGradient accept every dtype', () => {
    const g = new Graph();
    for (const dt of ['int32', 'bool', 'float32'] as const) {
      const x = g.placeholder(dt, [2, null]);
      expect(k.identity(x).dtype).toBe(dt);
      expect(k.stopGradient(x).shape).toEqual([2, null]);
    }
  });
});

describe('compare family', () => {
  it.each(COMPARE)('%s broadcasts and returns bool', (op) => {
    const g = new Graph();
    const a = g.placeholder('int32', [null, 1], 'a');
    const b = g.placeholder('int32', [3], 'b');
    const y = fns[op]!(a, b);
    expect(y.dtype).toBe('bool');
    expect(y.shape).toEqual([null, 3]);
    expect(getOp(op).family).toBe('compare');
    const f = g.placeholder('float32', [3], 'f');
    expectError(() => fns[op]!(a, f), 'DTYPE_MISMATCH', /int32 and float32/);
  });
  it('equal/notEqual accept bool; ordering comparisons do not', () => {
    const g = new Graph();
    const b = g.placeholder('bool', [2]);
    expect(k.equal(b, b).dtype).toBe('bool');
    expect(k.notEqual(b, true).dtype).toBe('bool');
    expectError(() => k.less(b, b), 'DTYPE_MISMATCH', /got bool/);
  });
  it('logical ops take bool only', () => {
    const g = new Graph();
    const a = g.placeholder('bool', [2, 1]);
    const b = g.placeholder('bool', [3]);
    expect(k.logicalAnd(a, b).shape).toEqual([2, 3]);
    expect(k.logicalOr(a, b).dtype).toBe('bool');
    expect(k.logicalNot(b).shape).toEqual([3]);
    const f = g.placeholder('float32', [3]);
    expectError(() => k.logicalAnd(f, f), 'DTYPE_MISMATCH', /^logicalAnd '/, /must be bool, got float32/);
    expectError(() => k.logicalNot(f), 'DTYPE_MISMATCH', /x must be bool, got float32/);
  });
  it('where broadcasts condition, a and b together', () => {
    const g = new Graph();
    const c = g.placeholder('bool', [null, 1, 1], 'c');
    const a = g.placeholder('float32', [4, 1], 'a');
    const b = g.placeholder('float32', [5], 'b');
    const y = k.where(c, a, b);
    expect(y.shape).toEqual([null, 4, 5]);
    expect(y.dtype).toBe('float32');
    expect(k.where(c, 1, 0).dtype).toBe('float32');
    expect(k.where(c, g.placeholder('int32', [1]), 0).dtype).toBe('int32');
  });
  it('where rejects a non-bool condition, mixed operand dtypes and bad shapes', () => {
    const g = new Graph();
    const c = g.placeholder('bool', [3], 'c');
    const f = g.placeholder('float32', [3], 'f');
    const i = g.placeholder('int32', [3], 'i');
    expectError(() => k.where(f, f, f), 'DTYPE_MISMATCH', /^where '/, /condition must be bool, got float32/);
    expectError(() => k.where(c, f, i), 'DTYPE_MISMATCH', /float32 and int32/);
    expectError(() => k.where(g.placeholder('bool', [2]), f, f), 'SHAPE_MISMATCH', /\[2\]/, /\[3\]/);
  });
});
