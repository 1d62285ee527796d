/**
 * Reference kernels of the elementwise and compare families against hand-computed values
 * (float32 results compared with rtol 1e-4 / atol 1e-5; int32 and bool exactly).
 */
import { describe, expect, it } from '@jest/globals';
import * as k from '@kiln/graph';
import { type DType, Graph, type NestedArray, Tensor, tensor } from '@kiln/graph';
import { evaluate } from '@kiln/runtime-cpu';

type Fn = (...xs: k.SymbolicTensor[]) => k.SymbolicTensor;
const fns = k as unknown as Record<string, Fn>;

/** Feeds `inputs` as placeholders into fn and evaluates the result. */
function run(fn: (...xs: k.SymbolicTensor[]) => k.SymbolicTensor, ...inputs: Tensor[]): Tensor {
  const g = new Graph();
  const feeds: Record<string, Tensor> = {};
  const xs = inputs.map((t, i) => {
    feeds[`in${i}`] = t;
    return g.placeholder(t.dtype, t.shape, `in${i}`);
  });
  return evaluate([fn(...xs)], feeds)[0]!;
}

const f32 = (v: NestedArray): Tensor => tensor(v, undefined, 'float32');
const i32 = (v: NestedArray): Tensor => tensor(v, undefined, 'int32');
const bool = (v: NestedArray): Tensor => tensor(v, undefined, 'bool');

/** Elementwise closeness with rtol 1e-4 / atol 1e-5; NaN must match NaN, Inf must match exactly. */
function expectClose(got: Tensor, want: number[], shape?: number[], dtype: DType = 'float32'): void {
  expect(got.dtype).toBe(dtype);
  if (shape) expect(got.shape).toEqual(shape);
  const g = got.toFlat();
  expect(g.length).toBe(want.length);
  want.forEach((w, i) => {
    const v = g[i]!;
    if (Number.isNaN(w)) expect(v).toBeNaN();
    else if (!Number.isFinite(w)) expect(v).toBe(w);
    else if (Math.abs(v - w) > 1e-5 + 1e-4 * Math.abs(w)) throw new Error(`element ${i}: got ${v}, want ${w} (all: ${g.join(', ')})`);
  });
}

describe('binary kernels (float32)', () => {
  const a = f32([[1, -2, 3]]);
  const b = f32([[2], [-4]]);
  it.each([
    ['add', [3, 0, 5, -3, -6, -1]],
    ['sub', [-1, -4, 1, 5, 2, 7]],
    ['mul', [2, -4, 6, -4, 8, -12]],
    ['div', [0.5, -1, 1.5, -0.25, 0.5, -0.75]],
    ['pow', [1, 4, 9, 1, 1 / 16, 1 / 81]],
    ['maximum', [2, 2, 3, 1, -2, 3]],
    ['minimum', [1, -2, 2, -4, -4, -4]],
    ['squaredDifference', [1, 16, 1, 25, 4, 49]],
  ])('%s broadcasts [1,3] with [2,1]', (op, want) => {
    expectClose(run(fns[op]!, a, b), want as number[], [2, 3]);
  });
  it('div follows IEEE for zero divisors', () => {
    expectClose(run(k.div, f32([1, -1, 0, 0]), f32([0, 0, 0, -0])), [Infinity, -Infinity, NaN, NaN]);
  });
  it('pow of a negative base with a fractional exponent is NaN; 0^0 is 1', () => {
    expectClose(run(k.pow, f32([-8, 0, 2]), f32([1 / 3, 0, -1])), [NaN, 1, 0.5]);
  });
  it('maximum/minimum propagate NaN', () => {
    expectClose(run(k.maximum, f32([NaN, 1]), f32([0, NaN])), [NaN, NaN]);
    expectClose(run(k.minimum, f32([NaN, 1]), f32([0, NaN])), [NaN, NaN]);
  });
  it('a scalar operand broadcasts against anything', () => {
    expectClose(
      run(
        k.sub,
        f32(10),
        f32([
          [1, 2],
          [3, 4],
        ]),
      ),
      [9, 8, 7, 6],
      [2, 2],
    );
  });
  it('results are rounded to float32', () => {
    const y = run(k.add, f32([0.1]), f32([0.2]));
    expect(y.toFlat()[0]).toBe(Math.fround(Math.fround(0.1) + Math.fround(0.2)));
  });
});

