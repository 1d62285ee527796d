/** Shape/dtype inference and argument validation of the conv, pool, normalization and random ops. */
import { describe, expect, it } from '@jest/globals';
import {
  Graph,
  KilnError,
  avgPool,
  avgPoolGrad,
  batchNorm,
  conv2d,
  conv2dBackpropFilter,
  conv2dBackpropInput,
  conv2dTranspose,
  depthwiseConv2d,
  depthwiseConv2dBackpropFilter,
  depthwiseConv2dBackpropInput,
  dropout,
  getOp,
  layerNorm,
  logSoftmax,
  maxPool,
  maxPoolGrad,
  softmax,
} from '@kiln/graph';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof KilnError) return `${e.code}: ${e.message}`;
    throw e;
  }
  throw new Error('expected a KilnError, got none');
}

describe('conv2d inference', () => {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 28, 28, 1], 'x');
  const f = g.placeholder('float32', [5, 5, 1, 32], 'f');

  it('carries a null batch and follows TF same/valid/stride/dilation rules', () => {
    expect(conv2d(x, f, 1, 'same').shape).toEqual([null, 28, 28, 32]);
    expect(conv2d(x, f, 1, 'valid').shape).toEqual([null, 24, 24, 32]);
    expect(conv2d(x, f, 2, 'same').shape).toEqual([null, 14, 14, 32]);
    expect(conv2d(x, f, [3, 2], 'valid').shape).toEqual([null, 8, 12, 32]);
    expect(conv2d(x, f, 1, 'valid', 'NHWC', 2).shape).toEqual([null, 20, 20, 32]);
    expect(conv2d(x, f, 1, 2).shape).toEqual([null, 28, 28, 32]);
    expect(
      conv2d(x, f, 1, [
        [0, 0],
        [1, 2],
        [0, 0],
        [0, 0],
      ]).shape,
    ).toEqual([null, 27, 24, 32]);
    expect(conv2d(x, f, 2, 1, 'NHWC', 1, 'ceil').shape).toEqual([null, 14, 14, 32]);
    expect(conv2d(x, f, 2, 1, 'NHWC', 1, 'floor').shape).toEqual([null, 13, 13, 32]);
  });

  it('carries null spatial dims and null channels', () => {
    const y = g.placeholder('float32', [null, null, 10, null]);
    expect(conv2d(y, f, 2, 'same').shape).toEqual([null, null, 5, 32]);
    const fq = g.placeholder('float32', [null, 3, 1, 8]);
    expect(conv2d(x, fq, 1, 'valid').shape).toEqual([null, null, 26, 8]);
    expect(conv2d(x, fq, 1, 'same').shape).toEqual([null, 28, 28, 8]);
  });

  it('accepts a rank-3 x as one image (TF.js)', () => {
    const img = g.placeholder('float32', [28, 28, 1]);
    expect(conv2d(img, f, 2, 'same').shape).toEqual([14, 14, 32]);
    expect(depthwiseConv2d(img, g.placeholder('float32', [3, 3, 1, 2]), 1, 'valid').shape).toEqual([26, 26, 2]);
    expect(maxPool(img, 2, 2, 'valid').shape).toEqual([14, 14, 1]);
    expect(avgPool(img, 2, 2, 'same').shape).toEqual([14, 14, 1]);
    expect(conv2dTranspose(g.placeholder('float32', [14, 14, 32]), f, [28, 28, 1], 2, 'same').shape).toEqual([28, 28, 1]);
  });

  it('stores TF.js arguments as attrs', () => {
    const y = conv2d(
      x,
      f,
      [2, 1],
      [
        [0, 0],
        [1, 2],
        [3, 4],
        [0, 0],
      ],
      'NHWC',
      [1, 2],
    );
    expect(y.node.attrs).toMatchObject({ strides: [2, 1], pad: 'explicit', explicitPaddings: [1, 2, 3, 4], dilations: [1, 2] });
  });

  it('rejects a channel mismatch naming the node with both shapes', () => {
    const f3 = g.placeholder('float32', [5, 5, 3, 32]);
    const msg = g.nameScope('c1', () => code(() => conv2d(x, f3, 1, 'same')));
    expect(msg).toBe("SHAPE_MISMATCH: conv2d 'c1/conv2d': filter has 3 input channels but x has 1 (x: [?,28,28,1], filter: [5,5,3,32])");
  });

  it('rejects bad ranks, dtypes and attrs', () => {
    expect(code(() => conv2d(g.placeholder('float32', [28, 28]), f, 1, 'same'))).toMatch(/^SHAPE_MISMATCH: .*x must be rank 4 \(NHWC\), got rank 2 \[28,28\]/);
    expect(code(() => conv2d(x, g.placeholder('float32', [5, 5, 1]), 1, 'same'))).toMatch(/SHAPE_MISMATCH: .*filter must be rank 4/);
    expect(code(() => conv2d(g.placeholder('int32', [1, 4, 4, 1]), f, 1, 'same'))).toMatch(/DTYPE_MISMATCH: .*x must be float32, got int32/);
    expect(code(() => conv2d(x, f, 0, 'same'))).toMatch(/INVALID_ATTR: conv2d: strides must be a positive integer/);
    expect(code(() => conv2d(x, f, [1, 2, 3] as unknown as number, 'same'))).toMatch(/strides/);
    expect(code(() => conv2d(x, f, 1, 'same', 'NHWC', -1))).toMatch(/dilations/);
    expect(code(() => conv2d(x, f, 1, 'full' as 'same'))).toMatch(/INVALID_ATTR: .*pad must be/);
    expect(code(() => conv2d(x, f, 1, -1))).toMatch(/non-negative integer/);
    expect(
      code(() =>
        conv2d(x, f, 1, [
          [1, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ]),
      ),
    ).toMatch(/batch and channel dims must be 0/);
    expect(code(() => conv2d(x, f, 1, 'same', 'NCHW'))).toMatch(/UNSUPPORTED: .*'NCHW'/);
    expect(code(() => conv2d(g.placeholder('float32', [1, 3, 3, 1]), f, 1, 'valid'))).toMatch(
      /SHAPE_MISMATCH: .*window height 5 is larger than the padded input height 3/,
    );
    expect(code(() => g.addNode('conv2d', [x, f], { strides: [1, 1], pad: 'same', explicitPaddings: [1, 1, 1, 1] }))).toMatch(
      /INVALID_ATTR: .*explicitPaddings given/,
    );
    expect(code(() => g.addNode('conv2d', [x, f], { strides: [1, 1], pad: 'explicit', explicitPaddings: [1, 1] }))).toMatch(/explicitPaddings must be 4/);
    expect(code(() => g.addNode('conv2d', [x, f], { strides: [1, 1], pad: 'explicit', dimRoundingMode: 'up' }))).toMatch(/INVALID_ATTR/);
  });
});

