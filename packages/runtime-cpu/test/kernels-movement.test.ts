/**
 * Reference kernels and gradient rules of the movement family: hand-computed values (exact:
 * movement does no arithmetic) and central finite differences (tol 1e-3, see grad-fd.ts).
 */
import { describe, expect, it } from '@jest/globals';
import {
  Graph,
  type SymbolicTensor,
  type Tensor,
  broadcastLike,
  broadcastTo,
  concat,
  expandDims,
  gather,
  oneHot,
  pad,
  reshape,
  slice,
  split,
  squeeze,
  stack,
  tensor,
  tile,
  transpose,
} from '@kiln/graph';
import { evaluate } from '@kiln/runtime-cpu';
import { isNonDifferentiable } from '@kiln/compiler';
import { checkGrad, randn } from './grad-fd.js';
import { kilnErrorText } from '../../../tests/helpers/kiln-error.js';

const X = [
  [1, 2, 3],
  [4, 5, 6],
];

function run(build: (g: Graph) => SymbolicTensor, feeds: Record<string, Tensor> = {}): Tensor {
  const g = new Graph();
  return evaluate([build(g)], feeds)[0]!;
}

describe('movement kernels', () => {
  it('reshape resolves -1 at run time (null batch)', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 2, 2, 1], 'x');
    const y = reshape(x, [-1, 4]);
    const v = evaluate([y], { x: tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 1]) })[0]!;
    expect(v.toArray()).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    const bad = reshape(g.placeholder('float32', [null, 3], 'z'), [-1, 2]);
    expect(kilnErrorText(() => evaluate([bad], { z: tensor([1, 2, 3], [1, 3]) }))).toMatch(
      /^SHAPE_MISMATCH: reshape 'reshape_1': cannot reshape \[1,3\] \(3 elements\) into \[-1,2\]/,
    );
  });
  it('transpose: default reverses, explicit perm on rank 3', () => {
    expect(run((g) => transpose(g.constant(X))).toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    const t = run((g) =>
      transpose(
        g.constant([
          [
            [1, 2],
            [3, 4],
          ],
          [
            [5, 6],
            [7, 8],
          ],
        ]),
        [1, 2, 0],
      ),
    );
    expect(t.toArray()).toEqual([
      [
        [1, 5],
        [2, 6],
      ],
      [
        [3, 7],
        [4, 8],
      ],
    ]);
  });
  it('expandDims / squeeze', () => {
    expect(run((g) => expandDims(g.constant([1, 2]), 1)).toArray()).toEqual([[1], [2]]);
    expect(run((g) => expandDims(g.constant([1, 2]), -1)).shape).toEqual([2, 1]);
    expect(run((g) => squeeze(g.constant([[[1], [2]]]))).toArray()).toEqual([1, 2]);
    expect(run((g) => squeeze(g.constant([[[1], [2]]]), [2])).shape).toEqual([1, 2]);
  });
  it('squeeze of a null dim that is not 1 at run time is INVALID_ARGUMENT', () => {
    const g = new Graph();
    const y = squeeze(g.placeholder('float32', [null, 2], 'x'), [0]);
    expect(kilnErrorText(() => evaluate([y], { x: tensor([1, 2, 3, 4], [2, 2]) }))).toMatch(
      /^INVALID_ARGUMENT: squeeze 'squeeze': cannot squeeze axis 0 of size 2/,
    );
  });
  it('concat along axes 0 and 1 (variadic), stack along a new axis', () => {
    expect(run((g) => concat([g.constant(X), g.constant([[7, 8, 9]])])).toArray()).toEqual([...X, [7, 8, 9]]);
    expect(run((g) => concat([g.constant(X), g.constant([[0], [0]])], 1)).toArray()).toEqual([
      [1, 2, 3, 0],
      [4, 5, 6, 0],
    ]);
    expect(run((g) => stack([g.constant([1, 2]), g.constant([3, 4])])).toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(run((g) => stack([g.constant([1, 2]), g.constant([3, 4])], 1)).toArray()).toEqual([
      [1, 3],
      [2, 4],
    ]);
  });
  it('split into equal parts and into sizes with -1', () => {
    const g = new Graph();
    const x = g.constant([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    const parts = evaluate(split(x, 2, 1));
    expect(parts.map((p) => p.toArray())).toEqual([
      [
        [1, 2],
        [5, 6],
      ],
      [
        [3, 4],
        [7, 8],
      ],
    ]);
    const sized = evaluate(split(x, [1, -1], 1));
    expect(sized.map((p) => p.toArray())).toEqual([
      [[1], [5]],
      [
        [2, 3, 4],
        [6, 7, 8],
      ],
    ]);
  });
  it('slice with begin as a number, size -1 and explicit sizes', () => {
    expect(run((g) => slice(g.constant(X), [0, 1], [2, 2])).toArray()).toEqual([
      [2, 3],
      [5, 6],
    ]);
    expect(run((g) => slice(g.constant(X), 1)).toArray()).toEqual([[4, 5, 6]]);
    expect(run((g) => slice(g.constant(X), [0, 2], [-1, 1])).toArray()).toEqual([[3], [6]]);
  });
  it('gather on axis 0, axis 1, with 2-D indices and batchDims', () => {
    expect(run((g) => gather(g.constant(X), [1, 0, 1])).toArray()).toEqual([X[1], X[0], X[1]]);
    expect(run((g) => gather(g.constant(X), [2, 0], 1)).toArray()).toEqual([
      [3, 1],
      [6, 4],
    ]);
    expect(
      run((g) =>
        gather(g.constant([10, 20, 30]), [
          [0, 2],
          [1, 1],
        ]),
      ).toArray(),
    ).toEqual([
      [10, 30],
      [20, 20],
    ]);
    expect(run((g) => gather(g.constant(X), [[2], [0]], 1, 1)).toArray()).toEqual([[3], [4]]);
  });
  it('gather: an out-of-range index is INVALID_ARGUMENT naming the node (TF CPU errors too)', () => {
    const g = new Graph();
    const y = gather(g.constant(X), [0, 2]);
    expect(kilnErrorText(() => evaluate([y]))).toMatch(/^INVALID_ARGUMENT: gather 'gather': index 2 .* out of range \[0, 2\)/);
    const neg = gather(g.constant(X), [-1]);
    expect(kilnErrorText(() => evaluate([neg]))).toMatch(/^INVALID_ARGUMENT: gather 'gather_1': index -1/);
  });
  it('oneHot: int32 by default, custom values, out-of-range rows are all off', () => {
    const g = new Graph();
    const i = g.constant([0, 2, 5], 'int32');
    const [a, b] = evaluate([oneHot(i, 3), oneHot(i, 3, 5, -1, 'float32')]);
    expect(a!.dtype).toBe('int32');
    expect(a!.toArray()).toEqual([
      [1, 0, 0],
      [0, 0, 1],
      [0, 0, 0],
    ]);
    expect(b!.toArray()).toEqual([
      [5, -1, -1],
      [-1, -1, 5],
      [-1, -1, -1],
    ]);
  });
  it('pad with a constant value', () => {
    expect(
      run((g) =>
        pad(
          g.constant([[1, 2]]),
          [
            [1, 0],
            [0, 2],
          ],
          9,
        ),
      ).toArray(),
    ).toEqual([
      [9, 9, 9, 9],
      [1, 2, 9, 9],
    ]);
  });
  it('tile', () => {
    expect(run((g) => tile(g.constant([[1, 2]]), [2, 2])).toArray()).toEqual([
      [1, 2, 1, 2],
      [1, 2, 1, 2],
    ]);
  });
  it('broadcastTo and broadcastLike (run-time shape)', () => {
    expect(run((g) => broadcastTo(g.constant([1, 2]), [2, 2])).toArray()).toEqual([
      [1, 2],
      [1, 2],
    ]);
    const g = new Graph();
    const like = g.placeholder('float32', [null, 2], 'like');
    const y = broadcastLike(g.constant([[3], [4]]), like);
    expect(y.shape).toEqual([2, 2]);
    const v = evaluate([broadcastLike(g.constant(7), like)], {
      like: tensor([
        [0, 0],
        [0, 0],
        [0, 0],
      ]),
    })[0]!;
    expect(v.toArray()).toEqual([
      [7, 7],
      [7, 7],
      [7, 7],
    ]);
    const bad = broadcastLike(g.constant([1, 2, 3]), g.placeholder('float32', [null, null], 'like2'));
    expect(kilnErrorText(() => evaluate([bad], { like2: tensor([[0, 0]]) }))).toMatch(
      /^SHAPE_MISMATCH: broadcastLike 'broadcastLike_2': x \[3\] cannot be broadcast to \[1,2\]/,
    );
  });
});

describe('movement gradients (central differences, tol 1e-3)', () => {
  const x = { value: randn([2, 3, 4]) };
  it('reshape, also with a null batch dim', () => {
    checkGrad([x], (a) => reshape(a, [6, -1]));
    checkGrad([{ value: x.value, shape: [null, 3, 4] }], (a) => reshape(a, [-1, 12]));
  });
  it('transpose, expandDims, squeeze', () => {
    checkGrad([x], (a) => transpose(a, [2, 0, 1]));
    checkGrad([x], (a) => expandDims(a, -1));
    checkGrad([{ value: randn([2, 1, 3]) }], (a) => squeeze(a));
    checkGrad([{ value: randn([2, 1, 3]), shape: [null, 1, 3] }], (a) => squeeze(a, [1]));
  });
  it('concat (one unknown size along the axis) and stack', () => {
    checkGrad([x, { value: randn([2, 1, 4], 3) }], (a, b) => concat([a, b], 1));
    checkGrad([{ value: randn([2, 3]), shape: [null, 3] }, { value: randn([1, 3], 5) }], (a, b) => concat([a, b], 0));
    checkGrad([{ value: randn([2, 3]) }, { value: randn([2, 3], 5) }], (a, b) => stack([a, b], 1));
  });
  it('split, including an unused output (zeros fill in)', () => {
    checkGrad([x], (a) => split(a, [1, -1, 2], 2)[0]!);
    checkGrad([x], (a) => split(a, 3, 1)[0]!, { nullDys: [1] });
    checkGrad([{ value: x.value, shape: [null, 3, 4] }], (a) => split(a, 2, 2)[0]!, { nullDys: [0] });
  });
  it('slice and pad (also with unknown dims)', () => {
    checkGrad([x], (a) => slice(a, [1, 0, 1], [1, 2, -1]));
    checkGrad([{ value: x.value, shape: [null, 3, 4] }], (a) => slice(a, [0, 1, 1], [-1, 2, 2]));
    checkGrad([x], (a) =>
      pad(
        a,
        [
          [0, 1],
          [2, 0],
          [1, 1],
        ],
        3,
      ),
    );
    checkGrad([{ value: x.value, shape: [null, 3, null] }], (a) =>
      pad(a, [
        [1, 2],
        [0, 1],
        [0, 3],
      ]),
    );
  });
  it('tile, broadcastTo, broadcastLike', () => {
    checkGrad([{ value: randn([2, 3]) }], (a) => tile(a, [2, 3]));
    checkGrad([{ value: randn([2, 3]), shape: [null, 3] }], (a) => tile(a, [1, 2]));
    checkGrad([{ value: randn([3, 1]) }], (a) => broadcastTo(a, [2, 3, 4]));
    checkGrad([{ value: randn([3, 1]) }, { value: randn([2, 3, 4]), shape: [null, 3, 4] }], (a, l) => broadcastLike(a, l), {
      noGrad: [1],
    });
  });
  it('gather on axis 0 and 1 with repeated indices (scatter-add); no gradient to indices', () => {
    const idx = {
      value: tensor(
        [
          [2, 0],
          [2, 2],
        ],
        [2, 2],
        'int32',
      ),
    };
    const [dx, di] = checkGrad([x, idx], (a, i) => gather(a, i, 1));
    expect(di).toBeNull();
    expect(dx!.shape).toEqual([2, 3, 4]);
    checkGrad([x, { value: tensor([1, 1, 0], [3], 'int32') }], (a, i) => gather(a, i, 0));
    checkGrad([x, { value: tensor([3], [], 'int32') }], (a, i) => gather(a, i, 2));
  });
  it('unsupported gradient cases raise UNSUPPORTED naming the node', () => {
    expect(kilnErrorText(() => checkGrad([{ value: randn([2, 3]), shape: [null, null] }], (a) => reshape(a, [-1])))).toMatch(
      /^UNSUPPORTED: reshape 'reshape': cannot build the gradient: reshaping back to \[\?,\?\]/,
    );
    const b = { value: tensor([[0], [1]], [2, 1], 'int32') };
    expect(kilnErrorText(() => checkGrad([{ value: randn([2, 2, 3]) }, b], (a, i) => gather(a, i, 2, 1)))).toMatch(
      /^UNSUPPORTED: gather 'gather'.*batchDims 1 with axis 2/,
    );
    // axis == batchDims is supported: checked against central differences.
    checkGrad([{ value: randn([2, 3]) }, b], (a, i) => gather(a, i, 1, 1));
  });
  it('oneHot is declared non-differentiable', () => {
    expect(isNonDifferentiable('oneHot')).toBe(true);
  });
});