describe('binary kernels (int32)', () => {
  it('add/sub/mul are exact and wrap around like int32 hardware', () => {
    expect(run(k.add, i32([2147483647, 5]), i32([1, -7])).toFlat()).toEqual([-2147483648, -2]);
    expect(run(k.sub, i32([[3], [-3]]), i32([1, 2])).toFlat()).toEqual([2, 1, -4, -5]);
    expect(run(k.mul, i32([65536, -3]), i32([65536, 7])).toFlat()).toEqual([0, -21]);
    expect(run(k.mul, i32([46341]), i32([46341])).toFlat()).toEqual([Math.imul(46341, 46341)]);
  });
  it('div is floor division (tf.div on int32 is floorDiv); x / 0 gives 0', () => {
    const y = run(k.div, i32([7, -7, 7, -7, 6, 5]), i32([2, 2, -2, -2, 3, 0]));
    expect(y.dtype).toBe('int32');
    expect(y.toFlat()).toEqual([3, -4, -4, 3, 2, 0]);
  });
  it('pow, maximum, minimum, squaredDifference', () => {
    expect(run(k.pow, i32([2, 3, -2]), i32([10, 0, 3])).toFlat()).toEqual([1024, 1, -8]);
    expect(run(k.maximum, i32([1, -5]), i32(-2)).toFlat()).toEqual([1, -2]);
    expect(run(k.minimum, i32([1, -5]), i32(-2)).toFlat()).toEqual([-2, -5]);
    expect(run(k.squaredDifference, i32([1, -5]), i32([4, 5])).toFlat()).toEqual([9, 100]);
  });
});

describe('unary kernels', () => {
  const x = f32([-2, -0.5, 0, 0.5, 2]);
  const S = 1.0507009873554805;
  const A = 1.6732632423543772;
  it.each([
    ['neg', [2, 0.5, -0, -0.5, -2]],
    ['abs', [2, 0.5, 0, 0.5, 2]],
    ['square', [4, 0.25, 0, 0.25, 4]],
    ['sign', [-1, -1, 0, 1, 1]],
    ['exp', [Math.exp(-2), Math.exp(-0.5), 1, Math.exp(0.5), Math.exp(2)]],
    ['floor', [-2, -1, 0, 0, 2]],
    ['ceil', [-2, -0, 0, 1, 2]],
    ['sin', [Math.sin(-2), Math.sin(-0.5), 0, Math.sin(0.5), Math.sin(2)]],
    ['cos', [Math.cos(-2), Math.cos(-0.5), 1, Math.cos(0.5), Math.cos(2)]],
    ['tanh', [-0.9640276, -0.46211716, 0, 0.46211716, 0.9640276]],
    ['sigmoid', [0.11920292, 0.37754067, 0.5, 0.62245933, 0.88079708]],
    ['relu', [0, 0, 0, 0.5, 2]],
    ['elu', [Math.exp(-2) - 1, Math.exp(-0.5) - 1, 0, 0.5, 2]],
    ['selu', [S * A * (Math.exp(-2) - 1), S * A * (Math.exp(-0.5) - 1), 0, S * 0.5, S * 2]],
    ['softplus', [Math.log(1 + Math.exp(-2)), Math.log(1 + Math.exp(-0.5)), Math.LN2, Math.log(1 + Math.exp(0.5)), Math.log(1 + Math.exp(2))]],
    ['erf', [-0.99532227, -0.52049988, 0, 0.52049988, 0.99532227]],
    ['leakyRelu', [-0.4, -0.1, 0, 0.5, 2]],
  ])('%s on [-2,-0.5,0,0.5,2]', (op, want) => {
    expectClose(run(fns[op]!, x), want as number[], [5]);
  });
  it('log, sqrt, rsqrt and reciprocal at their edges (0, negatives, Inf)', () => {
    const e = f32([4, 1, 0, -1, Infinity]);
    expectClose(run(k.log, e), [Math.log(4), 0, -Infinity, NaN, Infinity]);
    expectClose(run(k.sqrt, e), [2, 1, 0, NaN, Infinity]);
    expectClose(run(k.rsqrt, e), [0.5, 1, Infinity, NaN, 0]);
    expectClose(run(k.reciprocal, e), [0.25, 1, Infinity, -1, 0]);
  });
  it('round is half to even, as TensorFlow', () => {
    expectClose(run(k.round, f32([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6])), [0, 2, 2, -0, -2, -2, 2, -3]);
  });
  it('relu6 and clipByValue clamp; NaN passes through', () => {
    expectClose(run(k.relu6, f32([-1, 3, 7, NaN])), [0, 3, 6, NaN]);
    expectClose(
      run((t) => k.clipByValue(t, -1, 0.5), f32([-3, 0.25, 2, NaN])),
      [-1, 0.25, 0.5, NaN],
    );
    expect(run((t) => k.clipByValue(t, -2, 3), i32([-5, 1, 9])).toFlat()).toEqual([-2, 1, 3]);
  });
  it('leakyRelu takes alpha', () => {
    expectClose(
      run((t) => k.leakyRelu(t, 0.1), f32([-3, 3])),
      [-0.3, 3],
    );
  });
  it('gelu: exact erf form and the tanh approximation', () => {
    const v = f32([-3, -1, 0, 1, 3]);
    // x * Phi(x) with Phi(-1) = 0.15865525, Phi(-3) = 0.00134990
    expectClose(
      run((t) => k.gelu(t), v),
      [-3 * 0.0013499, -0.15865525, 0, 0.84134475, 3 * 0.9986501],
    );
    const tanhForm = (u: number) => 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u ** 3)));
    expectClose(
      run((t) => k.gelu(t, true), v),
      [-3, -1, 0, 1, 3].map(tanhForm),
    );
    expect(tanhForm(1)).toBeCloseTo(0.841192, 5);
  });
  it('erf is accurate in the tails and odd', () => {
    expectClose(run(k.erf, f32([3, -4, 0.1, 7, NaN])), [0.99997791, -0.99999998, 0.11246292, 1, NaN]);
  });
  it('int32 unary kernels', () => {
    const v = i32([-3, 0, 4, -2147483648]);
    expect(run(k.neg, v).toFlat()).toEqual([3, 0, -4, -2147483648]);
    expect(run(k.abs, v).toFlat()).toEqual([3, 0, 4, -2147483648]);
    expect(run(k.square, v).toFlat()).toEqual([9, 0, 16, 0]);
    expect(run(k.sign, v).toFlat()).toEqual([-1, 0, 1, -1]);
    expect(run(k.relu, v).toFlat()).toEqual([0, 0, 4, 0]);
    expect(run(k.relu, v).dtype).toBe('int32');
  });
  it('sign and relu of NaN are NaN; exp overflows to Inf', () => {
    expectClose(run(k.sign, f32([NaN])), [NaN]);
    expectClose(run(k.relu, f32([NaN])), [NaN]);
    expectClose(run(k.exp, f32([100, -200])), [Infinity, 0]);
    expectClose(run(k.softplus, f32([100, -100])), [100, 0]);
  });
});

