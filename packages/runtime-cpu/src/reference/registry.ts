/**
 * Reference kernels: one obviously-correct host implementation per op, keyed by op name,
 * registered from reference/kernels/<family>.ts. They are the oracle every optimized path
 * (fusion, generated CPU code, WGSL) is checked against: clarity over speed, float64
 * accumulation for sums.
 */
import { type Attrs, KilnError, type Node, type Tensor } from '@kiln/graph';

export interface RefContext {
  /** The node being executed (for error messages: `${node.op} '${node.name}'`). */
  node: Node;
  /** Deterministic random source for stateful random ops (seeded per session and node). */
  random(): number;
  /** The current value of a variable node (only used by state ops). */
  readVariable(variable: Node): Tensor;
  /** Stages a new value for a variable; committed only when the whole run succeeds. */
  writeVariable(variable: Node, value: Tensor): void;
}

export type RefKernel = (inputs: Tensor[], attrs: Attrs, ctx: RefContext) => Tensor[];

const kernels = new Map<string, RefKernel>();

export function registerRefKernel(op: string, kernel: RefKernel): void {
  if (kernels.has(op)) throw new KilnError('INTERNAL', `reference kernel for '${op}' registered twice`);
  kernels.set(op, kernel);
}

export function getRefKernel(op: string): RefKernel {
  const k = kernels.get(op);
  if (!k) throw new KilnError('UNSUPPORTED', `no reference kernel for op '${op}'`);
  return k;
}

export function hasRefKernel(op: string): boolean {
  return kernels.has(op);
}
