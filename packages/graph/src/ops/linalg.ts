/**
 * Linear algebra: matMul(a, b, transposeA, transposeB) as tf.matMul. Both operands have rank
 * >= 2; the last two dims are the matrix, the leading (batch) dims broadcast NumPy-style.
 */
import { KilnError, fmtShape } from '../errors.js';
import type { SymbolicTensor } from '../graph.js';
import { type Dim, broadcastShapes } from '../shape.js';
import { type TensorLike, apply1 } from './apply.js';
import { registerOp } from './registry.js';

/** [rows, cols] of an operand's matrix part after the optional transpose. */
function matrixDims(shape: readonly Dim[], transpose: boolean): [Dim, Dim] {
  const r = shape.length;
  const m = shape[r - 2]!;
  const k = shape[r - 1]!;
  return transpose ? [k, m] : [m, k];
}

registerOp({
  name: 'matMul',
  family: 'linalg',
  doc: 'Matrix product of the last two dims (optionally transposed); batch dims broadcast.',
  inputs: [{ name: 'a' }, { name: 'b' }],
  attrs: { transposeA: { type: 'bool', default: false }, transposeB: { type: 'bool', default: false } },
  infer: ([a, b], attrs, ctx) => {
    if (a!.dtype !== b!.dtype) {
      throw new KilnError('DTYPE_MISMATCH', `${ctx.what}: a and b must have the same dtype, got ${a!.dtype} and ${b!.dtype} (use cast())`);
    }
    if (a!.dtype === 'bool') throw new KilnError('DTYPE_MISMATCH', `${ctx.what}: operands must be float32 or int32, got bool`);
    for (const [name, t] of [
      ['a', a!],
      ['b', b!],
    ] as const) {
      if (t.shape.length < 2) {
        throw new KilnError('SHAPE_MISMATCH', `${ctx.what}: ${name} must have rank >= 2, got ${fmtShape(t.shape)} (use expandDims or reshape)`);
      }
    }
    const tA = attrs.transposeA as boolean;
    const tB = attrs.transposeB as boolean;
    const [m, ka] = matrixDims(a!.shape, tA);
    const [kb, n] = matrixDims(b!.shape, tB);
    if (ka !== null && kb !== null && ka !== kb) {
      throw new KilnError(
        'SHAPE_MISMATCH',
        `${ctx.what}: inner dims differ: a has ${ka} columns${tA ? ' (transposed)' : ''} but b has ${kb} rows${tB ? ' (transposed)' : ''} (a: ${fmtShape(a!.shape)}, b: ${fmtShape(b!.shape)})`,
      );
    }
    const batch = broadcastShapes(a!.shape.slice(0, -2), b!.shape.slice(0, -2), `${ctx.what}: batch dims`);
    return [{ dtype: a!.dtype, shape: [...batch, m, n] }];
  },
});

export function matMul(a: TensorLike, b: TensorLike, transposeA = false, transposeB = false): SymbolicTensor {
  return apply1('matMul', [a, b], { transposeA, transposeB });
}
