/**
 * Gradient rules: pool family. maxPool -> maxPoolGrad, avgPool -> avgPoolGrad. Both gradient
 * ops are linear in dy; their own gradients w.r.t. dy are their adjoints (maxPoolGradGrad,
 * resp. avgPool), and w.r.t. x they are null: maxPoolGrad is piecewise constant in x (the
 * argmax moves only at ties) and avgPoolGrad reads only x's shape.
 */
import type { SymbolicTensor } from '@kiln/graph';
import { type GradContext, registerGradient } from '../registry.js';

function node(ctx: GradContext, op: string, inputs: SymbolicTensor[]): SymbolicTensor {
  return ctx.node.graph.addNode(op, inputs, { ...ctx.attrs }).output;
}

registerGradient('maxPool', ([dy], ctx) => [dy ? node(ctx, 'maxPoolGrad', [ctx.inputs[0]!, dy]) : null]);
registerGradient('avgPool', ([dy], ctx) => [dy ? node(ctx, 'avgPoolGrad', [ctx.inputs[0]!, dy]) : null]);
registerGradient('maxPoolGrad', ([g], ctx) => [null, g ? node(ctx, 'maxPoolGradGrad', [ctx.inputs[0]!, g]) : null]);
registerGradient('maxPoolGradGrad', ([g], ctx) => [null, g ? node(ctx, 'maxPoolGrad', [ctx.inputs[0]!, g]) : null]);
registerGradient('avgPoolGrad', ([g], ctx) => [null, g ? node(ctx, 'avgPool', [g]) : null]);
