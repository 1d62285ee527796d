/**
 * Reference kernels and gradient rules of the reduce family, against hand-computed values and
 * central finite differences (tolerances: exact for integer results, 1e-6 absolute for float
 * values below, 1e-3 for gradients as documented in grad-fd.ts).
 */
import { describe, expect, it } from '@jest/globals';
import { Graph, KilnError, type SymbolicTensor, type Tensor, argMax, argMin, cumsum, max, mean, min, prod, sum, tensor, unsortedSegmentSum } from '@kiln/graph';
import { evaluate } from '@kiln/runtime-cpu';
import { getGradient, isNonDifferentiable } from '@kiln/compiler';
import { checkGrad, randn } from './grad-fd.js';

const X = [
  [1, 2, 3],
  [4, 5, 6],
];

function run(build: (g: Graph) => SymbolicTensor, feeds: Record<string, Tensor> = {}): Tensor {
  const g = new Graph();
  return evaluate([build(g)], feeds)[0]!;
}

describe('reduce kernels', () => {
  it('sum over all, one axis, negative axis, keepDims', () => {
    expect(run((g) => sum(g.constant(X))).toArray()).toBe(21);
    expect(run((g) => sum(g.constant(X), 0)).toArray()).toEqual([5, 7, 9]);
    expect(run((g) => sum(g.constant(X), -1, true)).toArray()).toEqual([[6], [15]]);
    expect(run((g) => sum(g.constant(X), [0, 1], true)).toArray()).toEqual([[21]]);
  });
  it('mean, max, min, prod', () => {
    expect(run((g) => mean(g.constant(X), 1)).toArray()).toEqual([2, 5]);
    expect(run((g) => max(g.constant(X), 0)).toArray()).toEqual([4, 5, 6]);
    expect(run((g) => min(g.constant(X), 1)).toArray()).toEqual([1, 4]);
    expect(run((g) => prod(g.constant(X), 1)).toArray()).toEqual([6, 120]);
  });
  it('mean of int32 truncates like TensorFlow', () => {
    const t = run((g) =>
      mean(
        g.constant(
          [
            [1, 2],
            [3, 6],
            [-1, -2],
          ],
          'int32',
        ),
        1,
      ),
    );
    expect(t.dtype).toBe('int32');
    expect(t.toArray()).toEqual([1, 4, -1]);
  });
  it('empty reductions give the identities (sum 0, prod 1, max -Inf, min +Inf)', () => {
    const feeds = { e: tensor(new Float32Array(0), [2, 0]) };
    const mk = (op: typeof sum) => run((g) => op(g.placeholder('float32', [2, 0], 'e'), 1), feeds).toArray();
    expect(mk(sum)).toEqual([0, 0]);
    expect(mk(prod)).toEqual([1, 1]);
    expect(mk(max)).toEqual([-Infinity, -Infinity]);
    expect(mk(min)).toEqual([Infinity, Infinity]);
    const ie = { e: tensor(new Int32Array(0), [0]) };
    expect(run((g) => max(g.placeholder('int32', [0], 'e')), ie).toArray()).toBe(-2147483648);
  });
  it('accumulates in float64: 1e8 + 1 - 1e8 style cancellation is not lost per step', () => {
    const vals = new Float32Array(1001).fill(1);
    vals[0] = 16777216; // 2^24: adding 1 in float32 would be lost
    const t = run((g) => sum(g.constant(tensor(vals))));
    expect(t.data[0]).toBe(Math.fround(16777216 + 1000));
  });
  it('NaN propagates through max', () => {
    expect(run((g) => max(g.constant([1, NaN, 3]))).toArray()).toBeNaN();
  });
  it('argMax/argMin take the first extreme on ties and return int32', () => {
    const t = run((g) =>
      argMax(
        g.constant([
          [1, 9, 9],
          [7, 2, 7],
        ]),
        1,
      ),
    );
    expect(t.dtype).toBe('int32');
    expect(t.toArray()).toEqual([1, 0]);
    expect(
      run((g) =>
        argMin(
          g.constant([
            [1, 9, 0],
            [7, 2, -7],
          ]),
        ),
      ).toArray(),
    ).toEqual([0, 1, 1]);
  });
  it('cumsum: inclusive, exclusive, reverse, along axis 1', () => {
    const c = (e: boolean, r: boolean) =>
      run((g) =>
        cumsum(
          g.constant([
            [1, 2, 3],
            [4, 5, 6],
          ]),
          1,
          e,
          r,
        ),
      ).toArray();
    expect(c(false, false)).toEqual([
      [1, 3, 6],
      [4, 9, 15],
    ]);
    expect(c(true, false)).toEqual([
      [0, 1, 3],
      [0, 4, 9],
    ]);
    expect(c(false, true)).toEqual([
      [6, 5, 3],
      [15, 11, 6],
    ]);
    expect(c(true, true)).toEqual([
      [5, 3, 0],
      [11, 6, 0],
    ]);
    expect(
      run((g) =>
        cumsum(
          g.constant([
            [1, 2],
            [3, 4],
          ]),
        ),
      ).toArray(),
    ).toEqual([
      [1, 2],
      [4, 6],
    ]);
  });
  it('unsortedSegmentSum adds rows per segment and drops negative ids', () => {
    const t = run((g) =>
      unsortedSegmentSum(
        g.constant([
          [1, 2],
          [3, 4],
          [5, 6],
          [7, 8],
        ]),
        [0, 2, 0, -1],
        3,
      ),
    );
    expect(t.toArray()).toEqual([
      [6, 8],
      [0, 0],
      [3, 4],
    ]);
    const m = run((g) =>
      unsortedSegmentSum(
        g.constant([
          [1, 2],
          [3, 4],
        ]),
        [
          [1, 0],
          [1, 1],
        ],
        2,
      ),
    );
    expect(m.toArray()).toEqual([2, 8]);
  });
  it('unsortedSegmentSum: an id >= numSegments is INVALID_ARGUMENT naming the node', () => {
    const g = new Graph();
    const y = unsortedSegmentSum(g.constant([1, 2]), [0, 5], 2);
    expect(() => evaluate([y])).toThrow(/unsortedSegmentSum 'unsortedSegmentSum': segment id 5 .* numSegments 2/);
    try {
      evaluate([y]);
    } catch (e) {
      expect((e as KilnError).code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('reduce gradients (central differences, tol 1e-3)', () => {
  const x = { value: randn([2, 3, 4]) };
  it('sum: all axes, some axes, keepDims, unknown dims (broadcastLike path)', () => {
    checkGrad([x], (a) => sum(a));
    checkGrad([x], (a) => sum(a, [0, 2]));
    checkGrad([x], (a) => sum(a, -1, true));
    checkGrad([{ value: x.value, shape: [null, 3, null] }], (a) => sum(a, 1));
  });
  it('mean: static count and run-time count for unknown reduced dims', () => {
    checkGrad([x], (a) => mean(a, [1, 2]));
    checkGrad([x], (a) => mean(a, 0, true));
    checkGrad([{ value: x.value, shape: [null, 3, 4] }], (a) => mean(a, [0, 2]));
    checkGrad([{ value: x.value, shape: [null, null, 4] }], (a) => mean(a));
  });
  it('max/min: gradient routed to the extreme element (ties share it equally, as TF)', () => {
    checkGrad([x], (a) => max(a, 1));
    checkGrad([x], (a) => min(a, [0, 2], true));
    // At a tie the central difference is itself the equal split: (+eps - 0) / 2eps = 1/2.
    checkGrad(
      [
        {
          value: tensor([
            [1, 3, 3],
            [2, 0, -1],
          ]),
        },
      ],
      (a) => max(a, 1),
      { eps: 1e-3 },
    );
  });
  it('max with ties: each tied element gets dy / (number of ties)', () => {
    const g = new Graph();
    const a = g.placeholder('float32', [3], 'a');
    const y = max(a);
    const dy = g.placeholder('float32', [], 'dy');
    const [dx] = getRule('max')([dy], { node: y.node, inputs: y.node.inputs, outputs: y.node.outputs, attrs: y.node.attrs });
    const v = evaluate([dx!], { a: tensor([5, 1, 5]), dy: tensor(6) })[0]!;
    expect(v.toArray()).toEqual([3, 0, 3]);
  });
  it('prod: correct for nonzero inputs (documented limitation at zeros)', () => {
    checkGrad([{ value: randn([2, 3], 3, 0.5, 1.5) }], (a) => prod(a, 1));
    checkGrad([{ value: randn([2, 3], 4, 0.5, 1.5) }], (a) => prod(a));
  });
  it('cumsum in all four modes', () => {
    for (const e of [false, true]) for (const r of [false, true]) checkGrad([x], (a) => cumsum(a, 1, e, r));
  });
  it('unsortedSegmentSum: gather of dy, zero for dropped ids; no gradient to ids', () => {
    const ids = { value: tensor([1, -1, 1, 0], [4], 'int32') };
    const [gd, gi] = checkGrad([{ value: randn([4, 2]) }, ids], (d, i) => unsortedSegmentSum(d, i, 3));
    expect(gi).toBeNull();
    expect(gd!.toFlat().slice(2, 4).map(Math.abs)).toEqual([0, 0]); // row of the dropped id -1
  });
  it('argMax/argMin are declared non-differentiable', () => {
    expect(isNonDifferentiable('argMax')).toBe(true);
    expect(isNonDifferentiable('argMin')).toBe(true);
  });
});

function getRule(op: string) {
  const r = getGradient(op);
  if (!r) throw new Error(`no rule for ${op}`);
  return r;
}
