/**
 * Prune to fetches: keep only the nodes the fetches depend on (data or control edges). Unlike
 * DCE, this drops unrelated stateful nodes too: they would not run for these fetches anyway.
 */
import { DROP, type GraphWithFetches, KEEP, reachableFrom, rewriteGraph } from './rewrite.js';

export function pruneToFetches(src: GraphWithFetches): GraphWithFetches {
  const live = reachableFrom(src.fetches.map((f) => f.node));
  return rewriteGraph(src, (node) => (live.has(node) ? KEEP : DROP));
}
