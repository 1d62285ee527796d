/**
 * Inputs checked at the boundary (issue 15 item 4) and graph building that cannot make an
 * unserializable or cyclic graph (item 5): every bad value is a KilnError naming the argument
 * (never a TypeError, never a NaN constant); a tensor's shape and data cannot drift apart
 * after construction; optimizer hyperparameters are finite numbers; out-of-range labels of
 * sparseSoftmaxCrossEntropy give NaN rows (TensorFlow on CPU) or, with checkNumerics, a
 * NUMERIC_ERROR naming the label check. Oracles: hand-computed values and the reference backend.
 */
import { describe, expect, it } from '@jest/globals';
import { Graph, KilnError, Tensor, add, deserializeGraph, matMul, serializeGraph, session, sparseSoftmaxCrossEntropy, tensor, train } from 'kiln';
import { Reduction } from '@kiln/graph';
import { evaluate } from '@kiln/runtime-cpu';
import { kilnErrorOf } from './helpers/kiln-error.js';

function expectKilnError(f: () => unknown, code: string, message: RegExp): void {
  const e = kilnErrorOf(f);
  expect([e.code, e.message]).toEqual([code, expect.stringMatching(message)]);
}

describe('tensors validate dtype, shape and data at construction', () => {
  it('refuses unknown dtypes, bad shapes and data that does not match', () => {
    expectKilnError(() => new Tensor('float64' as never, [2]), 'INVALID_ARGUMENT', /unknown dtype 'float64'/);
    expectKilnError(() => new Tensor('float32', [Infinity]), 'INVALID_ARGUMENT', /dim 0 must be a non-negative integer, got number Infinity/);
    expectKilnError(() => new Tensor('float32', [2, 1.5]), 'INVALID_ARGUMENT', /dim 1 must be a non-negative integer, got number 1.5/);
    expectKilnError(() => new Tensor('float32', [NaN]), 'INVALID_ARGUMENT', /dim 0/);
    expectKilnError(() => new Tensor('float32', '3' as never), 'INVALID_ARGUMENT', /shape must be an array/);
    expectKilnError(() => new Tensor('float32', [1e10, 1e10]), 'INVALID_ARGUMENT', /more elements than can be counted/);
    expectKilnError(() => new Tensor('float32', [2 ** 33]), 'RESOURCE_EXHAUSTED', /cannot allocate 8589934592 float32 values/);
    expectKilnError(() => new Tensor('float32', [3], new Float32Array(2)), 'SHAPE_MISMATCH', /shape \[3\] needs 3 values, got 2/);
    expectKilnError(() => new Tensor('float32', [2], new Float32Array(3)), 'SHAPE_MISMATCH', /needs 2 values, got 3/);
    expectKilnError(() => new Tensor('float32', [2], new Float64Array(2) as never), 'DTYPE_MISMATCH', /needs a Float32Array, got Float64Array/);
    expectKilnError(() => new Tensor('float32', [2], [1, 2] as never), 'INVALID_ARGUMENT', /data must be a Float32Array .* got an array/);
  });

  it('tensor() refuses values that are not numbers or booleans, and typed arrays it cannot hold exactly', () => {
    expectKilnError(() => tensor([1, 'a'] as never), 'INVALID_ARGUMENT', /element \[1\] is the string "a"/);
    expectKilnError(
      () =>
        tensor([
          [1, 2],
          [3, {}],
        ] as never),
      'INVALID_ARGUMENT',
      /element \[1\]\[1\] is an object/,
    );
    expectKilnError(() => tensor('abc' as never), 'INVALID_ARGUMENT', /got the string "abc"/);
    expectKilnError(() => tensor([1n, 2n] as never), 'INVALID_ARGUMENT', /the bigint 1n/);
    expectKilnError(() => tensor(new BigInt64Array(2) as never), 'INVALID_ARGUMENT', /BigInt64Array holds 64-bit integers/);
    expectKilnError(() => tensor(new Float64Array([0.1]) as never), 'DTYPE_MISMATCH', /Float64Array cannot be stored exactly/);
    expectKilnError(() => tensor(new DataView(new ArrayBuffer(4)) as never), 'INVALID_ARGUMENT', /DataView has no element type/);
    expectKilnError(() => tensor([[1], [2, 3]]), 'SHAPE_MISMATCH', /ragged nested array: element \[1\]/);
    expectKilnError(() => tensor([1, 2], [3]), 'SHAPE_MISMATCH', /needs 3 values, got 2/);
    expectKilnError(() => tensor([1, 2], [-2]), 'INVALID_ARGUMENT', /dim 0 must be a non-negative integer/);
    // What is allowed still converts exactly.
    expect(tensor(new Int16Array([-3, 4])).toArray()).toEqual([-3, 4]);
    expect(tensor([[true, false]]).dtype).toBe('bool');
    expect(tensor(new Float32Array([0.5, 2]), [2, 1]).toArray()).toEqual([[0.5], [2]]);
  });

  it('nests at any depth without recursion (a 20,000-deep array is one element)', () => {
    let deep: unknown = 7;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const t = tensor(deep as never, [1]);
    expect(t.toFlat()).toEqual([7]);
  });

  it("a tensor's shape and data cannot be changed to disagree after construction", () => {
    const t = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(() => ((t.shape as number[])[0] = 5)).toThrow(TypeError);
    expect(() => ((t as { data: unknown }).data = new Float32Array(9))).toThrow(TypeError);
    expect(() => ((t as { dtype: unknown }).dtype = 'int32')).toThrow(TypeError);
    expect([t.shape, t.data.length, t.dtype]).toEqual([[2, 2], 4, 'float32']);
  });
});

