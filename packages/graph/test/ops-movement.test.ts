/** Movement family: attrs as stored, shape inference with unknown dims, every error path. */
import { describe, expect, it } from '@jest/globals';
import {
  Graph,
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
  tile,
  transpose,
} from '@kiln/graph';
import { kilnErrorText } from '../../../tests/helpers/kiln-error.js';

describe('reshape', () => {
  const g = new Graph();
  const img = g.placeholder('float32', [null, 28, 28, 1], 'img');
  it('infers -1, keeps -1 in the attr, carries a null batch', () => {
    const y = reshape(img, [-1, 784]);
    expect(y.shape).toEqual([null, 784]);
    expect(y.node.attrs).toEqual({ shape: [-1, 784] });
    expect(reshape(g.placeholder('float32', [2, 3]), [3, -1]).shape).toEqual([3, 2]);
    expect(reshape(g.placeholder('float32', [2, null]), [4, 5]).shape).toEqual([4, 5]);
  });
  it('size mismatch shows both shapes', () => {
    expect(kilnErrorText(() => reshape(g.placeholder('float32', [2, 3], 'a'), [4, 2]))).toBe(
      "SHAPE_MISMATCH: reshape 'reshape_3': cannot reshape [2,3] (6 elements) into [4,2] (8 elements)",
    );
    expect(kilnErrorText(() => reshape(g.placeholder('float32', [2, 3]), [4, -1]))).toMatch(
      /^SHAPE_MISMATCH: reshape '.*': cannot reshape \[2,3\] \(6 elements\) into \[4,-1\]$/,
    );
    expect(kilnErrorText(() => reshape(img, [100]))).toMatch(
      /^SHAPE_MISMATCH: reshape '.*': cannot reshape \[\?,28,28,1\] \(a multiple of 784 elements\) into \[100\] \(100 elements\)$/,
    );
  });
  it('invalid targets: two -1, a dim below -1, -1 next to 0', () => {
    expect(kilnErrorText(() => reshape(img, [-1, -1]))).toMatch(
      /^INVALID_ATTR: reshape '.*': shape may hold non-negative dims and at most one -1, got \[-1,-1\]$/,
    );
    expect(kilnErrorText(() => reshape(img, [-2, 8]))).toMatch(/^INVALID_ATTR: .*got \[-2,8\]$/);
    expect(kilnErrorText(() => reshape(img, [0, -1]))).toMatch(/^INVALID_ATTR: reshape '.*': cannot infer the -1 dim of \[0,-1\] next to a zero-sized dim$/);
  });
});

describe('transpose / expandDims / squeeze', () => {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 3, 4], 'x');
  it('transpose: default reverse, explicit perm, bad perm', () => {
    expect(transpose(x).shape).toEqual([4, 3, null]);
    expect(transpose(x).node.attrs).toEqual({ perm: [2, 1, 0] });
    expect(transpose(x, [0, 2, 1]).shape).toEqual([null, 4, 3]);
    expect(kilnErrorText(() => transpose(x, [0, 0, 1]))).toMatch(
      /^INVALID_ATTR: transpose '.*': perm must be a permutation of 0\.\.2 \(x: \[\?,3,4\]\), got \[0,0,1\]$/,
    );
    expect(kilnErrorText(() => transpose(x, [1, 0]))).toMatch(/^INVALID_ATTR: .*got \[1,0\]$/);
  });
  it('expandDims at 0, at the end, negative; out of range', () => {
    expect(expandDims(x).shape).toEqual([1, null, 3, 4]);
    expect(expandDims(x, 3).shape).toEqual([null, 3, 4, 1]);
    expect(expandDims(x, -1).shape).toEqual([null, 3, 4, 1]);
    expect(kilnErrorText(() => expandDims(x, 4))).toMatch(/^INVALID_ATTR: expandDims '.*': axis 4 is out of range for rank 4/);
  });
  it('squeeze: all, listed axes (null allowed), errors', () => {
    const y = g.placeholder('float32', [1, 3, 1], 'y');
    expect(squeeze(y).shape).toEqual([3]);
    expect(squeeze(y, [-1]).shape).toEqual([1, 3]);
    expect(squeeze(x, [0]).shape).toEqual([3, 4]);
    expect(kilnErrorText(() => squeeze(y, [1]))).toMatch(/^SHAPE_MISMATCH: squeeze '.*': cannot squeeze axis 1 of size 3 \(expected 1; x: \[1,3,1\]\)$/);
    expect(kilnErrorText(() => squeeze(x))).toMatch(
      /^INVALID_ARGUMENT: squeeze '.*': x \[\?,3,4\] has unknown dims, so which dims are 1 is not known; pass axis explicitly$/,
    );
    expect(kilnErrorText(() => squeeze(y, [0, 0]))).toMatch(/^INVALID_ATTR: squeeze '.*': repeated axis/);
  });
});

