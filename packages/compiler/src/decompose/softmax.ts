/**
 * softmax and logSoftmax as two reductions and an elementwise map (float32):
 *   m = max(x, axis)                     a reduce kernel
 *   s = sum(exp(x - m), axis)            a reduce kernel, exp(x - m) its prologue
 *   softmax = exp(x - m) / s             elementwise (fuses into its consumers)
 * (x - m is built twice so that each copy fuses where it is used: no kernel of its own).
 *   logSoftmax = (x - m) - log(s)        elementwise; log(s) is the sum's epilogue
 * A line of only -Infinity gives NaN, as the reference (and TF) does.
 */
import { normalizeAxis } from '@kiln/graph';
import type { Decomposition } from './decomposition.js';

const softmaxLike =
  (log: boolean, axisAttr: string): Decomposition =>
  (node, [x], b) => {
    if (x!.dtype !== 'float32' || !x!.shape.every((d) => d !== null)) return undefined;
    const axis = [normalizeAxis(node.attrs[axisAttr] as number, x!.shape.length, `${node.op} '${node.name}'`)];
    const m = b.op('max', [x!], { axis, keepDims: true });
    // x - m twice (no CSE follows): one copy fuses into the sum's prologue, one into the result.
    const s = b.op('sum', [b.op('exp', [b.op('sub', [x!, m])])], { axis, keepDims: true });
    const z = b.op('sub', [x!, m]);
    return [log ? b.result('sub', [z, b.op('log', [s])]) : b.result('div', [b.op('exp', [z]), s])];
  };

export const softmaxDecompositions = {
  softmax: softmaxLike(false, 'dim'),
  logSoftmax: softmaxLike(true, 'axis'),
};
