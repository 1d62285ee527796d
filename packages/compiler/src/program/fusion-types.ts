/**
 * The vocabulary of fusion: node roles, groups (future kernels), the result, and the limits
 * the phases respect.
 */
import type { Node, SymbolicTensor } from '@kiln/graph';

export type Role = 'ew' | 'sink' | 'reduce' | 'matmul' | 'view' | 'op';

export const VIEW_OPS = new Set(['reshape', 'expandDims', 'squeeze']);
export const ALIAS_OPS = new Set(['identity', 'stopGradient']);
export const ASSIGN_OPS = new Set(['assign', 'assignAdd', 'assignSub']);
export const REDUCE_OPS = new Set(['sum', 'mean', 'max', 'min', 'prod']);
/** An elementwise kernel grows to at most this many graph nodes (its expressions are DAGs: each node is computed once). */
export const MAX_EXPR_SIZE = 192;
/** Elementwise groups up to this many elements may fuse horizontally. */
export const SMALL_ELEMENTS = 64;
/** A horizontal merge stops at this many graph nodes (a long chain of small ops stays several kernels). */
export const MAX_HORIZONTAL_NODES = 2 * MAX_EXPR_SIZE;

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
export function indexSpace(n: Node): readonly (number | null)[] {
  return ASSIGN_OPS.has(n.op) ? n.inputs[0]!.shape : n.output.shape;
}
