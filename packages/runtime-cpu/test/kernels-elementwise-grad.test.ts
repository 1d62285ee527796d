/**
 * Gradient rules of the elementwise and compare families against central finite differences,
 * evaluated on the reference executor. Each rule is called directly (getGradient) with a fed
 * cotangent dy; the check is d/dx_j sum(dy * f(x)) for every input element x_j.
 *
 * Tolerance: finite differences in float32 with step h = 1e-2 carry ~1e-4 error (rounding
 * ~6e-8 |y| / 2h, truncation h^2/6 |f'''|), so these compare with rtol 1e-3 / atol 1e-3.
 * Sample points stay >= 0.05 away from kinks (relu at 0, clip bounds, maximum ties).
 */
import { describe, expect, it } from '@jest/globals';
import * as k from '@kiln/graph';
import { Graph, type SymbolicTensor, Tensor, tensor } from '@kiln/graph';
import { getGradient, gradients, isNonDifferentiable, nonDifferentiableReason } from '@kiln/compiler';
import { evaluate } from '@kiln/runtime-cpu';

const H = 1e-2;
const TOL = 1e-3;

type Builder = (...xs: SymbolicTensor[]) => SymbolicTensor;

interface Built {
  y: SymbolicTensor;
  xs: SymbolicTensor[];
  dy: SymbolicTensor;
  grads: (SymbolicTensor | null)[];
  feeds: Record<string, Tensor>;
}

/** Deterministic cotangent values in [-1.3, 1.7]. */
function cotangent(shape: number[]): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return tensor(
    Array.from({ length: n }, (_, i) => ((i * 7) % 11) / 5 - 1.3 + 0.05),
    shape,
    'float32',
  );
}

/** Builds fn on placeholders (shapes from `staticShapes`, or the values' shapes), applies the rule. */
function build(fn: Builder, inputs: Tensor[], staticShapes?: (number | null)[][]): Built {
  const g = new Graph();
  const feeds: Record<string, Tensor> = {};
  const xs = inputs.map((t, i) => {
    feeds[`x${i}`] = t;
    return g.placeholder(t.dtype, staticShapes?.[i] ?? t.shape, `x${i}`);
  });
  const y = fn(...xs);
  const yShape = evaluate([y], feeds)[0]!.shape;
  const dy = g.placeholder('float32', y.shape, 'dy');
  feeds.dy = cotangent(yShape);
  const rule = getGradient(y.node.op);
  if (!rule) throw new Error(`no gradient rule for ${y.node.op}`);
  const node = y.node;
  const grads = rule([dy], { node, inputs: node.inputs, outputs: node.outputs, attrs: node.attrs });
  expect(grads.length).toBe(node.inputs.length);
  return { y, xs, dy, grads, feeds };
}

/** sum(dy * y) in float64 for the given feeds. */
function objective(b: Built, feeds: Record<string, Tensor>): number {
  const y = evaluate([b.y], feeds)[0]!;
  const dy = feeds.dy!;
  let s = 0;
  for (let i = 0; i < y.size; i++) s += dy.data[i]! * y.data[i]!;
  return s;
}

/** Checks the rule's gradient for each input index in `wrt` against central differences. */
function checkGrad(fn: Builder, inputs: Tensor[], opts: { wrt?: number[]; staticShapes?: (number | null)[][] } = {}): void {
  const b = build(fn, inputs, opts.staticShapes);
  const wrt = opts.wrt ?? inputs.map((_, i) => i);
  for (const i of wrt) {
    const gsym = b.grads[i];
    if (!gsym) throw new Error(`rule returned no gradient for input ${i}`);
    expect(gsym.dtype).toBe('float32');
    // The input's static shape, possibly refined where it was unknown (null) and dy knows it.
    const xShape = b.xs[i]!.shape;
    expect(gsym.shape.length).toBe(xShape.length);
    xShape.forEach((d, q) => {
      if (d !== null) expect(gsym.shape[q]).toBe(d);
    });
    const got = evaluate([gsym], b.feeds)[0]!;
    expect(got.shape).toEqual(inputs[i]!.shape);
    const x = inputs[i]!;
    for (let j = 0; j < x.size; j++) {
      const plus = x.clone();
      const minus = x.clone();
      plus.data[j] = x.data[j]! + H;
      minus.data[j] = x.data[j]! - H;
      const step = plus.data[j]! - minus.data[j]!;
      const num = (objective(b, { ...b.feeds, [`x${i}`]: plus }) - objective(b, { ...b.feeds, [`x${i}`]: minus })) / step;
      const an = got.data[j]!;
      if (!(Math.abs(an - num) <= TOL + TOL * Math.abs(num))) {
        throw new Error(`${b.y.node.op}: d/dx${i}[${j}] analytic ${an} vs numeric ${num}`);
      }
    }
  }
}

