/** Reduce family: attrs as stored, dtype/shape inference with unknown dims, every error path. */
import { describe, expect, it } from '@jest/globals';
import { Graph, argMax, argMin, cumsum, getOp, max, mean, min, prod, sum, unsortedSegmentSum } from '@kiln/graph';
import { kilnErrorText } from '../../../tests/helpers/kiln-error.js';

describe('reductions: inference', () => {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 3, 4], 'x');
  it('undefined axis reduces everything and is stored as the explicit list', () => {
    const y = sum(x);
    expect(y.shape).toEqual([]);
    expect(y.node.attrs).toEqual({ axis: [0, 1, 2], keepDims: false });
    expect(sum(x, undefined, true).shape).toEqual([1, 1, 1]);
  });
  it('a number, a list, negative axes; null dims carried through', () => {
    expect(mean(x, 1).shape).toEqual([null, 4]);
    expect(max(x, [-1, 0]).shape).toEqual([3]);
    expect(min(x, -1, true).shape).toEqual([null, 3, 1]);
    expect(prod(x, [1, 2]).shape).toEqual([null]);
  });
  it('keeps the dtype (int32 stays int32, also for mean)', () => {
    const i = g.placeholder('int32', [2, 3]);
    expect(mean(i, 0).dtype).toBe('int32');
    expect(sum(i).dtype).toBe('int32');
  });
  it('rejects bool with DTYPE_MISMATCH', () => {
    const b = g.placeholder('bool', [2]);
    expect(kilnErrorText(() => sum(b))).toMatch(/^DTYPE_MISMATCH: sum 'sum_\d+': x must be float32 or int32, got bool \(use cast\(\)\)$/);
  });
  it('rejects out-of-range and repeated axes with INVALID_ATTR', () => {
    expect(kilnErrorText(() => sum(x, 3))).toMatch(/^INVALID_ATTR: sum 'sum_\d+': axis 3 is out of range for rank 3 \(expected -3\.\.2\)$/);
    expect(kilnErrorText(() => mean(x, [1, -2]))).toMatch(/^INVALID_ATTR: mean 'mean_\d+': repeated axis in \[1,-2\]$/);
  });
  it('every reduction op is registered with the same attrs', () => {
    for (const op of ['sum', 'mean', 'max', 'min', 'prod']) expect(Object.keys(getOp(op).attrs)).toEqual(['axis', 'keepDims']);
  });
});

describe('argMax / argMin / cumsum: inference', () => {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 5], 'x');
  it('argMax/argMin give int32 without the axis (default 0)', () => {
    const a = argMax(x, 1);
    expect(a.dtype).toBe('int32');
    expect(a.shape).toEqual([null]);
    expect(argMin(x).shape).toEqual([5]);
    expect(argMax(x, -1).node.attrs).toEqual({ axis: -1 });
  });
  it('argMax errors: scalar, empty axis, axis out of range', () => {
    expect(kilnErrorText(() => argMax(g.placeholder('float32', [])))).toBe("INVALID_ARGUMENT: argMax 'argMax_2': x must have rank >= 1, got a scalar");
    expect(kilnErrorText(() => argMin(g.placeholder('float32', [2, 0]), 1))).toBe(
      "INVALID_ARGUMENT: argMin 'argMin_1': cannot take argMin over an empty axis 1 (x: [2,0])",
    );
    expect(kilnErrorText(() => argMax(x, 2))).toMatch(/^INVALID_ATTR: argMax 'argMax_\d+': axis 2 is out of range for rank 2/);
  });
  it('cumsum keeps shape and dtype; stores TF.js defaults', () => {
    const c = cumsum(x, 1, true);
    expect(c.shape).toEqual([null, 5]);
    expect(c.node.attrs).toEqual({ axis: 1, exclusive: true, reverse: false });
    expect(kilnErrorText(() => cumsum(g.placeholder('float32', [])))).toMatch(/^INVALID_ARGUMENT: cumsum 'cumsum_\d+': x must have rank >= 1, got a scalar$/);
    expect(kilnErrorText(() => cumsum(x, -3))).toMatch(/^INVALID_ATTR: cumsum 'cumsum_\d+': axis -3 is out of range for rank 2/);
  });
});

describe('unsortedSegmentSum: inference', () => {
  const g = new Graph();
  const data = g.placeholder('float32', [null, 4, 2], 'data');
  it('replaces the segmentIds prefix by numSegments', () => {
    expect(unsortedSegmentSum(data, g.placeholder('int32', [null]), 7).shape).toEqual([7, 4, 2]);
    expect(unsortedSegmentSum(data, g.placeholder('int32', [3, 4]), 2).shape).toEqual([2, 2]);
    expect(unsortedSegmentSum(data, [0, 1, 1], 2).node.inputs[1]!.dtype).toBe('int32');
  });
  it('errors: ids not a prefix, float ids, negative numSegments', () => {
    expect(kilnErrorText(() => unsortedSegmentSum(data, g.placeholder('int32', [3, 5]), 2))).toMatch(
      /^SHAPE_MISMATCH: unsortedSegmentSum '.*': segmentIds shape must be a prefix of data shape \(data: \[\?,4,2\], segmentIds: \[3,5\]\)$/,
    );
    expect(kilnErrorText(() => unsortedSegmentSum(data, g.placeholder('float32', [3]), 2))).toMatch(/^DTYPE_MISMATCH: .*segmentIds must be int32, got float32/);
    expect(kilnErrorText(() => unsortedSegmentSum(data, [0], -1))).toMatch(/^INVALID_ATTR: .*numSegments must be >= 0, got -1$/);
  });
});
