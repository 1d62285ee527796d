/**
 * The mutable state of fusion (fusion.ts): every node's role and group, and the one way groups
 * change, merge(), guarded by canMerge() (no data path between the two groups through a third,
 * so the kernel graph stays acyclic). The phases (fusion-phases.ts) read and merge through it.
 */
import { type Node, type SymbolicTensor, getOp, shapesEqual } from '@kiln/graph';
import { getElementwiseLowering } from '../lower/elementwise.js';
import { ALIAS_OPS, ASSIGN_OPS, type Group, REDUCE_OPS, type Role, VIEW_OPS } from './fusion-types.js';

/** The role of every node (see fusion.ts): what kind of kernel it can be part of. */
export function classify(nodes: readonly Node[], consumers: Map<Node, Node[]>, fetched: Set<SymbolicTensor>, fuse: boolean): Map<Node, Role> {
  const assignsPerVariable = new Map<Node, number>();
  for (const n of nodes) if (ASSIGN_OPS.has(n.op)) assignsPerVariable.set(n.inputs[0]!.node, (assignsPerVariable.get(n.inputs[0]!.node) ?? 0) + 1);
  const roles = new Map<Node, Role>();
  for (const n of nodes) {
    const def = getOp(n.op);
    let role: Role = 'op';
    if (VIEW_OPS.has(n.op) || (ALIAS_OPS.has(n.op) && !fuse)) role = 'view';
    else if (getElementwiseLowering(n.op) && n.outputs.length === 1 && !def.stateful) role = 'ew';
    else if (fuse && ASSIGN_OPS.has(n.op)) {
      const v = n.inputs[0]!.node;
      const dataUse = (consumers.get(n) ?? []).some((c) => c.inputs.some((t) => t.node === n));
      const sameType = n.inputs[1]!.dtype === v.output.dtype && shapesEqual(n.inputs[1]!.shape, v.output.shape);
      if (v.op === 'variable' && assignsPerVariable.get(v) === 1 && !dataUse && !fetched.has(n.output) && sameType) role = 'sink';
    } else if (REDUCE_OPS.has(n.op) && n.inputs[0]!.dtype === 'float32') role = 'reduce';
    else if (n.op === 'matMul' && n.output.dtype === 'float32' && n.inputs[0]!.shape.length === 2 && n.inputs[1]!.shape.length === 2) role = 'matmul';
    roles.set(n, role);
  }
  return roles;
}

export type FusionState = ReturnType<typeof fusionState>;

/** Every node alone in its group, with the merge machinery. */
export function fusionState(nodes: readonly Node[], consumers: Map<Node, Node[]>, fetched: Set<SymbolicTensor>, fuse: boolean) {
  const roles = classify(nodes, consumers, fetched, fuse);
  const index = new Map(nodes.map((n, i) => [n, i] as const));
  const groupOf = new Map<Node, Group>();
  const all: Group[] = [];
  for (const n of nodes) {
    const r = roles.get(n)!;
    const kind = r === 'ew' || r === 'sink' ? 'elementwise' : r === 'reduce' ? 'reduce' : r === 'matmul' ? 'contraction' : r === 'view' ? 'view' : 'op';
    const g: Group = { id: all.length, kind, nodes: [n], reasons: [] };
    if (kind === 'reduce' || kind === 'contraction') g.main = n;
    all.push(g);
    groupOf.set(n, g);
  }
  const inGraph = (n: Node) => index.has(n);
  /** The distinct nodes that read t (add(t, t) is one consumer). */
  const dataConsumers = (t: SymbolicTensor) => [...new Set((consumers.get(t.node) ?? []).filter((c) => c.inputs.includes(t)))];
  // Successor groups are cached per group; a merged-away group is replaced by the group it went
  // into when a cached set is read, and a merge unions the two sets, so a search costs the
  // groups and edges it visits, not the nodes inside them.
  const mergedInto = new Map<Group, Group>();
  const canon = (g: Group): Group => {
    let r = g;
    while (mergedInto.has(r)) r = mergedInto.get(r)!;
    return r;
  };
  const succCache = new Map<Group, Set<Group>>();
  const succGroups = (g: Group): Set<Group> => {
    let s = succCache.get(g);
    if (!s) {
      s = new Set<Group>();
      for (const n of g.nodes) for (const t of n.outputs) for (const c of dataConsumers(t)) if (inGraph(c)) s.add(groupOf.get(c)!);
      succCache.set(g, s);
    }
    const out = new Set<Group>();
    for (const x of s) {
      const y = canon(x);
      if (y !== g) out.add(y);
    }
    succCache.set(g, out);
    return out;
  };
  // Every node after `frontier` (in graph order) is still a group of its own: a path from such a
  // node only ever reaches later nodes, each alone in its group, so it cannot reach a group
  // whose nodes all precede it. This prunes the search below, which would otherwise walk the
  // whole rest of a long chain for each merge (quadratic compile time).
  let frontier = -1;
  const last = (g: Group) => index.get(g.nodes[g.nodes.length - 1]!)!;
  /** Is there a path a -> ... -> b through some third group? (Merged groups span graph order, so no other index pruning.) */
  const indirectPath = (a: Group, b: Group): boolean => {
    const seen = new Set<Group>([a]);
    const bound = Math.max(frontier, last(b));
    const stack = [...succGroups(a)].filter((g) => g !== b);
    while (stack.length) {
      const g = stack.pop()!;
      if (seen.has(g)) continue;
      seen.add(g);
      if (g.nodes.length === 1 && index.get(g.nodes[0]!)! > bound) continue;
      for (const s of succGroups(g)) {
        if (s === b) return true;
        if (!seen.has(s)) stack.push(s);
      }
    }
    return false;
  };
  const merge = (into: Group, from: Group, reason: string): void => {
    if (into === from) return;
    const succ = new Set([...succGroups(into), ...succGroups(from)]);
    for (const n of from.nodes) groupOf.set(n, into);
    mergedInto.set(from, into);
    succCache.delete(from);
    succCache.set(into, new Set([...succ].map(canon).filter((x) => x !== into)));
    into.nodes = [...into.nodes, ...from.nodes].sort((x, y) => index.get(x)! - index.get(y)!);
    into.reasons.push(...from.reasons, reason);
    from.nodes = [];
    frontier = Math.max(frontier, last(into));
  };
  const canMerge = (a: Group, b: Group) => !indirectPath(a, b) && !indirectPath(b, a);

  /** The outputs a pure elementwise group must materialize (used outside it, or fetched). */
  const clusterOutputs = (g: Group): SymbolicTensor[] =>
    g.nodes
      .filter((n) => roles.get(n) === 'ew')
      .map((n) => n.output)
      .filter((t) => fetched.has(t) || dataConsumers(t).some((x) => groupOf.get(x) !== g));
  const hasSink = (g: Group) => g.nodes.some((n) => roles.get(n) === 'sink');

  return { nodes, fetched, roles, index, groupOf, all, inGraph, dataConsumers, succGroups, canMerge, merge, clusterOutputs, hasSink };
}
