/**
 * Runs a compiled Program on a device: the orchestration every compiled backend shares.
 *
 * A run uploads the feeds and the variables' committed values (a variable whose value is the
 * very Tensor this runner handed out after its last write is already in place: no upload),
 * runs the kernels in order, optionally checks numerics after each and poisons the buffers
 * that die there, downloads the fetches, and only then commits the variable writes: the
 * device's staged values become current and come back as `writes`. A run that throws commits
 * nothing.
 *
 * On a device whose downloads are synchronous (the CPU) run() returns its result directly; on
 * one whose downloads are Promises it returns a Promise.
 */
import { KilnError, Tensor, type TypedArray, allocData, sizeOf } from '@kiln/graph';
import { type KernelSpec, type Program, kernelIO } from '../program/program.js';
import type { DeviceProgram } from './device.js';
import { drive } from './maybe-async.js';
import { checkedInputs, checkedOutputs, firstNonFinite, numericError } from './numerics.js';

export interface RunInputs {
  /** Feed values by placeholder name. */
  feeds: ReadonlyMap<string, Tensor>;
  /** Committed variable values by variable name. */
  variables: ReadonlyMap<string, Tensor>;
  seed: number;
  /** Fail with NUMERIC_ERROR at the first kernel that outputs NaN or Infinity. */
  checkNumerics?: boolean;
}

export interface RunOutputs {
  /** One per program fetch; null for a target. */
  values: (Tensor | null)[];
  /** The new values of the variables the run wrote, by variable name (the caller commits them). */
  writes: Map<string, Tensor>;
}

export interface RunnerOptions {
  /** Fill buffers with NaN (ints: 0x7f bytes) after their last use (catches planning bugs). */
  poisonFreed?: boolean;
  /** Record each kernel's wall time of the last run in `lastProfile` (milliseconds). */
  profile?: boolean;
}

type Yielded = TypedArray | Tensor;

export class ProgramRunner {
  /** Per variable buffer: the Tensor its storage holds (handed out by the last commit, or uploaded). */
  private readonly inPlace = new Map<number, Tensor>();
  /** Per variable buffer: the value the last commit handed out, while the storage still holds it. */
  private readonly issued = new Map<number, Tensor>();
  /** Variable buffers the kernels write (the candidates of a commit). */
  private readonly written: number[];
  private readonly variableBuffers: number[];
  private readonly poison = new Map<number, TypedArray>();
  /** Per-kernel milliseconds of the last run (with the `profile` option). */
  lastProfile: number[] = [];

  constructor(
    readonly device: DeviceProgram,
    private readonly opts: RunnerOptions = {},
  ) {
    const { buffers, kernels } = device.program;
    const isVariable = (id: number) => buffers[id]!.kind === 'variable' && buffers[id]!.aliasOf === undefined;
    this.variableBuffers = buffers.filter((b) => isVariable(b.id)).map((b) => b.id);
    // In-place updates write variable outputs; a state routine (an assign op left whole, as in
    // unfused programs) writes the variable that is its first input.
    const writesOf = (s: KernelSpec) =>
      s.kind === 'op' && s.family === 'state' ? [...s.inputs.slice(0, 1), ...s.outputs] : s.kind === 'view' ? [] : kernelIO(s).writes;
    this.written = [...new Set(kernels.flatMap((k) => writesOf(k.spec).filter(isVariable)))];
  }

  get program(): Program {
    return this.device.program;
  }

  /** The Tensors this runner handed out that still view device storage. */
  liveValues(): Tensor[] {
    return [...this.issued.values()];
  }

  run(inputs: RunInputs): RunOutputs | Promise<RunOutputs> {
    return drive<Yielded, RunOutputs>(this.steps(inputs));
  }

  dispose(): void {
    this.inPlace.clear();
    this.issued.clear();
    this.device.dispose();
  }

  private *steps(inputs: RunInputs): Generator<Yielded | Promise<Yielded>, RunOutputs, Yielded> {
    const { device, program } = this;
    const bufs = program.buffers;
    for (const f of program.feeds) {
      const t = inputs.feeds.get(f.name);
      if (!t) throw new KilnError('MISSING_FEED', `placeholder '${f.name}' was not fed`);
      device.upload(f.buffer, t.data);
    }
    for (const id of this.variableBuffers) {
      const name = bufs[id]!.source!;
      const t = inputs.variables.get(name);
      if (!t) throw new KilnError('INTERNAL', `ProgramRunner: variable '${name}' has no value`);
      if (this.inPlace.get(id) === t) continue;
      device.upload(id, t.data);
      this.inPlace.set(id, t);
      this.issued.delete(id);
    }
    const profile = this.opts.profile === true;
    if (profile) this.lastProfile = [];
    const run = { seed: inputs.seed };
    for (let t = 0; t < program.kernels.length; t++) {
      const t0 = profile ? performance.now() : 0;
      device.runKernel(t, run);
      if (profile) this.lastProfile.push(performance.now() - t0);
      if (inputs.checkNumerics) yield* this.checkNumerics(t);
      if (this.opts.poisonFreed) for (const id of program.frees[t]!) device.upload(id, this.poisonFor(id));
    }
    const values: (Tensor | null)[] = [];
    for (const id of program.fetches) {
      if (id < 0) {
        values.push(null);
        continue;
      }
      const data = (yield device.download(id)) as TypedArray;
      values.push(new Tensor(bufs[id]!.dtype, bufs[id]!.shape, data));
    }
    // Success: the staged writes become current.
    device.commit(this.written);
    const writes = new Map<string, Tensor>();
    for (const id of this.written) {
      const value = (yield device.variableValue(id)) as Tensor;
      this.inPlace.set(id, value);
      this.issued.set(id, value);
      writes.set(bufs[id]!.source!, value);
    }
    return { values, writes };
  }

  private *checkNumerics(kernel: number): Generator<Yielded | Promise<Yielded>, void, Yielded> {
    for (const out of checkedOutputs(this.program, kernel)) {
      const data = (yield this.device.download(out)) as TypedArray;
      const at = firstNonFinite(data);
      if (at < 0) continue;
      const bad: number[] = [];
      for (const id of checkedInputs(this.program, kernel)) {
        if (firstNonFinite((yield this.device.download(id)) as TypedArray) >= 0) bad.push(id);
      }
      throw numericError(this.program, kernel, out, data[at]!, at, bad);
    }
  }

  private poisonFor(id: number): TypedArray {
    let p = this.poison.get(id);
    if (!p) {
      const b = this.program.buffers[id]!;
      p = allocData(b.dtype, sizeOf(b.shape));
      if (p instanceof Float32Array) p.fill(NaN);
      else if (p instanceof Uint8Array) p.fill(0x7f);
      else p.fill(0x7f7f7f7f);
      this.poison.set(id, p);
    }
    return p;
  }
}
