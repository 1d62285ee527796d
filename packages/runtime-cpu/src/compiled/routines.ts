/**
 * The CPU's routine table: how the CPU device runs each kernel of kind 'op' (a routine, see
 * @kiln/compiler routines/routines.ts). Convolutions run on the SIMD engine (conv-kernels.ts);
 * the others as a fast kernel (fast/) where one is registered and handles the kernel's shapes,
 * dtypes and attrs, otherwise as the routine's reference kernel on arena views: that is the
 * CPU's declared implementation of those routines (random, state, scatter, integer cases).
 * The choice is made once per kernel when the program is loaded; nothing falls back at run
 * time. Other ops never reach a CPU kernel: they are decomposed or lowered.
 */
import { type Graph, KilnError, Tensor, allOps } from '@kiln/graph';
import type { KernelSpec, RunContext } from '@kiln/compiler';
import { nodeRandom } from '../reference/executor.js';
import { type RefContext, getRefKernel, hasRefKernel } from '../reference/registry.js';
import { type CpuKernel, getCpuKernel } from './op-kernels.js';

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

/**
 * The fast kernel, bound at load because it accepted the kernel's shapes, dtypes and attrs.
 * Should it reject at run time (only data can make it: gather's out-of-range indices), the
 * routine fails; the reference kernel only words the error, it never computes the result.
 */
function fastRoutine(op: string, fast: CpuKernel): CpuRoutine {
  const ref = referenceRoutine(op);
  return (inputs, outputs, spec, run, graph, variable) => {
    if (fast(inputs, outputs, spec.attrs)) return;
    const scratch = outputs.map((o) => new Tensor(o.dtype, o.shape));
    ref(inputs, scratch, spec, run, graph, variable);
    throw new KilnError('INTERNAL', `${op} '${spec.node}': the CPU kernel rejected inputs that the reference kernel accepts`);
  };
}

/**
 * The routines the CPU device implements: every op with a fast or a reference kernel, which
 * covers the listed routines (ROUTINES) and ops registered by users with a reference kernel.
 */
export function cpuRoutineNames(): Set<string> {
  return new Set(
    allOps()
      .map((d) => d.name)
      .filter((op) => getCpuKernel(op) !== undefined || hasRefKernel(op)),
  );
}

/**
 * The CPU implementation of routine `op` for one kernel, chosen when the program is loaded:
 * the fast kernel when `accepts(fast)` (a trial run on the kernel's own buffers at load) says
 * it handles this kernel's shapes, dtypes and attrs, else the routine's reference kernel.
 */
export function cpuRoutine(op: string, accepts: (fast: CpuKernel) => boolean): CpuRoutine {
  const fast = getCpuKernel(op);
  if (fast && accepts(fast)) return fastRoutine(op, fast);
  if (hasRefKernel(op)) return referenceRoutine(op);
  throw new KilnError('UNSUPPORTED', `CPU device: no implementation of routine '${op}'`);
}
