/**
 * The one mechanism every graph pass is built on: copy a graph node by node into a fresh
 * Graph, letting the pass drop a node, keep it (with its inputs remapped), or replace its
 * outputs with tensors already in the new graph. Passes are pure: IR in, IR out, and the
 * fetches are carried through the old -> new tensor map.
 */
import { Graph, KilnError, type Node, type SymbolicTensor } from '@kiln/graph';

/** A graph plus the tensors that are fetched from it (what passes must preserve). */
export interface GraphWithFetches {
  graph: Graph;
  fetches: SymbolicTensor[];
}

export type Rewrite =
  /** Copy the node (inputs remapped). */
  | { kind: 'keep' }
  /** Do not copy the node; nothing may use its outputs afterwards. */
  | { kind: 'drop' }
  /** Use these new-graph tensors in place of the node's outputs. */
  | { kind: 'replace'; outputs: SymbolicTensor[] };

export interface RewriteContext {
  /** The new graph being built (to add replacement nodes). */
  graph: Graph;
  /** Maps an old tensor to its counterpart in the new graph. */
  map(t: SymbolicTensor): SymbolicTensor;
  /** The node's inputs, already mapped into the new graph. */
  inputs: SymbolicTensor[];
}

export const KEEP: Rewrite = { kind: 'keep' };
export const DROP: Rewrite = { kind: 'drop' };

/** Copies `node` into `ctx.graph` with its mapped inputs, keeping its name and attrs. */
export function copyNode(node: Node, ctx: RewriteContext, controlInputs: Node[]): Node {
  return ctx.graph.addNode(node.op, ctx.inputs, { ...node.attrs }, { name: node.name, controlInputs });
}

/**
 * Rebuilds `src` applying `visit` to each node in order. Control inputs to dropped nodes are
 * forwarded to that node's own control inputs; control inputs to replaced nodes are forwarded
 * to the nodes producing the replacements.
 */
export function rewriteGraph(src: GraphWithFetches, visit: (node: Node, ctx: RewriteContext) => Rewrite): GraphWithFetches {
  const graph = new Graph();
  const tensorMap = new Map<SymbolicTensor, SymbolicTensor>();
  const controlMap = new Map<Node, Node[]>();
  const map = (t: SymbolicTensor): SymbolicTensor => {
    const m = tensorMap.get(t);
    if (!m) throw new KilnError('INTERNAL', `rewrite: tensor '${t.name}' used after its node was dropped`);
    return m;
  };
  for (const node of src.graph.nodes) {
    let inputs: SymbolicTensor[] | null = null;
    try {
      inputs = node.inputs.map(map);
    } catch {
      inputs = null; // an input was dropped: only legal if this node is dropped too
    }
    const controls = [...new Set(node.controlInputs.flatMap((c) => controlMap.get(c) ?? []))];
    const ctx: RewriteContext = { graph, map, inputs: inputs ?? [] };
    const r = inputs === null ? DROP : visit(node, ctx);
    if (r.kind === 'keep') {
      const copy = copyNode(node, ctx, controls);
      node.outputs.forEach((o, i) => tensorMap.set(o, copy.outputs[i]!));
      controlMap.set(node, [copy]);
    } else if (r.kind === 'replace') {
      node.outputs.forEach((o, i) => tensorMap.set(o, r.outputs[i]!));
      controlMap.set(node, [...new Set([...r.outputs.map((t) => t.node), ...controls])]);
    } else {
      controlMap.set(node, controls);
    }
  }
  return { graph, fetches: src.fetches.map(map) };
}

/** The nodes that `roots` depend on through data or control edges. */
export function reachableFrom(roots: readonly Node[]): Set<Node> {
  const seen = new Set<Node>();
  const stack = [...roots];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const x of n.inputs) stack.push(x.node);
    for (const c of n.controlInputs) stack.push(c);
  }
  return seen;
}
