/**
 * Dead code elimination: drop nodes whose outputs nobody uses and that have no effect.
 * Live roots are the fetches, stateful nodes (assigns, random draws, variables) and sources
 * that define the graph's interface (placeholders). Everything else must be reachable from a
 * root to survive.
 */
import { getOp } from '@kiln/graph';
import { DROP, type GraphWithFetches, KEEP, reachableFrom, rewriteGraph } from './rewrite.js';

export function deadCodeElimination(src: GraphWithFetches): GraphWithFetches {
  const roots = src.graph.nodes.filter((n) => n.op === 'placeholder' || getOp(n.op).stateful || getOp(n.op).target);
  const live = reachableFrom([...roots, ...src.fetches.map((f) => f.node)]);
  return rewriteGraph(src, (node) => (live.has(node) ? KEEP : DROP));
}
