/**
 * Gradient rules of the conv, pool, normalization and random ops (getGradient called directly
 * with placeholder dys) against central finite differences on the reference executor
 * (grad-fd.ts: eps 1e-2, atol = rtol = 1e-3 by default; 2e-3 where a case says so). The
 * backprop ops are checked too, which checks second derivatives of conv and pool. Operands
 * read only for their shape are constants (they get no gradient).
 */
import { describe, it } from '@jest/globals';
import * as k from '@kiln/graph';
import { type SymbolicTensor, Tensor } from '@kiln/graph';
import { checkGrad, randn } from './grad-fd.js';

/** A constant of `shape` (zeros), for operands read only for their shape. */
function shapeOf(like: SymbolicTensor, shape: number[]): SymbolicTensor {
  return like.graph.constant(new Tensor('float32', shape));
}

/** Distinct values (a shuffled ramp, spacing 0.1) so max pooling has no ties within +-eps. */
function distinct(shape: number[], seed = 3): Tensor {
  const t = randn(shape, seed);
  const order = Array.from(t.data.keys()).sort((a, b) => t.data[a]! - t.data[b]!);
  const out = new Tensor('float32', shape);
  order.forEach((idx, rank) => (out.data[idx] = rank * 0.1 - 1));
  return out;
}

const tol = { atol: 2e-3, rtol: 2e-3 };

describe('conv gradients', () => {
  it('conv2d: valid, same with stride 2, dilation, explicit padding, null batch', () => {
    checkGrad([{ value: randn([1, 4, 4, 2], 1) }, { value: randn([2, 2, 2, 3], 2) }], (x, f) => k.conv2d(x!, f!, 1, 'valid'), tol);
    checkGrad([{ value: randn([2, 5, 5, 1], 3), shape: [null, 5, 5, 1] }, { value: randn([3, 3, 1, 2], 4) }], (x, f) => k.conv2d(x!, f!, 2, 'same'), tol);
    checkGrad([{ value: randn([1, 5, 5, 1], 5) }, { value: randn([2, 2, 1, 2], 6) }], (x, f) => k.conv2d(x!, f!, 1, 'valid', 'NHWC', 2), tol);
    checkGrad(
      [{ value: randn([1, 3, 4, 2], 7) }, { value: randn([2, 3, 2, 1], 8) }],
      (x, f) =>
        k.conv2d(
          x!,
          f!,
          [2, 1],
          [
            [0, 0],
            [1, 0],
            [2, 1],
            [0, 0],
          ],
        ),
      tol,
    );
  });
  it('depthwiseConv2d', () => {
    checkGrad([{ value: randn([1, 4, 4, 2], 9) }, { value: randn([2, 2, 2, 2], 10) }], (x, f) => k.depthwiseConv2d(x!, f!, 1, 'valid'), tol);
    checkGrad([{ value: randn([2, 5, 5, 2], 11) }, { value: randn([3, 3, 2, 1], 12) }], (x, f) => k.depthwiseConv2d(x!, f!, 2, 'same'), tol);
  });
  it('conv2dTranspose', () => {
    checkGrad([{ value: randn([1, 3, 3, 2], 13) }, { value: randn([2, 2, 3, 2], 14) }], (x, f) => k.conv2dTranspose(x!, f!, [1, 4, 4, 3], 1, 'valid'), tol);
    checkGrad(
      [{ value: randn([2, 2, 2, 1], 15), shape: [null, 2, 2, 1] }, { value: randn([3, 3, 2, 1], 16) }],
      (x, f) => k.conv2dTranspose(x!, f!, [null, 4, 4, 2], 2, 'same'),
      tol,
    );
  });
  it('backprop ops (second derivatives of conv)', () => {
    checkGrad(
      [{ value: randn([2, 2, 2, 3], 17) }, { value: randn([1, 3, 3, 3], 18) }],
      (f, dy) => k.conv2dBackpropInput(shapeOf(f!, [1, 4, 4, 2]), f!, dy!, 1, 'valid'),
      tol,
    );
    checkGrad(
      [{ value: randn([3, 3, 1, 2], 19) }, { value: randn([1, 3, 3, 2], 20) }],
      (f, dy) => k.conv2dBackpropInput(shapeOf(f!, [1, 5, 5, 1]), f!, dy!, 2, 'same'),
      tol,
    );
    checkGrad(
      [{ value: randn([1, 5, 5, 1], 21) }, { value: randn([1, 3, 3, 2], 22) }],
      (x, dy) => k.conv2dBackpropFilter(x!, shapeOf(x!, [3, 3, 1, 2]), dy!, 2, 'same'),
      tol,
    );
    checkGrad(
      [{ value: randn([2, 2, 2, 2], 23) }, { value: randn([1, 3, 3, 4], 24) }],
      (f, dy) => k.depthwiseConv2dBackpropInput(shapeOf(f!, [1, 4, 4, 2]), f!, dy!, 1, 'valid'),
      tol,
    );
    checkGrad(
      [{ value: randn([1, 4, 4, 2], 25) }, { value: randn([1, 3, 3, 4], 26) }],
      (x, dy) => k.depthwiseConv2dBackpropFilter(x!, shapeOf(x!, [2, 2, 2, 2]), dy!, 1, 'valid'),
      tol,
    );
  });
});

