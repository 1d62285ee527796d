/**
 * Gradient rules: compare family. Comparisons and logical ops produce bool and pass no
 * gradient; where(condition, a, b) routes dy to a where the condition holds and to b elsewhere,
 * reduced back to each operand's shape.
 */
import { type SymbolicTensor, where } from '@kiln/graph';
import { registerGradient, registerNonDifferentiable } from '../registry.js';
import { unbroadcast } from '../unbroadcast.js';

for (const op of ['equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual'] as const) {
  registerNonDifferentiable(op, 'a comparison: its bool output is piecewise constant in the operands');
}
for (const op of ['logicalAnd', 'logicalOr', 'logicalNot'] as const) {
  registerNonDifferentiable(op, 'a logical op on bool tensors: no real-valued gradient');
}

registerGradient('where', (dys, ctx) => {
  const dy = dys[0];
  const [c, a, b] = ctx.inputs as [SymbolicTensor, SymbolicTensor, SymbolicTensor];
  if (!dy || a.dtype !== 'float32') return [null, null, null];
  return [null, unbroadcast(where(c, dy, 0), a.shape), unbroadcast(where(c, 0, dy), b.shape)];
});