describe('concat / stack / split', () => {
  const g = new Graph();
  const a = g.placeholder('float32', [null, 3], 'a');
  const b = g.placeholder('float32', [2, 5], 'b');
  it('concat merges nulls outside the axis and sums along it', () => {
    expect(concat([a, g.placeholder('float32', [2, 3])]).shape).toEqual([null, 3]);
    expect(concat([a, b], 1).shape).toEqual([2, 8]);
    expect(concat([b, b], -2).shape).toEqual([4, 5]);
    expect(concat([b]).shape).toEqual([2, 5]);
  });
  it('concat errors', () => {
    expect(kilnErrorText(() => concat([b, g.placeholder('float32', [3, 4])], 1))).toMatch(
      /^SHAPE_MISMATCH: concat '.*': dim 0 must agree outside axis 1; tensor 0 is \[2,5\], tensor 1 is \[3,4\]$/,
    );
    expect(kilnErrorText(() => concat([b, g.placeholder('int32', [2, 5])]))).toMatch(/^DTYPE_MISMATCH: concat '.*': .*tensor 0 is float32, tensor 1 is int32$/);
    expect(kilnErrorText(() => concat([b, g.placeholder('float32', [2])]))).toMatch(/^SHAPE_MISMATCH: concat '.*': all tensors must have the same rank/);
    expect(kilnErrorText(() => concat([g.placeholder('float32', [])]))).toMatch(/^INVALID_ARGUMENT: concat '.*': cannot concat scalars/);
    expect(kilnErrorText(() => concat([]))).toBe('INVALID_ARGUMENT: concat: expects a non-empty list of tensors');
    expect(kilnErrorText(() => concat([b], 2))).toMatch(/^INVALID_ATTR: concat '.*': axis 2 is out of range/);
  });
  it('stack inserts the count; errors', () => {
    expect(stack([a, a, a]).shape).toEqual([3, null, 3]);
    expect(stack([a, g.placeholder('float32', [4, 3])], -1).shape).toEqual([4, 3, 2]);
    expect(kilnErrorText(() => stack([a, g.placeholder('float32', [4, 2])]))).toMatch(
      /^SHAPE_MISMATCH: stack '.*': all tensors must have the same shape; tensor 0 is \[\?,3\], tensor 1 is \[4,2\]$/,
    );
    expect(kilnErrorText(() => stack([]))).toBe('INVALID_ARGUMENT: stack: expects a non-empty list of tensors');
  });
  it('split: equal parts, sizes with -1, unknown dims', () => {
    expect(split(b, [1, -1, 2], 1).map((t) => t.shape)).toEqual([
      [2, 1],
      [2, 2],
      [2, 2],
    ]);
    expect(split(b, 2).map((t) => t.shape)).toEqual([
      [1, 5],
      [1, 5],
    ]);
    expect(split(a, 2).map((t) => t.shape)).toEqual([
      [null, 3],
      [null, 3],
    ]);
    expect(split(a, [1, -1]).map((t) => t.shape)).toEqual([
      [1, 3],
      [null, 3],
    ]);
    const parts = split(b, 5, 1);
    expect(parts.map((p) => p.name)).toEqual(['split_4', 'split_4:1', 'split_4:2', 'split_4:3', 'split_4:4']);
  });
  it('split errors', () => {
    expect(kilnErrorText(() => split(b, 3, 1))).toMatch(/^SHAPE_MISMATCH: split '.*': cannot split a dim of size 5 into 3 equal parts \(x: \[2,5\]\)$/);
    expect(kilnErrorText(() => split(b, [2, 2], 1))).toMatch(
      /^SHAPE_MISMATCH: split '.*': sizes \[2,2\] must sum to 5 \(the split dim of x: \[2,5\]\), got 4$/,
    );
    expect(kilnErrorText(() => split(b, [4, 3, -1], 1))).toMatch(/must sum to 5 .*got 7 before the -1$/);
    expect(kilnErrorText(() => split(b, [-1, -1], 1))).toMatch(
      /^INVALID_ATTR: split '.*': sizes may hold non-negative sizes and at most one -1, got \[-1,-1\]$/,
    );
    expect(kilnErrorText(() => split(b, 0))).toBe('INVALID_ARGUMENT: split: numOrSizeSplits must be > 0, got 0');
    expect(kilnErrorText(() => split(g.placeholder('float32', []), 1))).toMatch(/^INVALID_ARGUMENT: split '.*': cannot split a scalar$/);
  });
});

