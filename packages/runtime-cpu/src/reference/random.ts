/** Deterministic random streams for random ops: one generator, seeded per run and node. */

/** mulberry32: a small, well-distributed 32-bit generator; deterministic per seed. */
export function makeRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
