/** Deterministic random streams for random ops: one generator (the graph's), seeded per run and node. */
import { makeRandom } from '@kiln/graph';

export { makeRandom };

/**
 * The random stream of one stateful node in one run: derived from the run seed and the node's
 * name (not its position), so every backend and every rewrite of the graph draws the same
 * values for the same node.
 */
export function nodeRandom(seed: number, nodeName: string): () => number {
  let h = 2166136261;
  for (let i = 0; i < nodeName.length; i++) h = Math.imul(h ^ nodeName.charCodeAt(i), 16777619);
  return makeRandom((Math.imul(seed >>> 0, 1000003) + (h >>> 0)) >>> 0);
}
