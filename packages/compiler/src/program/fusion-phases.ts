/**
 * The phases of fusion, in the order fuseNodes (fusion.ts) runs them. Each is one rule of the
 * fusion algorithm, merging groups through the FusionState (fusion-state.ts) and leaving a
 * reason string on each merge for the program dump; test/programs/fusion-phases.kir has a
 * golden case (and a negative one) per phase.
 */
import { type Node, type SymbolicTensor, getOp, shapesEqual, sizeOf } from '@kiln/graph';
import { SHAPE_ONLY_INPUTS } from '../lower/elementwise.js';
import type { FusionState } from './fusion-state.js';
import { ASSIGN_OPS, FOLDABLE_OPS, MAX_EXPR_SIZE, MAX_HORIZONTAL_NODES, SMALL_ELEMENTS, indexSpace } from './fusion-types.js';

/**
 * Elementwise chains (rule 1): a producer joins its consumer's group when both are elementwise
 * and the producer's shape is the consumer's index space (no broadcast between them), in graph
 * order. With singleConsumer, only producers with one consumer (nothing extra to write); run
 * again without it after prologues and epilogues had their pick (1b: a producer used elsewhere
 * becomes an extra output, computed once, written once).
 */
export function fuseElementwiseChains(st: FusionState, singleConsumer: boolean): void {
  const { nodes, roles, groupOf, fetched, inGraph, dataConsumers, canMerge, merge } = st;
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
}

/** Reduce prologues (rule 2): a group whose only output feeds only a reduction runs inside the reduction's loop (mul + sum). */
export function fuseReducePrologues(st: FusionState): void {
  const { nodes, roles, groupOf, fetched, inGraph, dataConsumers, canMerge, merge, clusterOutputs, hasSink } = st;
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
}

/**
 * Epilogues (rule 3): a group with one output whose only use of a reduction's, contraction's or
 * single-output float op's result is elementwise over that result's shape runs on each result
 * element as it is produced (bias + activation after matMul, conv2d + bias + relu).
 */
export function fuseEpilogues(st: FusionState): void {
  const { nodes, roles, groupOf, fetched, dataConsumers, canMerge, merge, clusterOutputs, hasSink } = st;
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
}

/**
 * Horizontal (rule 4): small elementwise groups of the same index space (the scalar bookkeeping
 * of optimizers: step counters, beta powers, the bias-corrected rate) run as one kernel.
 */
export function fuseHorizontal(st: FusionState): void {
  const { all, canMerge, merge } = st;
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
}

/**
 * Folding (rule 5): a transpose, slice, pad or concat whose every consumer is an elementwise
 * kernel is not run; the consumers read its inputs through views (lower/view.ts). Returns the
 * folded nodes.
 */
export function foldMovement(st: FusionState): Set<Node> {
  const { nodes, groupOf, fetched, dataConsumers } = st;
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
  return folded;
}
