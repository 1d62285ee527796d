/**
 * Feeding any tensor, as TF1 does: for a run signature that feeds tensors other than
 * placeholders, the Session plans on a copy of the graph in which each fed tensor is replaced
 * by a placeholder of its dtype and shape (named after the tensor's node: 'h', or 'h/fed_1'
 * for output 1 of a multi-output node). What only the replaced tensors needed is then
 * unreachable from the fetches and pruned by the plan and the compiler. Node names are kept,
 * so variables, random streams and error messages match the original graph.
 */
import { type Graph, KilnError, type Node, type SymbolicTensor } from '@kiln/graph';
import { DROP, KEEP, copyNode, reachableFrom, rewriteGraph } from '../passes/rewrite.js';

const ASSIGNS = new Set(['assign', 'assignAdd', 'assignSub']);

export interface FedGraph {
  graph: Graph;
  /** The fetches, as tensors of `graph`. */
  fetches: SymbolicTensor[];
  /** Each fed tensor of the original graph -> the placeholder standing for it in `graph`. */
  placeholders: Map<SymbolicTensor, Node>;
}

/** A copy of `graph` where every tensor in `fed` (not placeholders) is a placeholder. */
export function substituteFeeds(graph: Graph, fetches: readonly SymbolicTensor[], fed: readonly SymbolicTensor[]): FedGraph {
  const fedSet = new Set(fed);
  const byNew = new Map<SymbolicTensor, SymbolicTensor>();
  const live = reachableFrom(fetches.map((f) => f.node));
  const out = rewriteGraph({ graph, fetches: [...fetches] }, (node, ctx) => {
    if (ASSIGNS.has(node.op) && fedSet.has(node.inputs[0]!)) {
      // A fed variable has no state to update in this run.
      if (!live.has(node)) return DROP;
      throw new KilnError(
        'INVALID_FEED',
        `Session.run: feed '${node.inputs[0]!.node.name}' is a variable that this run updates (${node.op} '${node.name}'); feed it only in runs that do not assign it`,
      );
    }
    if (!node.outputs.some((o) => fedSet.has(o))) return KEEP;
    const single = node.outputs.length === 1;
    // Outputs not fed still come from a copy of the node.
    const copy = single ? null : copyNode(node, ctx, []);
    const outputs = node.outputs.map((o, i) => {
      if (!fedSet.has(o)) return copy!.outputs[i]!;
      const p = ctx.graph.addNode('placeholder', [], { dtype: o.dtype, shape: [...o.shape] }, { name: single ? node.name : `${node.name}/fed_${i}` });
      byNew.set(o, p.output);
      return p.output;
    });
    return { kind: 'replace', outputs };
  });
  const placeholders = new Map<SymbolicTensor, Node>();
  for (const t of fed) {
    const p = byNew.get(t);
    if (!p) throw new KilnError('INTERNAL', `substituteFeeds: fed tensor '${t.name}' was not replaced`);
    placeholders.set(t, p.node);
  }
  return { graph: out.graph, fetches: out.fetches, placeholders };
}