const f32 = (v: k.NestedArray, shape?: number[]): Tensor => tensor(v, shape, 'float32');

describe('binary gradient rules', () => {
  const a = f32([
    [0.7, -1.3, 1.9],
    [-0.4, 1.1, 0.6],
  ]);
  const row = f32([1.5, -0.8, 0.9]);
  const col = f32([[1.2], [-0.7]]);
  const s = f32(0.8);
  it.each(['add', 'sub', 'mul', 'div', 'squaredDifference'])('%s, with both operands broadcast', (op) => {
    const fn = (k as unknown as Record<string, Builder>)[op]!;
    checkGrad(fn, [a, row]);
    checkGrad(fn, [col, row]);
    checkGrad(fn, [s, a]);
  });
  it('binary rules unbroadcast against unknown dims ([?,3] with [1,3] and [3])', () => {
    checkGrad(k.mul, [a, f32([[1.5, -0.8, 0.9]])], {
      staticShapes: [
        [null, 3],
        [1, 3],
      ],
    });
    checkGrad(k.div, [row, a], { staticShapes: [[3], [null, null]] });
  });
  it('pow: both operands, positive base', () => {
    checkGrad(k.pow, [
      f32([
        [0.5, 1.3, 2.2],
        [1.7, 0.9, 1.4],
      ]),
      f32([2.5, -1.2, 0.7]),
    ]);
  });
  it('pow: d/db is 0 (not NaN) where the base is <= 0', () => {
    const b = build(k.pow, [f32([-2, 0, 3]), f32([2, 2, 2])]);
    const [da, db] = evaluate([b.grads[0]!, b.grads[1]!], b.feeds);
    const dy = b.feeds.dy!.toFlat();
    expect(Math.abs(db!.toFlat()[0]!)).toBe(0);
    expect(Math.abs(db!.toFlat()[1]!)).toBe(0);
    expect(db!.toFlat()[2]).toBeCloseTo(dy[2]! * 9 * Math.log(3), 4);
    expect(da!.toFlat()[0]).toBeCloseTo(dy[0]! * 2 * -2, 5);
  });
  it.each(['maximum', 'minimum'])('%s routes the gradient to the winner', (op) => {
    const fn = (k as unknown as Record<string, Builder>)[op]!;
    checkGrad(fn, [a, row]);
    checkGrad(fn, [a, s]);
  });
  it.each(['maximum', 'minimum'])('%s sends ties to a, as TensorFlow', (op) => {
    const fn = (k as unknown as Record<string, Builder>)[op]!;
    const b = build(fn, [f32([1, 2]), f32([1, 0])]);
    const [da, db] = evaluate([b.grads[0]!, b.grads[1]!], b.feeds);
    const dy = b.feeds.dy!.toFlat();
    expect(da!.toFlat()[0]).toBeCloseTo(dy[0]!, 6);
    expect(db!.toFlat()[0]).toBe(0);
  });
  it('int32 operands receive no gradient', () => {
    const i = tensor([1, 2], [2], 'int32');
    for (const op of ['add', 'mul', 'div', 'pow', 'maximum']) {
      const b = build((k as unknown as Record<string, Builder>)[op]!, [i, i]);
      expect(b.grads).toEqual([null, null]);
    }
  });
});

describe('unary gradient rules', () => {
  const x = f32([
    [-1.7, -0.6, 0.3],
    [1.2, 2.1, -0.15],
  ]);
  const pos = f32([0.4, 1.1, 2.5, 0.75]);
  it.each(['neg', 'abs', 'square', 'exp', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'elu', 'selu', 'softplus', 'erf', 'gelu', 'leakyRelu', 'identity'])(
    '%s',
    (op) => {
      checkGrad((k as unknown as Record<string, Builder>)[op]!, [x]);
    },
  );
  it.each(['log', 'sqrt', 'rsqrt', 'reciprocal'])('%s (positive inputs)', (op) => {
    checkGrad((k as unknown as Record<string, Builder>)[op]!, [pos]);
  });
  it('gelu with the tanh approximation', () => {
    checkGrad((t) => k.gelu(t, true), [f32([-2.2, -0.7, 0.1, 0.9, 2.6])]);
  });
  it('leakyRelu with a custom alpha', () => {
    checkGrad((t) => k.leakyRelu(t, 0.05), [x]);
  });
  it('relu6 and clipByValue pass the gradient only inside the range', () => {
    checkGrad(k.relu6, [f32([-0.5, 0.3, 3, 5.9, 6.4])]);
    checkGrad((t) => k.clipByValue(t, -1, 0.5), [f32([-1.5, -0.9, 0.2, 0.45, 0.8])]);
  });
  it('relu has gradient 0 at 0, as TensorFlow', () => {
    const b = build(k.relu, [f32([0, 1])]);
    const [dx] = evaluate([b.grads[0]!], b.feeds);
    expect(dx!.toFlat()[0]).toBe(0);
  });
  it('int32 inputs receive no gradient', () => {
    const b = build(k.neg, [tensor([1, 2], [2], 'int32')]);
    expect(b.grads).toEqual([null]);
  });
});

