/**
 * batchNorm and layerNorm (float32) as reductions and elementwise maps:
 *   batchNorm = (x - mean) / sqrt(variance + eps) * scale + offset     elementwise, all broadcast
 *   layerNorm: mu = mean(x, axes); v = mean((x - mu)^2, axes)            two reduce kernels
 *              (x - mu) / sqrt(v + eps) * scale + offset                 elementwise
 * (x - mu is built twice, so that each copy fuses where it is used.)
 */
import { normalizeAxes } from '@kiln/graph';
import type { Decomposition } from './decomposition.js';

const batchNorm: Decomposition = (node, [x, mean, variance, offset, scale], b) => {
  if (x!.dtype !== 'float32') return undefined;
  const normed = b.op('div', [b.op('sub', [x!, mean!]), b.op('sqrt', [b.op('add', [variance!, b.scalar(node.attrs.varianceEpsilon as number)])])]);
  return [b.result('add', [b.op('mul', [normed, scale!]), offset!])];
};

const layerNorm: Decomposition = (node, [x, scale, offset], b) => {
  if (x!.dtype !== 'float32') return undefined;
  const axis = normalizeAxes(node.attrs.axes as number[], x!.shape.length, `layerNorm '${node.name}'`);
  const mu = b.op('mean', [x!], { axis, keepDims: true });
  const variance = b.op('mean', [b.op('square', [b.op('sub', [x!, mu])])], { axis, keepDims: true });
  const normed = b.op('div', [b.op('sub', [x!, mu]), b.op('sqrt', [b.op('add', [variance, b.scalar(node.attrs.epsilon as number)])])]);
  return [b.result('add', [b.op('mul', [normed, scale!]), offset!])];
};

export const normalizationDecompositions = { batchNorm, layerNorm };
