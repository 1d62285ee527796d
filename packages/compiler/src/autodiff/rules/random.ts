/**
 * Gradient rules: random family. dropout: dx = dy * mask, with the mask the forward node
 * produced (its second output), so the gradient is exact also where x is 0. Nothing flows
 * from the mask output (it does not depend on x).
 */
import { type SymbolicTensor, mul } from '@kiln/graph';
import { registerGradient } from '../registry.js';

registerGradient('dropout', ([dy], ctx) => [dy ? mul(dy, ctx.outputs[1] as SymbolicTensor) : null]);
