/**
 * Gradient-check cases for linalg, conv, pool, normalization and random ops, including the
 * backprop ops the conv/pool gradients emit (so second derivatives are checked too). Inputs
 * that only contribute their shape are fed as fixed placeholders. Used by grad-table.test.ts.
 */
import * as k from '@kiln/graph';
import { Tensor } from '@kiln/graph';
import type { CaseTable } from './grad-cases-basic.js';
import type { CaseBuilder } from './grad-check.js';

/** A fixed float32 tensor of `shape` (zeros): for inputs read only for their shape. */
function shapeOnly(b: CaseBuilder, shape: number[]) {
  return b.fixed(new Tensor('float32', shape));
}

export function nnCases(): CaseTable {
  return {
    matMul: [
      (b) => k.matMul(b.x([2, 3]), b.x([3, 4])),
      (b) => k.matMul(b.x([3, 2]), b.x([3, 4]), true),
      (b) => k.matMul(b.x([2, 3]), b.x([4, 3]), false, true),
      (b) => k.matMul(b.x([3, 2]), b.x([4, 3]), true, true),
      (b) => k.matMul(b.x([2, 2, 3]), b.x([3, 2])),
      (b) => k.matMul(b.x([2, 1, 2, 3]), b.x([3, 3, 2])),
    ],
    conv2d: [
      (b) => k.conv2d(b.x([1, 4, 4, 2]), b.x([2, 2, 2, 3]), 1, 'valid'),
      (b) => k.conv2d(b.x([2, 5, 5, 1]), b.x([3, 3, 1, 2]), 2, 'same'),
      (b) => k.conv2d(b.x([1, 5, 5, 1]), b.x([2, 2, 1, 1]), 1, 'valid', 'NHWC', 2),
    ],
    depthwiseConv2d: [
      (b) => k.depthwiseConv2d(b.x([1, 4, 4, 2]), b.x([2, 2, 2, 2]), 1, 'valid'),
      (b) => k.depthwiseConv2d(b.x([1, 5, 5, 2]), b.x([3, 3, 2, 1]), 2, 'same'),
    ],
    conv2dTranspose: [
      (b) => k.conv2dTranspose(b.x([1, 3, 3, 2]), b.x([2, 2, 3, 2]), [1, 4, 4, 3], 1, 'valid'),
      (b) => k.conv2dTranspose(b.x([1, 2, 2, 1]), b.x([3, 3, 2, 1]), [1, 4, 4, 2], 2, 'same'),
    ],
    conv2dBackpropInput: [
      (b) => k.conv2dBackpropInput(shapeOnly(b, [1, 4, 4, 2]), b.x([2, 2, 2, 3]), b.x([1, 3, 3, 3]), 1, 'valid'),
      (b) => k.conv2dBackpropInput(shapeOnly(b, [1, 5, 5, 1]), b.x([3, 3, 1, 2]), b.x([1, 3, 3, 2]), 2, 'same'),
    ],
    conv2dBackpropFilter: [
      (b) => k.conv2dBackpropFilter(b.x([1, 4, 4, 2]), shapeOnly(b, [2, 2, 2, 3]), b.x([1, 3, 3, 3]), 1, 'valid'),
      (b) => k.conv2dBackpropFilter(b.x([1, 5, 5, 1]), shapeOnly(b, [3, 3, 1, 2]), b.x([1, 3, 3, 2]), 2, 'same'),
    ],
    depthwiseConv2dBackpropInput: [(b) => k.depthwiseConv2dBackpropInput(shapeOnly(b, [1, 4, 4, 2]), b.x([2, 2, 2, 2]), b.x([1, 3, 3, 4]), 1, 'valid')],
    depthwiseConv2dBackpropFilter: [(b) => k.depthwiseConv2dBackpropFilter(b.x([1, 4, 4, 2]), shapeOnly(b, [2, 2, 2, 2]), b.x([1, 3, 3, 4]), 1, 'valid')],
    maxPool: [(b) => k.maxPool(b.xDistinct([1, 4, 4, 2]), 2, 2, 'valid'), (b) => k.maxPool(b.xDistinct([1, 5, 5, 1]), 3, 2, 'same')],
    avgPool: [(b) => k.avgPool(b.x([1, 4, 4, 2]), 2, 2, 'valid'), (b) => k.avgPool(b.x([1, 5, 5, 1]), 3, 2, 'same')],
    maxPoolGrad: [(b) => k.maxPoolGrad(b.xDistinct([1, 4, 4, 1]), b.x([1, 2, 2, 1]), 2, 2, 'valid')],
    maxPoolGradGrad: [
      (b) => {
        // No free function: reuse the attrs of an equivalent maxPool node.
        const x = b.xDistinct([1, 4, 4, 1]);
        const attrs = k.maxPool(x, 2, 2, 'valid').node.attrs;
        return b.g.addNode('maxPoolGradGrad', [x, b.x([1, 4, 4, 1])], { ...attrs }).output;
      },
    ],
    avgPoolGrad: [(b) => k.avgPoolGrad(shapeOnly(b, [1, 5, 5, 1]), b.x([1, 3, 3, 1]), 3, 2, 'same')],
    softmax: [(b) => k.softmax(b.x([2, 4])), (b) => k.softmax(b.x([3, 2]), 0)],
    logSoftmax: [(b) => k.logSoftmax(b.x([2, 4])), (b) => k.logSoftmax(b.x([3, 2]), 0)],
    batchNorm: [
      (b) => k.batchNorm(b.x([2, 3]), b.x([3]), b.x([3], 'positive'), b.x([3]), b.x([3])),
      (b) => k.batchNorm(b.x([2, 2, 2]), b.x([2]), b.x([2], 'positive')),
    ],
    layerNorm: [
      (b) => k.layerNorm(b.x([2, 4]), b.x([4]), b.x([4])),
      (b) => k.layerNorm(b.x([2, 3, 2]), b.x([3, 2]), b.x([3, 2]), 1),
      (b) => k.layerNorm(b.x([3, 4])),
    ],
    dropout: [(b) => k.dropout(b.x([3, 4]), 0.5, null, 7), (b) => k.dropout(b.x([2, 3]), 0.25, [2, 1], 3)],
  };
}
