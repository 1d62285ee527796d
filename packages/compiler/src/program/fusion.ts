/**
 * Fusion decisions: which graph nodes run together in one kernel. Pure analysis over the
 * optimized, shape-specialized graph; build-kernels.ts turns the groups into kernel specs.
 *
 * Node roles:
 *   ew       an op with an elementwise lowering (one output, stateless)
 *   sink     assign/assignAdd/assignSub of a variable assigned once, whose result is unused:
 *            an elementwise output that writes the variable (an in-place optimizer update)
 *   reduce   sum/mean/max/min/prod on float32
 *   matmul   rank-2 float32 matMul (a contraction)
 *   view     reshape/expandDims/squeeze (and identity when unfused): aliases, no code
 *   op       everything else: a kernel the backend implements whole
 *
 * Rules (each merge leaves a reason string for the program dump):
 *   1. Elementwise clusters: a producer joins its consumer's cluster when both are ew/sink and
 *      the producer's shape is the consumer's index space (no broadcast between them). A
 *      producer with other consumers outside stays materialized as an extra output of the
 *      cluster (computed once, written once), so fusion never recomputes.
 *   2. Reduce prologue: a cluster whose only output is consumed only by a reduction is
 *      evaluated inside the reduction's loop (mul+sum, the cross-entropy pattern).
 *   3. Epilogues: a cluster with one output whose only use of a reduction's or a contraction's
 *      result is elementwise over that result's shape runs on each result element as it is
 *      produced (bias + activation after matMul, neg/div after a sum).
 *   4. Horizontal: independent small elementwise groups of one shape (optimizer scalars)
 *      become one kernel.
 * Every merge keeps the kernel graph acyclic: two groups are merged only if no data path
 * leads from one to the other through a third group. Control edges do not constrain fusion:
 * within a run every read of a variable sees its committed value (updates are double
 * buffered), so ordering between updates and reads cannot change a result; op kernels with
 * state keep their relative order in the scheduler.
 */
import { type Node, type SymbolicTensor, getOp, shapesEqual, sizeOf } from '@kiln/graph';
import { SHAPE_ONLY_INPUTS, getElementwiseLowering } from '../lower/elementwise.js';

export type Role = 'ew' | 'sink' | 'reduce' | 'matmul' | 'view' | 'op';

export const VIEW_OPS = new Set(['reshape', 'expandDims', 'squeeze']);
export const ALIAS_OPS = new Set(['identity', 'stopGradient']);
export const ASSIGN_OPS = new Set(['assign', 'assignAdd', 'assignSub']);
const REDUCE_OPS = new Set(['sum', 'mean', 'max', 'min', 'prod']);
/** An elementwise kernel grows to at most this many graph nodes (its expressions are DAGs: each node is computed once). */
const MAX_EXPR_SIZE = 192;
/** Elementwise groups up to this many elements may fuse horizontally. */
const SMALL_ELEMENTS = 64;
/** A horizontal merge stops at this many graph nodes (a long chain of small ops stays several kernels). */
const MAX_HORIZONTAL_NODES = 2 * MAX_EXPR_SIZE;

export interface Group {
  id: number;
  kind: 'elementwise' | 'reduce' | 'contraction' | 'view' | 'op';
  /** Member nodes in graph order. */
  nodes: Node[];
  /** The reduction or contraction node of a reduce/contraction group. */
  main?: Node;
  /** The single output of the prologue cluster (the reduction's input), when fused. */
  prologue?: SymbolicTensor;
  /** The single output of the epilogue cluster (the group's result), when fused. */
  epilogue?: SymbolicTensor;
  reasons: string[];
}

export interface FusionResult {
  roles: Map<Node, Role>;
  groups: Group[];
  groupOf: Map<Node, Group>;
  /** Transposes and slices read in place by all their (elementwise) consumers: no kernel. */
  folded: Set<Node>;
}

/** Movement ops that are index maps a consumer can read through. */
export const FOLDABLE_OPS = new Set(['transpose', 'slice', 'pad', 'concat']);

/** The shape an ew/sink node iterates over (a sink: its variable's shape). */
function indexSpace(n: Node): readonly (number | null)[] {
  return ASSIGN_OPS.has(n.op) ? n.inputs[0]!.shape : n.output.shape;
}

