/**
 * Gradient rules, one per op, keyed by op name and registered from autodiff/rules/<family>.ts
 * (parallel to graph/src/ops/<family>.ts). A rule receives the forward node and the gradients
 * flowing into its outputs, and returns one gradient per input (null where none flows, e.g.
 * integer inputs) built from ordinary graph ops, so the result can be differentiated again.
 * Ops that are not differentiable (comparisons, argMax, ...) are declared so explicitly, so
 * that an op with neither fails the registry table test.
 */
import { type Attrs, KilnError, type Node, type OpName, type SymbolicTensor } from '@kiln/graph';

export interface GradContext {
  node: Node;
  inputs: readonly SymbolicTensor[];
  outputs: readonly SymbolicTensor[];
  attrs: Readonly<Attrs>;
}

/**
 * `dys[i]` is the gradient with respect to output i (null when nothing flows into that
 * output). Returns one entry per input: its gradient, with exactly the input's shape, or null.
 */
export type GradRule = (dys: readonly (SymbolicTensor | null)[], ctx: GradContext) => (SymbolicTensor | null)[];

const rules = new Map<string, GradRule>();
const nonDifferentiable = new Map<string, string>();

export function registerGradient(op: OpName, rule: GradRule): void {
  if (rules.has(op) || nonDifferentiable.has(op)) throw new KilnError('INTERNAL', `gradient for '${op}' registered twice`);
  rules.set(op, rule);
}

/** Declares that no gradient flows through `op` (its inputs get null), with the reason. */
export function registerNonDifferentiable(op: OpName, reason: string): void {
  if (rules.has(op) || nonDifferentiable.has(op)) throw new KilnError('INTERNAL', `gradient for '${op}' registered twice`);
  nonDifferentiable.set(op, reason);
}

export function getGradient(op: string): GradRule | undefined {
  return rules.get(op);
}

export function isNonDifferentiable(op: string): boolean {
  return nonDifferentiable.has(op);
}

export function nonDifferentiableReason(op: string): string | undefined {
  return nonDifferentiable.get(op);
}