describe('depthwise, transpose and backprop inference', () => {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 8, 8, 3], 'x');

  it('depthwiseConv2d multiplies the channels', () => {
    const f = g.placeholder('float32', [3, 3, 3, 2]);
    expect(depthwiseConv2d(x, f, 1, 'same').shape).toEqual([null, 8, 8, 6]);
    expect(depthwiseConv2d(x, f, 2, 'valid').shape).toEqual([null, 3, 3, 6]);
    expect(depthwiseConv2d(g.placeholder('float32', [1, 8, 8, null]), f, 1, 'valid').shape).toEqual([1, 6, 6, 6]);
    expect(code(() => depthwiseConv2d(x, g.placeholder('float32', [3, 3, 4, 2]), 1, 'same'))).toMatch(/filter has 4 input channels but x has 3/);
  });

  it('conv2dTranspose produces outputShape and checks it against x', () => {
    const f = g.placeholder('float32', [3, 3, 5, 3]); // [h, w, out, in]
    expect(conv2dTranspose(x, f, [null, 16, 16, 5], 2, 'same').shape).toEqual([null, 16, 16, 5]);
    expect(conv2dTranspose(x, f, [4, 10, 10, 5], 1, 'valid').shape).toEqual([4, 10, 10, 5]);
    expect(code(() => conv2dTranspose(x, f, [null, 12, 12, 5], 1, 'valid'))).toMatch(
      /SHAPE_MISMATCH: .*outputShape \[\?,12,12,5\] .* gives \[\?,10,10,3\], but x is \[\?,8,8,3\]/,
    );
    expect(code(() => conv2dTranspose(x, f, [null, 16, 16, 4], 2, 'same'))).toMatch(/outputShape has 4 channels but filter has 5/);
    expect(code(() => conv2dTranspose(x, g.placeholder('float32', [3, 3, 5, 2]), [null, 16, 16, 5], 2, 'same'))).toMatch(
      /filter has 2 input channels \(filter\[3\]\) but x has 3/,
    );
    expect(code(() => conv2dTranspose(x, f, [null, null, 16, 5], 2, 'same'))).toMatch(/INVALID_ATTR: .*only the batch unknown/);
    const x1 = g.placeholder('float32', [1, 8, 8, 3]);
    expect(code(() => conv2dTranspose(x1, f, [2, 16, 16, 5], 2, 'same'))).toMatch(/outputShape batch 2 differs from x batch 1/);
  });

  it('backprop ops take the shape of their shape-only operand and check dy', () => {
    const f = g.placeholder('float32', [3, 3, 3, 4]);
    const dy = g.placeholder('float32', [null, 4, 4, 4]);
    expect(conv2dBackpropInput(x, f, dy, 2, 'same').shape).toEqual([null, 8, 8, 3]);
    expect(conv2dBackpropFilter(x, f, dy, 2, 'same').shape).toEqual([3, 3, 3, 4]);
    expect(code(() => conv2dBackpropInput(x, f, dy, 1, 'same'))).toMatch(
      /SHAPE_MISMATCH: conv2dBackpropInput '.*': dy has shape \[\?,4,4,4\] but the conv2d output has shape \[\?,8,8,4\]/,
    );
    const fd = g.placeholder('float32', [3, 3, 3, 2]);
    const dyd = g.placeholder('float32', [null, 6, 6, 6]);
    expect(depthwiseConv2dBackpropInput(x, fd, dyd, 1, 'valid').shape).toEqual([null, 8, 8, 3]);
    expect(depthwiseConv2dBackpropFilter(x, fd, dyd, 1, 'valid').shape).toEqual([3, 3, 3, 2]);
    expect(code(() => depthwiseConv2dBackpropFilter(x, fd, dy, 1, 'valid'))).toMatch(/dy has shape/);
  });
});

