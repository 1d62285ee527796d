/**
 * The CPU's routine table: how the CPU device runs each kernel of kind 'op' (a routine: an op
 * that is not lowered to the elementwise / reduce / contraction kinds). A routine runs either
 * as a fast kernel (fast/), or, for the routines listed in REFERENCE_ROUTINES, as its
 * reference kernel on arena views: that is the CPU's declared implementation of the routine,
 * chosen when the program is loaded, not a fallback taken at run time.
 */
import { type Graph, KilnError, type Tensor, allOps } from '@kiln/graph';
import type { KernelSpec, RunContext } from '@kiln/compiler';
import { nodeRandom } from '../reference/executor.js';
import { type RefContext, getRefKernel, hasRefKernel } from '../reference/registry.js';
import { getCpuKernel } from './op-kernels.js';

type OpSpec = Extract<KernelSpec, { kind: 'op' }>;

/**
 * State routines (assign ops in unfused programs) read and write their variable (the kernel's
 * first input) through this: reads see the run's earlier writes, writes are staged until commit.
 */
export interface VariableAccess {
  read(): Tensor;
  write(value: Tensor): void;
}

/** Runs one op kernel: reads `inputs`, writes every element of `outputs` (views of device storage). */
export type CpuRoutine = (inputs: Tensor[], outputs: Tensor[], spec: OpSpec, run: RunContext, graph: Graph, variable: VariableAccess) => void;

/** The reference kernel of `op` run on the kernel's views, its results copied into the outputs. */
function referenceRoutine(op: string): CpuRoutine {
  const kernel = getRefKernel(op);
  return (inputs, outputs, spec, run, graph, variable) => {
    const node = graph.nodeByName(spec.node)!;
    const ctx: RefContext = {
      node,
      random: nodeRandom(run.seed, node.name),
      readVariable: () => variable.read(),
      writeVariable: (_v, value) => variable.write(value),
    };
    const outs = kernel(inputs, spec.attrs, ctx);
    outputs.forEach((o, i) => o.data.set(outs[i]!.data));
  };
}

/** A fast kernel where it handles the case, else the reference kernel. */
function fastRoutine(op: string): CpuRoutine {
  const fast = getCpuKernel(op)!;
  const ref = referenceRoutine(op);
  return (inputs, outputs, spec, run, graph, variable) => {
    if (!fast(inputs, outputs, spec.attrs)) ref(inputs, outputs, spec, run, graph, variable);
  };
}

/** The routines the CPU device implements. */
export function cpuRoutineNames(): Set<string> {
  return new Set(
    allOps()
      .map((d) => d.name)
      .filter((op) => getCpuKernel(op) !== undefined || hasRefKernel(op)),
  );
}

/** The CPU implementation of routine `op`. */
export function cpuRoutine(op: string): CpuRoutine {
  if (getCpuKernel(op)) return fastRoutine(op);
  if (hasRefKernel(op)) return referenceRoutine(op);
  throw new KilnError('UNSUPPORTED', `CPU device: no implementation of routine '${op}'`);
}
