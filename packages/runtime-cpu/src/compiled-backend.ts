/**
 * The compiled CPU backend: the compiler's device backend (per-feed-shape program cache,
 * commit on success, checkNumerics, poisoning: @kiln/compiler runtime/) over the CPU device.
 * Constant folding uses the reference kernels as its evaluator.
 */
import { type Backend, type Device, deviceBackend } from '@kiln/compiler';
import { type Attrs, KilnError, type Node, type Tensor, getOp } from '@kiln/graph';
import { CpuDeviceProgram } from './compiled/cpu-device.js';
import { cpuRoutineNames } from './compiled/routines.js';
import { getRefKernel } from './reference/registry.js';

/** Evaluates a stateless op on constants (for constant folding). */
export function referenceConstantEvaluator(op: string, inputs: Tensor[], attrs: Attrs, node?: Node): Tensor[] {
  if (getOp(op).stateful) throw new KilnError('INTERNAL', `constant folding: cannot fold stateful op ${op}`);
  const noState = () => {
    throw new KilnError('INTERNAL', `constant folding: ${op} has no state to read or write`);
  };
  return getRefKernel(op)(inputs, attrs, {
    node: node ?? ({ op, name: '(constant)' } as unknown as Node),
    random: noState,
    readVariable: noState,
    writeVariable: noState,
  });
}

export interface CpuBackendOptions {
  /** Fill freed arena regions with NaN after their last use (catches planning bugs). */
  poisonFreed?: boolean;
  /** Threads for large matmuls and convolutions (default min(2, cores); 1 = the calling thread only). */
  threads?: number;
  /** Compiled programs (feed-shape combinations) kept per run signature (default 8, least recently used evicted). */
  programCacheSize?: number;
}

/** The CPU device: loads Programs into linear memory and runs their kernels. */
export function cpuDevice(opts: { threads?: number } = {}): Device {
  return {
    name: 'cpu',
    // Read at each compile: ops registered later (with a reference kernel) are routines too.
    get routines() {
      return cpuRoutineNames();
    },
    constantEvaluator: referenceConstantEvaluator,
    load: (program) => new CpuDeviceProgram(program, { threads: opts.threads }),
  };
}

export function cpuBackend(opts: CpuBackendOptions = {}): Backend {
  return deviceBackend(cpuDevice({ threads: opts.threads }), { poisonFreed: opts.poisonFreed, programCacheSize: opts.programCacheSize });
}