function classify(nodes: readonly Node[], consumers: Map<Node, Node[]>, fetched: Set<SymbolicTensor>, fuse: boolean): Map<Node, Role> {
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

/** Groups the (non-source) nodes of a graph into kernels. */
export function fuseNodes(nodes: readonly Node[], consumers: Map<Node, Node[]>, fetched: Set<SymbolicTensor>, fuse: boolean): FusionResult {
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
  if (!fuse) return { roles, groups: all, groupOf, folded: new Set() };

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

  // 1. Elementwise clusters along same-shape producer -> consumer edges, in graph order. First
  // only producers with a single consumer (nothing extra to write); producers used elsewhere
  // join later (1b), after prologues and epilogues had their pick: a relu mask should fuse
  // into the backward matmul's epilogue, not become a second output of the forward kernel.
  const elementwisePass = (singleConsumer: boolean): void => {
    for (const c of nodes) {
      const rc = roles.get(c)!;
      if (rc !== 'ew' && rc !== 'sink') continue;
      for (const [ti, t] of c.inputs.entries()) {
        if (SHAPE_ONLY_INPUTS[c.op]?.includes(ti)) continue;
        const p = t.node;
        if (!inGraph(p) || roles.get(p) !== 'ew') continue;
        if (ASSIGN_OPS.has(c.op) && ti === 0) continue;
        if (!shapesEqual(p.output.shape, indexSpace(c))) continue;
        const gp = groupOf.get(p)!;
        const gc = groupOf.get(c)!;
        if (gp === gc || gp.kind !== 'elementwise' || gc.kind !== 'elementwise') continue;
        const others = dataConsumers(t).some((x) => groupOf.get(x) !== gc) || fetched.has(t);
        if (singleConsumer && (others || dataConsumers(t).length !== 1)) continue;
        if (gp.nodes.length + gc.nodes.length > MAX_EXPR_SIZE) continue;
        if (!canMerge(gp, gc)) continue;
        merge(gc, gp, `${p.op} '${p.name}' into ${c.op} '${c.name}': elementwise, same shape`);
      }
    }
  };
  elementwisePass(true);

  /** The outputs a pure elementwise group must materialize (used outside it, or fetched). */
  const clusterOutputs = (g: Group): SymbolicTensor[] =>
    g.nodes
      .filter((n) => roles.get(n) === 'ew')
      .map((n) => n.output)
      .filter((t) => fetched.has(t) || dataConsumers(t).some((x) => groupOf.get(x) !== g));
  const hasSink = (g: Group) => g.nodes.some((n) => roles.get(n) === 'sink');

  // 2. Reduce prologues.
  for (const r of nodes) {
    if (roles.get(r) !== 'reduce') continue;
    const t = r.inputs[0]!;
    if (!inGraph(t.node) || roles.get(t.node) !== 'ew') continue;
    const k = groupOf.get(t.node)!;
    if (k.kind !== 'elementwise' || hasSink(k)) continue;
    const outs = clusterOutputs(k);
    if (outs.length !== 1 || outs[0] !== t || fetched.has(t) || dataConsumers(t).length !== 1) continue;
    const gr = groupOf.get(r)!;
    if (!canMerge(k, gr)) continue;
    gr.prologue = t;
    merge(gr, k, `prologue of ${r.op} '${r.name}': ${t.node.op} '${t.node.name}' evaluated in the reduction loop`);
  }

  // 3. Epilogues of reductions, contractions and other single-output float ops (conv2d + bias +
  // relu). Contractions and ops compute in their output buffer, so the epilogue must keep the dtype.
  for (const m of nodes) {
    const role = roles.get(m);
    const def = getOp(m.op);
    const opLike = role === 'op' && !FOLDABLE_OPS.has(m.op) && !def.stateful && !def.target && m.outputs.length === 1 && m.output.dtype === 'float32';
    if (role !== 'reduce' && role !== 'matmul' && !opLike) continue;
    const u = m.output;
    const cs = dataConsumers(u);
    if (fetched.has(u) || cs.length !== 1) continue;
    const c = cs[0]!;
    if (roles.get(c) !== 'ew' || c.inputs.filter((x) => x === u).length !== 1) continue;
    const k = groupOf.get(c)!;
    if (k.kind !== 'elementwise' || hasSink(k)) continue;
    if (!k.nodes.every((n) => shapesEqual(n.output.shape, u.shape))) continue;
    const outs = clusterOutputs(k);
    if (outs.length !== 1 || (role !== 'reduce' && outs[0]!.dtype !== m.output.dtype)) continue;
    // A value that feeds a variable update belongs with that update (one kernel writes the
    // slot and the variable), not in an epilogue that would leave the assign a copy kernel.
    const feedsUpdate = dataConsumers(outs[0]!).some((c) => roles.get(c) === 'sink' || groupOf.get(c)!.nodes.some((x) => roles.get(x) === 'sink'));
    if (feedsUpdate) continue;
    const gm = groupOf.get(m)!;
    if (opLike && gm.nodes.length !== 1) continue;
    if (!canMerge(gm, k)) continue;
    gm.main = m;
    gm.epilogue = outs[0];
    merge(gm, k, `epilogue of ${m.op} '${m.name}': ${k.nodes.map((n) => `${n.op} '${n.name}'`).join(', ')} applied to each result element`);
  }

  // 1b. Producers with several consumers (an optimizer's new moment feeds both its assign and
  // the variable's update: one kernel computes it once and writes both).
  elementwisePass(false);

  // 4. Horizontal: small elementwise groups of the same index space (the scalar bookkeeping of
  // optimizers: step counters, beta powers, the bias-corrected rate) run as one kernel.
  const small = all.filter((g) => g.kind === 'elementwise' && g.nodes.length > 0 && sizeOf(indexSpace(g.nodes[0]!) as number[]) <= SMALL_ELEMENTS);
  for (let i = 0; i < small.length; i++) {
    const a = small[i]!;
    if (a.nodes.length === 0) continue;
    for (let j = i + 1; j < small.length; j++) {
      const b = small[j]!;
      if (b.nodes.length === 0 || !shapesEqual(indexSpace(a.nodes[0]!), indexSpace(b.nodes[0]!))) continue;
      if (a.nodes.length + b.nodes.length > MAX_HORIZONTAL_NODES) continue;
      if (!canMerge(a, b)) continue;
      merge(
        a,
        b,
        `horizontal: ${b.nodes.map((n) => `'${n.name}'`).join(', ')} with ${a.nodes[0]!.op} '${a.nodes[0]!.name}': small independent kernels of one shape`,
      );
    }
  }

  // 5. Folding: a transpose, slice, pad or concat whose every consumer is an elementwise kernel
  // is not run; the consumers read its inputs through strides (chains compose; a pad reads its
  // constant outside the valid range, a concat reads each input within its slot).
  const folded = new Set<Node>();
  for (const n of [...nodes].reverse()) {
    const g = groupOf.get(n)!;
    if (!FOLDABLE_OPS.has(n.op) || g.kind !== 'op' || g.nodes.length !== 1 || g.epilogue || fetched.has(n.output)) continue;
    // A pad read by a folded pad or concat (through folded transposes and slices) would need
    // two fill regions in one piece: the inner pad stays a kernel.
    const boxedAbove = (m: Node): boolean => dataConsumers(m.output).some((c) => folded.has(c) && (c.op === 'pad' || c.op === 'concat' || boxedAbove(c)));
    if (n.op === 'pad' && boxedAbove(n)) continue;
    const cs = dataConsumers(n.output);
    const ok =
      cs.length > 0 &&
      cs.every(
        (c) =>
          folded.has(c) ||
          (groupOf.get(c)!.kind === 'elementwise' &&
            !(ASSIGN_OPS.has(c.op) && c.inputs[0] === n.output) &&
            !SHAPE_ONLY_INPUTS[c.op]?.some((i) => c.inputs[i] === n.output)),
      );
    if (!ok) continue;
    folded.add(n);
    g.nodes = [];
    const readers = (t: SymbolicTensor): Node[] => dataConsumers(t).flatMap((x) => (folded.has(x) ? readers(x.output) : [x]));
    for (const c of new Set(readers(n.output).map((x) => groupOf.get(x)!))) {
      c.reasons.push(`${n.op} '${n.name}' folded into this kernel: its input is read through strides, no copy`);
    }
  }

  const groups = all.filter((g) => g.nodes.length > 0);
  return { roles, groups, groupOf, folded };
}
