/**
 * Gradient rules: random family. dropout: dx = dy * mask, with the mask the forward node
 * produced (its second output), so the gradient is exact also where x is 0. Nothing flows
 * from the mask output (it does not depend on x). The random draws (randomNormal,
 * randomUniform, truncatedNormal, multinomial) are non-differentiable: their values do not
 * depend on an input (multinomial's int32 samples are piecewise constant in its logits).
 */
import { type SymbolicTensor, mul } from '@kiln/graph';
import { registerGradient, registerNonDifferentiable } from '../registry.js';

registerGradient('dropout', ([dy], ctx) => [dy ? mul(dy, ctx.outputs[1] as SymbolicTensor) : null]);

for (const op of ['randomNormal', 'randomUniform', 'truncatedNormal'] as const) registerNonDifferentiable(op, 'a random draw with no tensor input');
registerNonDifferentiable('multinomial', 'int32 samples: piecewise constant in the logits');