describe('op arguments are tensors, numbers, booleans or arrays of them', () => {
  const g = new Graph();
  const x = g.placeholder('float32', [2], 'x');
  it('refuses strings, objects, bigints and undefined, naming the op and the argument', () => {
    expectKilnError(() => add(x, 'abc' as never), 'INVALID_ARGUMENT', /^add: argument 1 must be a tensor, a number, a boolean .* got the string "abc"/);
    expectKilnError(() => add(x, {} as never), 'INVALID_ARGUMENT', /^add: argument 1 .* got an object/);
    expectKilnError(() => add(x, 1n as never), 'INVALID_ARGUMENT', /^add: argument 1 .* got the bigint 1n/);
    expectKilnError(() => add([1, [2, 'q']] as never, x), 'INVALID_ARGUMENT', /^add: argument 0 .* an array holding the string "q"/);
    expectKilnError(() => matMul(x, undefined as never), 'INVALID_ARGUMENT', /matMul: argument 1 is undefined/);
    expectKilnError(() => g.constant('abc' as never), 'INVALID_ARGUMENT', /values must be numbers or booleans .* got the string "abc"/);
  });
  it('still takes numbers and arrays of them (hand-computed)', () => {
    const [v] = evaluate([add(add(x, [10, 20]), 0.5)], { x: tensor([1, 2]) });
    expect(v!.toFlat()).toEqual([11.5, 22.5]);
  });
});

describe('optimizer hyperparameters must be finite numbers', () => {
  it('refuses strings, overflowing and non-finite values, naming the optimizer and the argument', () => {
    expectKilnError(() => train.adam('abc' as never), 'INVALID_ARGUMENT', /^train\.adam: learningRate must be a finite number .* got the string "abc"/);
    expectKilnError(() => train.sgd('1e400' as never), 'INVALID_ARGUMENT', /^train\.sgd: learningRate .* got the string "1e400"/);
    expectKilnError(() => train.sgd(1e39), 'INVALID_ARGUMENT', /^train\.sgd: learningRate must be > 0, got 1e\+39/);
    expectKilnError(() => train.sgd(Infinity), 'INVALID_ARGUMENT', /learningRate must be > 0, got Infinity/);
    expectKilnError(() => train.momentum(0.1, null as never), 'INVALID_ARGUMENT', /^train\.momentum: momentum .* got null/);
    expectKilnError(() => train.adam(0.1, NaN), 'INVALID_ARGUMENT', /^train\.adam: beta1 must be >= 0 and <= 1, got NaN/);
    expectKilnError(() => train.rmsprop(0.1, 0.9, 0, {} as never), 'INVALID_ARGUMENT', /^train\.rmsprop: epsilon .* got an object/);
    expectKilnError(() => train.adagrad(0.1, '0.1' as never), 'INVALID_ARGUMENT', /^train\.adagrad: initialAccumulatorValue .* got the string "0.1"/);
    expect(train.sgd(0.5).learningRate).toBe(0.5);
  });
});