describe('pool gradients', () => {
  it('maxPool: valid, same, dilated, ceil mode', () => {
    checkGrad([{ value: distinct([2, 4, 4, 2], 30) }], (x) => k.maxPool(x!, 2, 2, 'valid'));
    checkGrad([{ value: distinct([1, 5, 5, 1], 31), shape: [null, 5, 5, 1] }], (x) => k.maxPool(x!, 3, 2, 'same'));
    checkGrad([{ value: distinct([1, 5, 5, 1], 32) }], (x) => k.maxPool(x!, 2, 1, 'valid', undefined, { dilations: 2 }));
    checkGrad([{ value: distinct([1, 5, 5, 1], 33) }], (x) => k.maxPool(x!, 2, 2, 1, 'ceil'));
  });
  it('avgPool: same, explicit with countIncludePad, ceil mode', () => {
    checkGrad([{ value: randn([2, 5, 5, 2], 34) }], (x) => k.avgPool(x!, 3, 2, 'same'));
    checkGrad([{ value: randn([1, 4, 4, 1], 35) }], (x) => k.avgPool(x!, 3, 1, 1, undefined, { countIncludePad: true }));
    checkGrad([{ value: randn([1, 5, 5, 1], 36) }], (x) => k.avgPool(x!, 2, 2, 1, 'ceil'));
  });
  it('maxPoolGrad, maxPoolGradGrad and avgPoolGrad (second derivatives)', () => {
    const xv = distinct([1, 4, 4, 2], 37);
    checkGrad([{ value: randn([1, 2, 2, 2], 38) }], (dy) => k.maxPoolGrad(dy!.graph.constant(xv), dy!, 2, 2, 'valid'));
    checkGrad([{ value: randn([1, 4, 4, 2], 39) }], (gIn) => {
      const x = gIn!.graph.constant(xv);
      const attrs = { ...k.maxPool(x, 3, 1, 'same').node.attrs };
      return gIn!.graph.addNode('maxPoolGradGrad', [x, gIn!], attrs).output;
    });
    checkGrad([{ value: randn([1, 2, 2, 2], 40) }], (dy) => k.avgPoolGrad(shapeOf(dy!, [1, 4, 4, 2]), dy!, 3, 2, 'same'));
  });
});

describe('normalization gradients', () => {
  it('softmax and logSoftmax along the last and the first axis', () => {
    checkGrad([{ value: randn([2, 4], 41, -2, 2) }], (x) => k.softmax(x!));
    checkGrad([{ value: randn([3, 2], 42, -2, 2), shape: [null, 2] }], (x) => k.softmax(x!, 0));
    checkGrad([{ value: randn([2, 4], 43, -2, 2) }], (x) => k.logSoftmax(x!));
    checkGrad([{ value: randn([3, 2], 44, -2, 2) }], (x) => k.logSoftmax(x!, 0));
  });
  it('batchNorm w.r.t. all five operands', () => {
    checkGrad(
      [
        { value: randn([3, 2, 4], 45), shape: [null, 2, 4] },
        { value: randn([4], 46) },
        { value: randn([4], 47, 0.5, 1.5) },
        { value: randn([4], 48) },
        { value: randn([4], 49) },
      ],
      (x, m, v, o, s) => k.batchNorm(x!, m!, v!, o!, s!),
      tol,
    );
    // Operands broadcasting along more than one axis (mean [2,1], scale [1,4]).
    checkGrad(
      [
        { value: randn([2, 4], 50) },
        { value: randn([2, 1], 51) },
        { value: randn([1], 52, 0.5, 1.5) },
        { value: randn([4], 53) },
        { value: randn([1, 4], 54) },
      ],
      (x, m, v, o, s) => k.batchNorm(x!, m!, v!, o!, s!, 0.01),
      tol,
    );
  });
  it('layerNorm over the last axis, over trailing axes, and over a listed axis', () => {
    checkGrad(
      [{ value: randn([2, 5], 55, -2, 2), shape: [null, 5] }, { value: randn([5], 56) }, { value: randn([5], 57) }],
      (x, s, o) => k.layerNorm(x!, s!, o!),
      tol,
    );
    checkGrad([{ value: randn([2, 3, 4], 58, -2, 2) }, { value: randn([3, 4], 59) }, { value: randn([4], 60) }], (x, s, o) => k.layerNorm(x!, s!, o!, 1), tol);
    checkGrad(
      [{ value: randn([2, 3, 2], 61, -2, 2) }, { value: randn([3, 1], 62) }, { value: randn([1], 63) }],
      (x, s, o) => k.layerNorm(x!, s!, o!, [1]),
      tol,
    );
  });
});

describe('dropout gradient', () => {
  it('multiplies dy by the mask the forward node applied', () => {
    checkGrad([{ value: randn([4, 6], 64) }], (x) => k.dropout(x!, 0.4));
    checkGrad([{ value: randn([4, 6], 65), shape: [null, 6] }], (x) => k.dropout(x!, 0.5, [null, 1], 5));
  });
});