describe('slice / gather / oneHot', () => {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 4, 6], 'x');
  it('slice: begin as number or prefix, size -1, unknown dims', () => {
    const y = slice(x, 1);
    expect(y.node.attrs).toEqual({ begin: [1, 0, 0], size: [-1, -1, -1] });
    expect(y.shape).toEqual([null, 4, 6]);
    expect(slice(x, [0, 1, 2], [-1, 2, 3]).shape).toEqual([null, 2, 3]);
    expect(slice(x, [0, 1], 2).shape).toEqual([2, 3, 6]);
  });
  it('slice errors: out of bounds, wrong rank', () => {
    expect(kilnErrorText(() => slice(x, [0, 3], [-1, 2]))).toMatch(
      /^INVALID_ATTR: slice '.*': slice begin \[0,3,0\] size \[-1,2,-1\] is out of bounds for x \[\?,4,6\] at dim 1 \(need 0 <= begin <= begin \+ size <= 4\)$/,
    );
    expect(kilnErrorText(() => slice(x, [0, 0, 7]))).toMatch(/out of bounds .* at dim 2/);
    expect(kilnErrorText(() => slice(x, [-1]))).toMatch(/out of bounds .* at dim 0 \(need 0 <= begin <= begin \+ size <= \?\)$/);
    expect(kilnErrorText(() => slice(x, [0, 0, 0, 0]))).toMatch(
      /^INVALID_ATTR: slice '.*': begin must have 3 entries \(one per dim of x: \[\?,4,6\]\), got \[0,0,0,0\]$/,
    );
  });
  it('gather shapes: axis, multi-dim indices, batchDims; literal indices become int32', () => {
    const i = g.placeholder('int32', [null, 5], 'i');
    expect(gather(x, i).shape).toEqual([null, 5, 4, 6]);
    expect(gather(x, i, 2).shape).toEqual([null, 4, null, 5]);
    expect(gather(x, [1, 2], -2).shape).toEqual([null, 2, 6]);
    expect(gather(x, i, 2, 1).shape).toEqual([null, 4, 5]);
    expect(gather(x, [0, 1]).node.inputs[1]!.dtype).toBe('int32');
  });
  it('gather errors', () => {
    const i = g.placeholder('int32', [3, 5], 'j');
    expect(kilnErrorText(() => gather(x, g.placeholder('float32', [2])))).toMatch(/^DTYPE_MISMATCH: gather '.*': indices must be int32, got float32$/);
    expect(kilnErrorText(() => gather(x, i, 1, 2))).toMatch(/^INVALID_ATTR: gather '.*': axis \(1\) must be >= batchDims \(2\)$/);
    expect(kilnErrorText(() => gather(x, i, 1, 3))).toMatch(/^INVALID_ATTR: gather '.*': batchDims 3 is out of range for indices \[3,5\]$/);
    expect(kilnErrorText(() => gather(x, i, 2, 2))).toMatch(/^SHAPE_MISMATCH: gather '.*': batch dim 1 differs \(x: \[\?,4,6\], indices: \[3,5\]\)$/);
    expect(kilnErrorText(() => gather(x, i, 3))).toMatch(/^INVALID_ATTR: gather '.*': axis 3 is out of range/);
    expect(kilnErrorText(() => gather(g.placeholder('float32', []), [0]))).toMatch(/x must have rank >= 1, got a scalar/);
  });
  it('oneHot: int32 by default (TF.js), depth appended, errors', () => {
    const idx = g.placeholder('int32', [null], 'idx');
    const y = oneHot(idx, 10);
    expect(y.dtype).toBe('int32');
    expect(y.shape).toEqual([null, 10]);
    expect(y.node.attrs).toEqual({ depth: 10, onValue: 1, offValue: 0, dtype: 'int32' });
    expect(oneHot(idx, 3, 1, 0, 'float32').dtype).toBe('float32');
    expect(kilnErrorText(() => oneHot(idx, -1))).toMatch(/^INVALID_ATTR: oneHot '.*': depth must be >= 0, got -1$/);
    expect(kilnErrorText(() => oneHot(x, 3))).toMatch(/^DTYPE_MISMATCH: oneHot '.*': indices must be int32, got float32$/);
  });
});

