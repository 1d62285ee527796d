/**
 * Gradient rules: conv family. Every conv op is bilinear in (input, filter), so each gradient
 * is another conv op with the same window attrs, and so are second derivatives:
 *   conv2d(x, f) -> dy          dx = conv2dBackpropInput(x, f, dy),  df = conv2dBackpropFilter(x, f, dy)
 *   conv2dBackpropInput(x, f, dy) (x: shape only)   d f = BackpropFilter(g, f, dy),  d dy = conv2d(g, f)
 *   conv2dBackpropFilter(x, f, dy) (f: shape only)  d x = BackpropInput(x, g, dy),   d dy = conv2d(x, g)
 *   conv2dTranspose(x, f) = BackpropInput with x as dy: d x = conv2d(g, f), d f = BackpropFilter(g, f, x)
 * and the same with depthwise ops. Shape-only operands get null.
 */
import type { Attrs, SymbolicTensor } from '@kiln/graph';
import { type GradContext, registerGradient } from '../registry.js';

function windowOnly(attrs: Readonly<Attrs>): Attrs {
  const { outputShape: _unused, ...rest } = attrs;
  return rest;
}

function node(ctx: GradContext, op: string, inputs: SymbolicTensor[]): SymbolicTensor {
  return ctx.node.graph.addNode(op, inputs, windowOnly(ctx.attrs)).output;
}

for (const base of ['conv2d', 'depthwiseConv2d'] as const) {
  const input = `${base}BackpropInput` as const;
  const filter = `${base}BackpropFilter` as const;
  registerGradient(base, ([dy], ctx) => {
    if (!dy) return [null, null];
    const [x, f] = ctx.inputs as [SymbolicTensor, SymbolicTensor];
    return [node(ctx, input, [x, f, dy]), node(ctx, filter, [x, f, dy])];
  });
  registerGradient(input, ([g], ctx) => {
    if (!g) return [null, null, null];
    const [, f, dy] = ctx.inputs as [SymbolicTensor, SymbolicTensor, SymbolicTensor];
    return [null, node(ctx, filter, [g, f, dy]), node(ctx, base, [g, f])];
  });
  registerGradient(filter, ([g], ctx) => {
    if (!g) return [null, null, null];
    const [x, , dy] = ctx.inputs as [SymbolicTensor, SymbolicTensor, SymbolicTensor];
    return [node(ctx, input, [x, g, dy]), null, node(ctx, base, [x, g])];
  });
}

registerGradient('conv2dTranspose', ([g], ctx) => {
  if (!g) return [null, null];
  const [x, f] = ctx.inputs as [SymbolicTensor, SymbolicTensor];
  return [node(ctx, 'conv2d', [g, f]), node(ctx, 'conv2dBackpropFilter', [g, f, x])];
});