describe('pool inference', () => {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 7, 7, 4], 'x');

  it('follows TF same/valid rules and ceil mode', () => {
    expect(maxPool(x, 2, 2, 'valid').shape).toEqual([null, 3, 3, 4]);
    expect(maxPool(x, 2, 2, 'same').shape).toEqual([null, 4, 4, 4]);
    expect(avgPool(x, [3, 2], [1, 2], 'valid').shape).toEqual([null, 5, 3, 4]);
    expect(maxPool(x, 2, 2, 0, 'ceil').shape).toEqual([null, 4, 4, 4]);
    expect(maxPool(x, 3, 1, 'valid', undefined, { dilations: 2 }).shape).toEqual([null, 3, 3, 4]);
    expect(avgPool(x, 3, 1, 1, undefined, { countIncludePad: true }).node.attrs.countIncludePad).toBe(true);
    // ceil mode drops a last window that would start in the padding (ONNX / PyTorch rule).
    const x5 = g.placeholder('float32', [1, 5, 4, 1]);
    expect(maxPool(x5, 2, 2, 1, 'ceil').shape).toEqual([1, 3, 3, 1]);
    expect(avgPool(g.placeholder('float32', [null, null, 6, 2]), 2, 2, 'valid').shape).toEqual([null, null, 3, 2]);
  });

  it('rejects bad arguments', () => {
    expect(code(() => maxPool(x, 0, 1, 'valid'))).toMatch(/INVALID_ATTR: maxPool: filterSize/);
    expect(code(() => maxPool(x, 8, 1, 'valid'))).toMatch(/SHAPE_MISMATCH: .*window height 8 is larger than the padded input height 7/);
    expect(code(() => maxPool(x, 2, 1, 2))).toMatch(/INVALID_ATTR: .*smaller than the window/);
    expect(code(() => maxPool(g.placeholder('float32', [7, 4]), 2, 1, 'valid'))).toMatch(/x must be rank 4/);
    expect(code(() => avgPool(g.placeholder('int32', [1, 7, 7, 4]), 2, 1, 'valid'))).toMatch(/DTYPE_MISMATCH/);
    expect(code(() => maxPool(x, 2, 1, 'valid', undefined, { countIncludePad: true }))).toMatch(/countIncludePad applies to avgPool only/);
  });

  it('gradient ops return x shape and check dy', () => {
    const dy = g.placeholder('float32', [null, 3, 3, 4]);
    expect(maxPoolGrad(x, dy, 2, 2, 'valid').shape).toEqual([null, 7, 7, 4]);
    expect(avgPoolGrad(x, dy, 2, 2, 'valid').shape).toEqual([null, 7, 7, 4]);
    expect(code(() => maxPoolGrad(x, dy, 2, 2, 'same'))).toMatch(/dy has shape \[\?,3,3,4\] but the maxPool output has shape \[\?,4,4,4\]/);
    const gg = g.placeholder('float32', [null, 7, 7, 4]);
    const attrs = { ...maxPoolGrad(x, dy, 2, 2, 'valid').node.attrs };
    expect(g.addNode('maxPoolGradGrad', [x, gg], attrs).output.shape).toEqual([null, 3, 3, 4]);
    expect(code(() => g.addNode('maxPoolGradGrad', [x, dy], attrs))).toMatch(/g has shape \[\?,3,3,4\] but x has shape/);
  });
});

