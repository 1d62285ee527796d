/**
 * Fusion decisions: which graph nodes run together in one kernel. Pure analysis over the
 * optimized, shape-specialized graph; build-kernels.ts turns the groups into kernel specs.
 * fuseNodes runs the phases of fusion-phases.ts in order over the state of fusion-state.ts;
 * the roles, groups and limits are in fusion-types.ts.
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
import type { Node, SymbolicTensor } from '@kiln/graph';
import { foldMovement, fuseElementwiseChains, fuseEpilogues, fuseHorizontal, fuseReducePrologues } from './fusion-phases.js';
import { fusionState } from './fusion-state.js';
import type { FusionResult } from './fusion-types.js';

export { ALIAS_OPS, ASSIGN_OPS, FOLDABLE_OPS, type FusionResult, type Group, type Role, VIEW_OPS } from './fusion-types.js';

/** Groups the (non-source) nodes of a graph into kernels: the phases, in order. */
export function fuseNodes(nodes: readonly Node[], consumers: Map<Node, Node[]>, fetched: Set<SymbolicTensor>, fuse: boolean): FusionResult {
  const st = fusionState(nodes, consumers, fetched, fuse);
  if (!fuse) return { roles: st.roles, groups: st.all, groupOf: st.groupOf, folded: new Set() };
  fuseElementwiseChains(st, true);
  fuseReducePrologues(st);
  fuseEpilogues(st);
  fuseElementwiseChains(st, false);
  fuseHorizontal(st);
  const folded = foldMovement(st);
  return { roles: st.roles, groups: st.all.filter((g) => g.nodes.length > 0), groupOf: st.groupOf, folded };
}