describe('cast, where and non-differentiable ops', () => {
  it('cast passes the gradient float32 -> float32 only', () => {
    checkGrad((t) => k.cast(t, 'float32'), [f32([0.5, -2])]);
    expect(build((t) => k.cast(t, 'int32'), [f32([0.5, -2])]).grads).toEqual([null]);
    expect(build((t) => k.cast(t, 'float32'), [tensor([1, 2], [2], 'int32')]).grads).toEqual([null]);
  });
  it('where routes dy by the condition and unbroadcasts a and b', () => {
    const c = tensor([[true], [false]], undefined, 'bool');
    const a = f32([0.5, -1.5, 2.5]);
    const b = f32(3);
    checkGrad(k.where, [c, a, b], { wrt: [1, 2] });
    const built = build(k.where, [c, a, b]);
    expect(built.grads[0]).toBeNull();
    const [ga, gb] = evaluate([built.grads[1]!, built.grads[2]!], built.feeds);
    const dy = built.feeds.dy!.toFlat();
    expect(ga!.toFlat()).toEqual(dy.slice(0, 3).map(Math.fround));
    expect(gb!.toFlat()[0]).toBeCloseTo(
      dy.slice(3).reduce((p, v) => p + v, 0),
      5,
    );
  });
  it.each([
    'sign',
    'floor',
    'ceil',
    'round',
    'stopGradient',
    'equal',
    'notEqual',
    'less',
    'lessEqual',
    'greater',
    'greaterEqual',
    'logicalAnd',
    'logicalOr',
    'logicalNot',
  ])('%s is registered as non-differentiable with a reason', (op) => {
    expect(isNonDifferentiable(op)).toBe(true);
    expect(nonDifferentiableReason(op)!.length).toBeGreaterThan(10);
    expect(getGradient(op)).toBeUndefined();
  });
});

describe('second order: the rules emit differentiable ops', () => {
  // d/dx_j sum_i g(x)_i where g = gradients(sum f(x), x), against central differences of g.
  const x = f32([-1.1, -0.35, 0.45, 1.3]);
  it.each(['tanh', 'sigmoid', 'exp', 'sin', 'cos', 'softplus', 'elu', 'selu', 'erf', 'gelu', 'square', 'abs'])('%s', (op) => {
    const fn = (k as unknown as Record<string, Builder>)[op]!;
    const g = new Graph();
    const xp = g.placeholder('float32', [4], 'x');
    const g1 = gradients(fn(xp), [xp])[0]!;
    const g2 = gradients(g1, [xp])[0]!;
    const [d2] = evaluate([g2], { x });
    for (let j = 0; j < 4; j++) {
      const plus = x.clone();
      const minus = x.clone();
      plus.data[j] = x.data[j]! + H;
      minus.data[j] = x.data[j]! - H;
      const sumG1 = (t: Tensor) =>
        evaluate([g1], { x: t })[0]!
          .toFlat()
          .reduce((p, v) => p + v, 0);
      const num = (sumG1(plus) - sumG1(minus)) / (plus.data[j]! - minus.data[j]!);
      expect(Math.abs(d2!.data[j]! - num)).toBeLessThanOrEqual(TOL + TOL * Math.abs(num));
    }
  });
  it('pow and div in both operands', () => {
    const g = new Graph();
    const a = g.placeholder('float32', [3], 'a');
    const b = g.placeholder('float32', [3], 'b');
    const feeds = { a: f32([0.6, 1.4, 2.1]), b: f32([1.5, -0.7, 0.8]) };
    for (const fn of [k.pow, k.div, k.mul]) {
      const [ga] = gradients(fn(a, b), [a]);
      const [gab] = gradients(ga!, [b]);
      const [v] = evaluate([gab!], feeds);
      const sumGa = (bt: Tensor) =>
        evaluate([ga!], { ...feeds, b: bt })[0]!
          .toFlat()
          .reduce((p, q) => p + q, 0);
      for (let j = 0; j < 3; j++) {
        const plus = feeds.b.clone();
        const minus = feeds.b.clone();
        plus.data[j] = feeds.b.data[j]! + H;
        minus.data[j] = feeds.b.data[j]! - H;
        const num = (sumGa(plus) - sumGa(minus)) / (plus.data[j]! - minus.data[j]!);
        expect(Math.abs(v!.data[j]! - num)).toBeLessThanOrEqual(TOL + TOL * Math.abs(num));
      }
    }
  });
});
