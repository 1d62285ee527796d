/**
 * The execution plan of one run signature (fetches + fed placeholder names): the graph pruned
 * to what the fetches need (through data and control edges), in topological order, with the
 * placeholders that must be fed and the variables read or written. It is backend-neutral:
 * backends prepare() from it (the reference backend walks its nodes; the compiled CPU backend
 * compiles it with compile() into a Program), and Session.compiled() returns the Program the
 * compiler makes of the signature.
 */
import { reachableFrom } from '../passes/rewrite.js';
import { type Graph, KilnError, type Node, type SymbolicTensor, fmtShape, getOp } from '@kiln/graph';

export interface ExecutionPlan {
  readonly graph: Graph;
  readonly fetches: readonly SymbolicTensor[];
  /** fetches[i] is a target (OpDef.target): Session.run returns null in its place. */
  readonly targets: readonly boolean[];
  /** Placeholders named by the signature (fed), in graph order. */
  readonly feeds: readonly Node[];
  /** Every node the fetches depend on, in graph (topological) order. */
  readonly nodes: readonly Node[];
  /** The placeholders among `nodes`: each must be fed. */
  readonly placeholders: readonly Node[];
  /** Variables read by `nodes` or written by their assign ops, in graph order. */
  readonly variables: readonly Node[];
  /** Variables written by assign ops among `nodes`. */
  readonly writes: readonly Node[];
  /** Identifies the signature: fetch names in order, then sorted feed names. */
  readonly key: string;
  /** A short text dump: signature, node count, the nodes in order. */
  toString(): string;
}

/** The nodes `fetches` depend on through data and control edges, in graph order. */
export function dependencies(fetches: readonly Node[]): Node[] {
  return [...reachableFrom(fetches)].sort((a, b) => a.id - b.id);
}

export function planKey(fetches: readonly SymbolicTensor[], feeds: readonly Node[]): string {
  return `${fetches.map((f) => f.name).join(',')}|${feeds
    .map((n) => n.name)
    .sort()
    .join(',')}`;
}

const STATE_OPS = new Set(['assign', 'assignAdd', 'assignSub']);

/**
 * Builds the plan for `fetches` with `feeds` fed. Throws MISSING_FEED when a placeholder the
 * fetches need is not among `feeds` (naming it with its dtype and shape).
 */
export function makePlan(graph: Graph, fetches: readonly SymbolicTensor[], feeds: readonly Node[]): ExecutionPlan {
  const nodes = dependencies(fetches.map((f) => f.node));
  const fed = new Set(feeds);
  const placeholders = nodes.filter((n) => n.op === 'placeholder');
  const missing = placeholders.filter((p) => !fed.has(p));
  if (missing.length) {
    const list = missing.map((p) => `'${p.name}' (${p.output.dtype}${fmtShape(p.output.shape)})`).join(', ');
    const fedList = feeds.length ? feeds.map((n) => `'${n.name}'`).join(', ') : 'none';
    throw new KilnError(
      'MISSING_FEED',
      `the fetches need placeholder${missing.length > 1 ? 's' : ''} ${list} but ${missing.length > 1 ? 'they were' : 'it was'} not fed (fed: ${fedList})`,
    );
  }
  const writes = [...new Set(nodes.filter((n) => STATE_OPS.has(n.op)).map((n) => n.inputs[0]!.node))].sort((a, b) => a.id - b.id);
  const variables = [...new Set([...nodes.filter((n) => n.op === 'variable'), ...writes])].sort((a, b) => a.id - b.id);
  const targets = fetches.map((f) => getOp(f.node.op).target === true);
  const key = planKey(fetches, feeds);
  const sortedFeeds = [...feeds].sort((a, b) => a.id - b.id);
  return {
    graph,
    fetches: [...fetches],
    targets,
    feeds: sortedFeeds,
    nodes,
    placeholders,
    variables,
    writes,
    key,
    toString: () =>
      [
        `plan fetches=[${fetches.map((f) => f.name).join(', ')}] feeds=[${sortedFeeds.map((n) => n.name).join(', ')}]`,
        `  ${nodes.length} of ${graph.nodes.length} nodes; variables read=[${variables.map((v) => v.name).join(', ')}] written=[${writes.map((v) => v.name).join(', ')}]`,
        ...nodes.map(
          (n) =>
            `  ${n.name} = ${n.op}(${n.inputs.map((x) => x.name).join(', ')})${n.controlInputs.length ? ` ^[${n.controlInputs.map((c) => c.name).join(', ')}]` : ''}`,
        ),
      ].join('\n'),
  };
}