describe('sparseSoftmaxCrossEntropy with labels out of range', () => {
  const logits = [
    [1, 2, 3, 4, 0, 0, 0, 0, 0, 0],
    [0.5, -1, 0, 0, 0, 0, 0, 0, 0, 2],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [3, 1, 0, 0, 0, 0, 0, 0, 0, -2],
  ];
  const lse = (row: number[]) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
  function build() {
    const g = new Graph();
    const x = g.placeholder('float32', [4, 10], 'x');
    const y = g.placeholder('int32', [4], 'y');
    const w = g.variable(tensor(Array.from({ length: 10 }, () => 1)), 'w');
    const perExample = sparseSoftmaxCrossEntropy(y, add(x, w), null, Reduction.NONE);
    const step = train.adam(0.01).minimize(sparseSoftmaxCrossEntropy(y, add(x, w)));
    return { g, perExample, step };
  }
  const feeds = { x: tensor(logits), y: tensor([10, -1, 3, 100000], [4], 'int32') };

  it.each(['reference', 'cpu'] as const)('gives NaN rows (and only those) on %s, as TensorFlow on CPU', async (backend) => {
    const { g, perExample, step } = build();
    const s = await session(g, { backend });
    const [l] = await s.run([perExample], feeds);
    const got = l!.toFlat();
    expect(got.map(Number.isNaN)).toEqual([true, true, false, true]);
    expect(Math.abs(got[2]! - (lse(logits[2]!.map((v) => v + 1)) - 1))).toBeLessThan(1e-5);
    // A training step on a NaN loss propagates NaN into the weights, as any NaN gradient does.
    await s.run([step], feeds);
    const [w] = await s.run(['w']);
    expect(w!.toFlat().every(Number.isNaN)).toBe(true);
  });

  it.each(['reference', 'cpu'] as const)('is a NUMERIC_ERROR naming the label check with checkNumerics on %s', async (backend) => {
    const { g, perExample } = build();
    const s = await session(g, { backend, checkNumerics: true });
    const err = await s.run([perExample], feeds).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).code).toBe('NUMERIC_ERROR');
    expect((err as KilnError).message).toMatch(/sparseSoftmaxCrossEntropy_label_out_of_range/);
    // In-range labels are unaffected.
    const [ok] = await s.run([perExample], { x: feeds.x, y: tensor([0, 9, 3, 1], [4], 'int32') });
    const want = [0, 9, 3, 1].map((c, b) => lse(logits[b]!.map((v) => v + 1)) - (logits[b]![c]! + 1));
    ok!.toFlat().forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-5));
  });
});

describe("serializeGraph takes a session's variable values as they come (keyed by name)", () => {
  it('saves Session.variableValues() and names the variables when a key is wrong', async () => {
    const g = new Graph();
    const w = g.variable(tensor([1, 2]), 'w');
    const s = await session(g, { backend: 'reference' });
    await s.run([g.addNode('assign', [w, g.constant(tensor([5, -6]))], {}).output]);
    const saved = deserializeGraph(serializeGraph(g, { variables: s.variableValues() }));
    expect(evaluate([saved.tensorByName('w')], {})[0]!.toFlat()).toEqual([5, -6]);
    expectKilnError(
      () => serializeGraph(g, { variables: new Map([['v', tensor([0, 0])]]) }),
      'INVALID_ARGUMENT',
      /a value for 'v', which names no variable of this graph \(its variables: 'w'\)/,
    );
  });
});

describe('graphs cannot be built unserializable or cyclic', () => {
  it('refuses node names that serializeGraph cannot write', () => {
    const g = new Graph();
    expectKilnError(
      () => g.placeholder('float32', [2], ''),
      'INVALID_ARGUMENT',
      /placeholder: a node name must be a non-empty string not starting with '\^', got ''/,
    );
    expectKilnError(() => g.placeholder('float32', [2], '^q'), 'INVALID_ARGUMENT', /got '\^q'/);
    const x = g.placeholder('float32', [2], 'x');
    expectKilnError(() => g.addNode('neg', [x], {}, { name: '' }), 'INVALID_ARGUMENT', /neg: a node name must be/);
    expect(g.nodes.map((n) => n.name)).toEqual(['x']);
  });

  it('copies control inputs: mutating the array afterwards cannot make a cycle', async () => {
    const g = new Graph();
    const x = g.placeholder('float32', [2], 'x');
    const controls = [x.node];
    const a = g.addNode('neg', [x], {}, { name: 'a', controlInputs: controls });
    const b = g.addNode('neg', [a.output], {}, { name: 'b' });
    controls.push(b); // would make a depend on b, which depends on a
    expect(a.controlInputs.map((n) => n.name)).toEqual(['x']);
    expect(() => (a.controlInputs as unknown as unknown[]).push(b)).toThrow(TypeError);
    expect(() => (a.inputs as unknown as unknown[]).push(b.output)).toThrow(TypeError);
    expectKilnError(() => g.addNode('neg', [x], {}, { controlInputs: ['x'] as never }), 'INVALID_ARGUMENT', /control input must be a Node/);
    const [v] = evaluate([b.output], { x: tensor([1, -2]) });
    expect(v!.toFlat()).toEqual([1, -2]);
    expect(serializeGraph(g).length).toBeGreaterThan(0);
  });
});
