/**
 * The device interface: the only part of a compiled backend that differs per target. The
 * compiler owns everything around it (the per-feed-shape program cache, variable commits,
 * checkNumerics, poisoning: see program-runner.ts and device-backend.ts); a backend supplies a
 * Device that allocates a compiled Program's storage and runs its kernels.
 *
 *   load(program)            allocate: lay out buffers, compile kernels   -> DeviceProgram
 *   upload(buffer, data)     a feed, a variable's committed value, or poison into a buffer
 *   runKernel(i, run)        kernel i of program.kernels; variable outputs go to staging
 *   download(buffer)         a copy of a buffer's contents (a variable: its committed value)
 *   commit(variables)        the staged writes of these variable buffers become current
 *   variableValue(buffer)    the committed value of a variable buffer, as a Tensor
 *
 * Variables are double-buffered by the device: kernels read the committed value and write a
 * staging copy, so a run that fails part way changes nothing; the runner commits only after
 * every kernel succeeded. A download may return a Promise (a GPU maps buffers
 * asynchronously); the runner then finishes the run asynchronously.
 */
import type { Tensor, TypedArray } from '@kiln/graph';
import type { ConstantEvaluator } from '../passes/constant-fold.js';
import type { MemoryLayout } from '../program/memory-plan.js';
import type { KernelSpec, Program } from '../program/program.js';

/** A kernel of kind 'op' (a routine). */
export type OpKernelSpec = Extract<KernelSpec, { kind: 'op' }>;

/** What a kernel may need from the run it belongs to. */
export interface RunContext {
  /** Seed of this run's random streams (random routines derive per-node streams from it). */
  readonly seed: number;
}

export interface DeviceProgram {
  readonly program: Program;
  /** Writes `data` (the buffer's dtype and element count) into the buffer's storage. */
  upload(buffer: number, data: TypedArray): void;
  /** Runs kernel `index` of program.kernels (in the program's order). */
  runKernel(index: number, run: RunContext): void;
  /** A copy of the buffer's contents (for a variable, its committed value). */
  download(buffer: number): TypedArray | Promise<TypedArray>;
  /** Makes the values written to these variable buffers during the run current. */
  commit(variables: readonly number[]): void;
  /**
   * The committed value of a variable buffer. It may be a live view of device storage (the
   * CPU's): valid until the variable is written again or the program is disposed.
   */
  variableValue(buffer: number): Tensor | Promise<Tensor>;
  /** Frees the storage and compiled kernels. */
  dispose(): void;
}

export interface Device {
  /** 'cpu', 'webgpu', ...: shown in error messages. */
  readonly name: string;
  /**
   * The routines (kernels of kind 'op', see routines/) this device implements. Compiling for a
   * device that lacks one fails with UNSUPPORTED naming the routine.
   */
  readonly routines: ReadonlySet<string>;
  /**
   * Optional: why the device declines one case of a routine it lists (e.g. an integer matMul),
   * or undefined when it runs it. Checked at compile time with the routine list.
   */
  declinesRoutine?(kernel: OpKernelSpec, program: Program): string | undefined;
  /** Allocates a compiled Program's storage and prepares its kernels. */
  load(program: Program): DeviceProgram;
  /** Evaluates stateless ops on constants (constant folding at compile time). */
  readonly constantEvaluator?: ConstantEvaluator;
  /** How the device stores tensors (element widths, offset alignment); absent: the CPU's. Programs are compiled for it. */
  readonly memoryLayout?: MemoryLayout;
  /** Frees the device itself (called when the Session using it is disposed). */
  dispose?(): void;
}
