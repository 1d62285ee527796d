/**
 * CpuProgram: one compiled Program run on the CPU device, for callers that hold a Program
 * themselves (compileModel, tests). It is the compiler's ProgramRunner (feeds, variable
 * identity, checkNumerics, poisoning, commit on success) over a CpuDeviceProgram, and runs
 * synchronously.
 *
 * Variable writes come back as Tensors viewing the CPU's variable slots; when the same Tensor
 * is passed next run, no copy is made. They are live views: the run after next overwrites
 * them, and the memory is reused once the program is disposed or collected, so a caller other
 * than a Session must copy what it keeps.
 */
import { type Program, ProgramRunner, type RunInputs, type RunOutputs } from '@kiln/compiler';
import { CpuDeviceProgram, type CpuDeviceOptions } from './cpu-device.js';

export type CpuRunInputs = RunInputs;
export type CpuRunOutputs = RunOutputs;

export interface CpuProgramOptions extends CpuDeviceOptions {
  /** Fill freed arena regions with NaN after their last use (catches planning bugs). */
  poisonFreed?: boolean;
  /** Record each kernel's wall time of the last run in `lastProfile` (milliseconds). */
  profile?: boolean;
}

export class CpuProgram extends ProgramRunner {
  constructor(program: Program, opts: CpuProgramOptions = {}) {
    super(new CpuDeviceProgram(program, { threads: opts.threads }), { poisonFreed: opts.poisonFreed, profile: opts.profile });
  }

  /** Runs the program once (synchronously: the CPU device never defers). */
  override run(inputs: CpuRunInputs): CpuRunOutputs {
    return super.run(inputs) as CpuRunOutputs;
  }
}
