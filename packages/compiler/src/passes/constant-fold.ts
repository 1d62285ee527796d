/**
 * Constant folding: a node whose inputs are all constants is evaluated at compile time and
 * replaced by a constant, unless its result would exceed `maxElements` (folding a broadcast
 * of a scalar into a huge literal makes the program bigger, not faster). Stateful ops (random
 * draws, assigns) and targets are never folded. The evaluator is injected (the compiler does
 * not depend on a runtime); the reference executor provides one.
 */
import { type Attrs, type Node, type SymbolicTensor, Tensor, getOp, sizeOf } from '@kiln/graph';
import { SHAPE_ONLY_INPUTS } from '../lower/elementwise.js';
import { type GraphWithFetches, KEEP, rewriteGraph } from './rewrite.js';

/** Evaluates one stateless op on host values; `node` names it in errors. */
export type ConstantEvaluator = (op: string, inputs: Tensor[], attrs: Attrs, node?: Node) => Tensor[];

export interface ConstantFoldOptions {
  evaluate: ConstantEvaluator;
  /** Largest result (elements per output) to materialize; default 65536. */
  maxElements?: number;
}

const GROWING = new Set(['broadcastTo', 'broadcastLike']);

export function constantFold(src: GraphWithFetches, opts: ConstantFoldOptions): GraphWithFetches {
  const cap = opts.maxElements ?? 65536;
  /** The value of t if it is a constant, or a kept broadcast of one (evaluated, not kept). */
  const valueOf = (t: SymbolicTensor): Tensor | undefined => {
    if (t.node.op === 'const') return t.node.attrs.value as Tensor;
    if (!GROWING.has(t.node.op) || !t.shape.every((d) => d !== null) || sizeOf(t.shape as number[]) > cap) return undefined;
    const inner = valueOf(t.node.inputs[0]!);
    const rest = t.node.inputs.slice(1);
    if (!inner || !rest.every((x) => x.shape.every((d) => d !== null))) return undefined;
    return opts.evaluate(t.node.op, [inner, ...rest.map((x) => new Tensor(x.dtype, x.shape as number[]))], t.node.attrs as Attrs, t.node)[0];
  };
  return rewriteGraph(src, (node, ctx) => {
    const def = getOp(node.op);
    if (def.source || def.stateful || def.target || node.controlInputs.length > 0) return KEEP;
    if (ctx.inputs.length === 0) return KEEP;
    if (!node.outputs.every((o) => o.shape.every((d) => d !== null) && sizeOf(o.shape as number[]) <= cap)) return KEEP;
    // A broadcast stays a broadcast: consumers read the small constant through zero strides
    // (a scalar one becomes a literal), which beats a materialized copy of any size. A node
    // that consumes such a broadcast still folds (sum(broadcastTo(1, [n])) is the constant n).
    if (GROWING.has(node.op) && sizeOf(node.output.shape as number[]) > sizeOf(ctx.inputs[0]!.shape as number[])) return KEEP;
    const inputs: Tensor[] = [];
    for (const [i, t] of ctx.inputs.entries()) {
      const v = SHAPE_ONLY_INPUTS[node.op]?.includes(i) && t.shape.every((d) => d !== null) ? new Tensor(t.dtype, t.shape as number[]) : valueOf(t);
      if (!v) return KEEP;
      inputs.push(v);
    }
    const values = opts.evaluate(node.op, inputs, node.attrs as Attrs, node);
    const outputs = values.map((v, i) => ctx.graph.constant(v, undefined, node.outputs.length === 1 ? node.name : `${node.name}/out${i}`));
    return { kind: 'replace', outputs };
  });
}