describe('normalization inference', () => {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 10], 'x');

  it('softmax and logSoftmax keep the shape and validate the axis', () => {
    expect(softmax(x).shape).toEqual([null, 10]);
    expect(logSoftmax(x, 0).shape).toEqual([null, 10]);
    expect(code(() => softmax(x, 2))).toMatch(/INVALID_ATTR: softmax '.*': axis 2 is out of range for rank 2/);
    expect(code(() => logSoftmax(g.placeholder('int32', [3])))).toMatch(/DTYPE_MISMATCH: .*logits must be float32/);
  });

  it('batchNorm broadcasts its operands and fills in offset and scale', () => {
    const img = g.placeholder('float32', [null, 4, 4, 3]);
    const m = g.placeholder('float32', [3]);
    const y = batchNorm(img, m, m);
    expect(y.shape).toEqual([null, 4, 4, 3]);
    expect(y.node.inputs.length).toBe(5);
    expect(y.node.inputs[3]!.node.op).toBe('const');
    expect(batchNorm(img, m, m, m, m, 1e-5).node.attrs.varianceEpsilon).toBe(1e-5);
    expect(code(() => batchNorm(img, g.placeholder('float32', [4]), m))).toMatch(/SHAPE_MISMATCH: batchNorm .*cannot be broadcast/);
    expect(code(() => batchNorm(img, m, m, null, null, -1))).toMatch(/INVALID_ATTR: .*varianceEpsilon must be a finite number >= 0/);
  });

  it('layerNorm normalizes from axis to the end or over listed axes', () => {
    const t = g.placeholder('float32', [null, 5, 6]);
    expect(layerNorm(t).node.attrs.axes).toEqual([2]);
    expect(layerNorm(t, null, null, 1).node.attrs.axes).toEqual([1, 2]);
    expect(layerNorm(t, null, null, -2).node.attrs.axes).toEqual([1, 2]);
    expect(layerNorm(t, g.placeholder('float32', [6]), g.placeholder('float32', [6]), [1]).shape).toEqual([null, 5, 6]);
    expect(code(() => layerNorm(t, null, null, 3))).toMatch(/axis 3 is out of range/);
    expect(code(() => layerNorm(t, null, null, []))).toMatch(/INVALID_ATTR: .*at least one axis/);
    expect(code(() => layerNorm(t, null, null, [1, 1]))).toMatch(/repeated axis/);
    expect(code(() => layerNorm(t, g.placeholder('float32', [5])))).toMatch(/SHAPE_MISMATCH/);
    expect(code(() => layerNorm(t, null, null, -1, -0.5))).toMatch(/epsilon must be/);
  });
});

describe('dropout inference', () => {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 10], 'x');

  it('is stateful with outputs [y, mask] and accepts both call forms', () => {
    expect(getOp('dropout').stateful).toBe(true);
    const y = dropout(x, 0.5);
    expect(y.shape).toEqual([null, 10]);
    expect(y.node.outputs[1]!.shape).toEqual([null, 10]);
    expect(y.node.attrs).toMatchObject({ rate: 0.5, seed: -1 });
    const z = dropout(x, 0.2, [null, 1], 7);
    expect(z.node.outputs[1]!.shape).toEqual([null, 1]);
    expect(z.node.attrs.seed).toBe(7);
    const w = dropout(x, 0.2, { seed: 3, noiseShape: [1, 10] });
    expect(w.node.outputs[1]!.shape).toEqual([1, 10]);
    expect(dropout(x, 0.5, { training: false })).toBe(x);
  });

  it('validates rate, seed and noiseShape', () => {
    expect(code(() => dropout(x, 1))).toMatch(/INVALID_ATTR: dropout: rate must be a number in \[0, 1\), got 1/);
    expect(code(() => dropout(x, -0.1))).toMatch(/rate/);
    expect(code(() => dropout(x, 0.1, { seed: 1.5 }))).toMatch(/seed must be a non-negative integer/);
    expect(code(() => dropout(x, 0.1, [null, 3]))).toMatch(/SHAPE_MISMATCH: dropout '.*': noiseShape \[\?,3\] must have x's rank/);
    expect(code(() => dropout(x, 0.1, [10]))).toMatch(/noiseShape/);
    expect(code(() => dropout(g.placeholder('int32', [2]), 0.1))).toMatch(/DTYPE_MISMATCH/);
    expect(code(() => g.addNode('dropout', [x], { rate: 1.5, noiseShape: [null, 10] }))).toMatch(/INVALID_ATTR: dropout '.*': rate must be in \[0, 1\)/);
  });
});
