/**
 * Constant folding: a node whose inputs are all constants is evaluated at compile time and
 * replaced by a constant, unless its result would exceed `maxElements` (folding a broadcast
 * of a scalar into a huge literal makes the program bigger, not faster). Stateful ops (random
 * draws, assigns) and targets are never folded. The evaluator is injected (the compiler does
 * not depend on a runtime); the reference executor provides one.
 */
import { type Attrs, type Node, type Tensor, getOp, sizeOf } from '@kiln/graph';
import { type GraphWithFetches, KEEP, rewriteGraph } from './rewrite.js';

/** Evaluates one stateless op on host values; `node` names it in errors. */
export type ConstantEvaluator = (op: string, inputs: Tensor[], attrs: Attrs, node?: Node) => Tensor[];

export interface ConstantFoldOptions {
  evaluate: ConstantEvaluator;
  /** Largest result (elements per output) to materialize; default 65536. */
  maxElements?: number;
}

export function constantFold(src: GraphWithFetches, opts: ConstantFoldOptions): GraphWithFetches {
  const cap = opts.maxElements ?? 65536;
  return rewriteGraph(src, (node, ctx) => {
    const def = getOp(node.op);
    if (def.source || def.stateful || def.target || node.controlInputs.length > 0) return KEEP;
    if (ctx.inputs.length === 0 || !ctx.inputs.every((t) => t.node.op === 'const')) return KEEP;
    if (!node.outputs.every((o) => o.shape.every((d) => d !== null) && sizeOf(o.shape as number[]) <= cap)) return KEEP;
    const values = opts.evaluate(
      node.op,
      ctx.inputs.map((t) => t.node.attrs.value as Tensor),
      node.attrs as Attrs,
      node,
    );
    const outputs = values.map((v, i) =>
      ctx.graph.constant(v, undefined, node.outputs.length === 1 ? node.name : `${node.name}/out${i}`),
    );
    return { kind: 'replace', outputs };
  });
}