describe('pad / tile / broadcastTo / broadcastLike', () => {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 3], 'x');
  it('pad stores flat paddings and adds them to known dims', () => {
    const y = pad(
      x,
      [
        [1, 2],
        [0, 4],
      ],
      5,
    );
    expect(y.shape).toEqual([null, 7]);
    expect(y.node.attrs).toEqual({ paddings: [1, 2, 0, 4], constantValue: 5 });
    expect(kilnErrorText(() => pad(x, [[1, 1]]))).toMatch(/^INVALID_ATTR: pad '.*': paddings must have 4 entries \(2 per dim of x: \[\?,3\]\), got \[1,1\]$/);
    expect(
      kilnErrorText(() =>
        pad(x, [
          [1, 1],
          [-1, 0],
        ]),
      ),
    ).toMatch(/^INVALID_ATTR: pad '.*': paddings must be >= 0, got \[1,1,-1,0\]$/);
    expect(kilnErrorText(() => pad(x, [[1, 1, 1]]))).toBe('INVALID_ARGUMENT: pad: each padding must be [before, after], got [1,1,1]');
  });
  it('tile multiplies dims (0 reps give 0 even for unknown dims)', () => {
    expect(tile(x, [2, 3]).shape).toEqual([null, 9]);
    expect(tile(x, [0, 1]).shape).toEqual([0, 3]);
    expect(kilnErrorText(() => tile(x, [2]))).toMatch(/^INVALID_ATTR: tile '.*': reps must have 2 entries/);
    expect(kilnErrorText(() => tile(x, [1, -2]))).toMatch(/^INVALID_ATTR: tile '.*': reps must be >= 0, got \[1,-2\]$/);
  });
  it('broadcastTo: NumPy rules one way; unknown target dims rejected', () => {
    const c = g.placeholder('float32', [3, 1], 'c');
    expect(broadcastTo(c, [2, 3, 4]).shape).toEqual([2, 3, 4]);
    expect(broadcastTo(x, [5, 3]).shape).toEqual([5, 3]);
    expect(kilnErrorText(() => broadcastTo(c, [2, 4, 4]))).toMatch(/^SHAPE_MISMATCH: broadcastTo '.*': x \[3,1\] cannot be broadcast to shape \[2,4,4\]$/);
    expect(kilnErrorText(() => broadcastTo(c, [3]))).toMatch(/^SHAPE_MISMATCH: broadcastTo '.*': x \[3,1\] cannot be broadcast to shape \[3\]$/);
    expect(kilnErrorText(() => broadcastTo(c, [-1, 1]))).toMatch(/^INVALID_ATTR: broadcastTo '.*': attr 'shape' expects a shape/);
  });
  it('broadcastLike follows like, including its unknown dims', () => {
    const like = g.placeholder('float32', [null, 2, 3], 'like');
    expect(broadcastLike(g.constant(1), like).shape).toEqual([null, 2, 3]);
    expect(broadcastLike(x, g.placeholder('bool', [4, null, null])).shape).toEqual([4, null, 3]);
    expect(broadcastLike(x, like.graph.placeholder('float32', [null, 3])).dtype).toBe('float32');
    expect(broadcastLike(x, like).shape).toEqual([null, 2, 3]); // x's null may be 2 at run time
    const wrong = g.placeholder('float32', [null, 3, 2]);
    expect(kilnErrorText(() => broadcastLike(x, wrong))).toMatch(/^SHAPE_MISMATCH: broadcastLike '.*': x \[\?,3\] cannot be broadcast to like \[\?,3,2\]$/);
  });
});
