/**
 * Gradient rules: linalg family. For y = op(a) @ op(b) (op = optional transpose of the last
 * two dims), each of the four transpose combinations gets its own pair of matMuls, chosen so
 * that no explicit transpose op is needed; batch dims that were broadcast are then summed
 * back to each operand's shape (unbroadcast).
 */
import { type SymbolicTensor, matMul } from '@kiln/graph';
import { registerGradient } from '../registry.js';
import { unbroadcast } from '../unbroadcast.js';

registerGradient('matMul', ([dy], ctx) => {
  const [a, b] = ctx.inputs as [SymbolicTensor, SymbolicTensor];
  if (!dy || a.dtype !== 'float32') return [null, null];
  const tA = ctx.attrs.transposeA as boolean;
  const tB = ctx.attrs.transposeB as boolean;
  let da: SymbolicTensor;
  let db: SymbolicTensor;
  if (!tA && !tB) {
    da = matMul(dy, b, false, true); // dy b^T
    db = matMul(a, dy, true, false); // a^T dy
  } else if (!tA && tB) {
    da = matMul(dy, b, false, false); // dy b
    db = matMul(dy, a, true, false); // dy^T a
  } else if (tA && !tB) {
    da = matMul(b, dy, false, true); // b dy^T
    db = matMul(a, dy, false, false); // a dy
  } else {
    da = matMul(b, dy, true, true); // b^T dy^T
    db = matMul(dy, a, true, true); // dy^T a^T
  }
  return [unbroadcast(da, a.shape), unbroadcast(db, b.shape)];
});