describe('cast, identity, stopGradient', () => {
  it('float -> int32 truncates toward zero', () => {
    const y = run((t) => k.cast(t, 'int32'), f32([1.7, -1.7, 0.5, -0.5, 3e9, NaN]));
    expect(y.dtype).toBe('int32');
    expect(y.toFlat()).toEqual([1, -1, 0, 0, 2147483647, 0]);
  });
  it('-> bool is "nonzero"; bool -> number is 0/1', () => {
    expect(run((t) => k.cast(t, 'bool'), f32([0, -0, 0.1, -3, NaN])).toArray()).toEqual([false, false, true, true, true]);
    expect(run((t) => k.cast(t, 'bool'), i32([0, 5])).toArray()).toEqual([false, true]);
    expect(run((t) => k.cast(t, 'float32'), bool([true, false])).toFlat()).toEqual([1, 0]);
    expect(run((t) => k.cast(t, 'int32'), bool([true, false])).toFlat()).toEqual([1, 0]);
    expect(run((t) => k.cast(t, 'float32'), i32([-3, 16777217])).toFlat()).toEqual([-3, 16777216]);
  });
  it('identity and stopGradient return their input', () => {
    const v = i32([
      [1, 2],
      [3, 4],
    ]);
    expect(run(k.identity, v).toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(run(k.stopGradient, bool([true])).toArray()).toEqual([true]);
  });
});

describe('compare kernels', () => {
  const a = f32([[1, 2, NaN]]);
  const b = f32([[2], [NaN]]);
  it.each([
    ['equal', [false, true, false, false, false, false]],
    ['notEqual', [true, false, true, true, true, true]],
    ['less', [true, false, false, false, false, false]],
    ['lessEqual', [true, true, false, false, false, false]],
    ['greater', [false, false, false, false, false, false]],
    ['greaterEqual', [false, true, false, false, false, false]],
  ])('%s broadcasts and treats NaN as unordered', (op, want) => {
    const y = run(fns[op]!, a, b);
    expect(y.dtype).toBe('bool');
    expect(y.shape).toEqual([2, 3]);
    expect(y.toFlat()).toEqual((want as boolean[]).map(Number));
  });
  it('int32 and bool comparisons', () => {
    expect(run(k.greater, i32([3, -1, 0]), i32(0)).toArray()).toEqual([true, false, false]);
    expect(run(k.equal, bool([true, false]), bool([true, true])).toArray()).toEqual([true, false]);
  });
  it('logicalAnd / logicalOr broadcast; logicalNot negates', () => {
    const p = bool([[true], [false]]);
    const q = bool([true, false]);
    expect(run(k.logicalAnd, p, q).toArray()).toEqual([
      [true, false],
      [false, false],
    ]);
    expect(run(k.logicalOr, p, q).toArray()).toEqual([
      [true, true],
      [true, false],
    ]);
    expect(run(k.logicalNot, q).toArray()).toEqual([false, true]);
  });
  it('where picks a or b, broadcasting all three', () => {
    const c = bool([[true], [false]]);
    const y = run(k.where, c, f32([1, 2, 3]), f32(-1));
    expect(y.toArray()).toEqual([
      [1, 2, 3],
      [-1, -1, -1],
    ]);
    const yi = run(
      k.where,
      bool([true, false, true]),
      i32([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      i32([0, 0, 0]),
    );
    expect(yi.dtype).toBe('int32');
    expect(yi.toArray()).toEqual([
      [1, 0, 3],
      [4, 0, 6],
    ]);
    expect(run(k.where, bool([false, true]), bool([true, true]), bool([false, false])).toArray()).toEqual([false, true]);
  });
});
