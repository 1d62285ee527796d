/**
 * Checks that a run's feed shapes agree with each other before any kernel runs: the plan's
 * graph is pruned to the fetches and re-inferred with the fed shapes (the same specialization
 * the compiler does). When inference fails, the error names the feeds that disagree, found by
 * specializing pairs of feeds with unknown dims (the others left unknown): "feeds 'x'
 * float32[300,2] and 'y' float32[200,3] do not agree: mul 'mul': shapes ...". A failure no
 * pair explains is the graph's own (e.g. an assign of the wrong size) and keeps its message.
 */
import { KilnError, type Node, type Tensor, fmtShape } from '@kiln/graph';
import { pruneToFetches } from '../passes/prune.js';
import { specializeShapes } from '../passes/specialize.js';
import type { ExecutionPlan } from './plan.js';

function inferenceError(plan: ExecutionPlan, shapes: Record<string, readonly (number | null)[]>): KilnError | null {
  try {
    specializeShapes(pruneToFetches({ graph: plan.graph, fetches: [...plan.fetches] }), shapes as Record<string, readonly number[]>);
    return null;
  } catch (e) {
    if (e instanceof KilnError) return e;
    throw e;
  }
}

/** Throws (code of the inference error) naming the disagreeing feeds; `label` names a fed placeholder for the user. */
export function checkFeedShapes(plan: ExecutionPlan, feeds: ReadonlyMap<Node, Tensor>, label: (n: Node) => string): void {
  const open = [...feeds.keys()].filter((n) => (n.attrs.shape as (number | null)[]).some((d) => d === null));
  if (open.length === 0) return;
  const all: Record<string, readonly (number | null)[]> = {};
  for (const n of open) all[n.name] = feeds.get(n)!.shape;
  const err = inferenceError(plan, all);
  if (!err) return;
  const show = (n: Node) => `'${label(n)}' ${feeds.get(n)!.dtype}${fmtShape(feeds.get(n)!.shape)}`;
  const declared = (n: Node) => n.attrs.shape as (number | null)[];
  for (let i = 0; i < open.length; i++) {
    for (let j = i + 1; j < open.length; j++) {
      const [a, b] = [open[i]!, open[j]!];
      const pair = inferenceError(plan, { ...Object.fromEntries(open.map((n) => [n.name, declared(n)])), [a.name]: all[a.name]!, [b.name]: all[b.name]! });
      if (pair) throw new KilnError(pair.code, `Session.run: feeds ${show(a)} and ${show(b)} do not agree: ${pair.message}`);
    }
  }
  // No two feeds disagree: the graph itself rejects a feed (its own message names the node).
  throw err;
}
