/**
 * The compiled backends every backend-independent suite runs on (the registry table test, the
 * golden program tests, the fuzz test, the ONNX conformance suite): CPU fused and CPU unfused
 * today; a new backend adds one entry here (e.g. WebGPU, where a device is present) and gets
 * the whole reference-checked suite. Programs are compiled for the entry's device (its routine
 * set is checked at compile time) and run by the compiler's ProgramRunner with freed buffers
 * poisoned, exactly as a Session runs them.
 */
import {
  type Backend,
  type CompileSpec,
  type Device,
  type Program,
  ProgramRunner,
  type RunInputs,
  type RunOutputs,
  Session,
  type SessionOptions,
  checkRoutines,
  compile,
  deviceBackend,
} from '@kiln/compiler';
import type { Graph } from '@kiln/graph';
import { cpuDevice } from '@kiln/runtime-cpu';

export interface CompiledBackendEntry {
  /** Shown in test names: 'cpu fused', 'cpu unfused', ... */
  readonly name: string;
  /** Whether programs are compiled with fusion. */
  readonly fuse: boolean;
  /** A fresh device (the caller disposes what it loads). */
  device(): Device;
}

export const COMPILED_BACKENDS: readonly CompiledBackendEntry[] = [
  { name: 'cpu fused', fuse: true, device: () => cpuDevice() },
  { name: 'cpu unfused', fuse: false, device: () => cpuDevice() },
];

/** Compiles `spec` for the entry (its fusion setting, its device's constant folding and routines). */
export function compileFor(entry: CompiledBackendEntry, g: Graph, spec: CompileSpec): Program {
  const device = entry.device();
  const program = compile(g, spec, { fuse: entry.fuse, constantEvaluator: device.constantEvaluator, routines: device.routines });
  checkRoutines(program, device);
  return program;
}

/** Loads `program` on the entry's device, runs it once with freed buffers poisoned, disposes it. */
export async function runOn(entry: CompiledBackendEntry, program: Program, inputs: RunInputs): Promise<RunOutputs> {
  const runner = new ProgramRunner(entry.device().load(program), { poisonFreed: true });
  try {
    const out = await runner.run(inputs);
    // Variable values may view device storage that dispose() frees: copy them first.
    return { values: out.values, writes: new Map([...out.writes].map(([k, v]) => [k, v.clone()])) };
  } finally {
    runner.dispose();
  }
}

/** A Session Backend for the entry, with freed buffers poisoned. */
export function backendFor(entry: CompiledBackendEntry): Backend {
  return deviceBackend(entry.device(), { poisonFreed: true });
}

/** A Session on the entry (its fusion setting, freed buffers poisoned). */
export function sessionOn(entry: CompiledBackendEntry, g: Graph, opts: SessionOptions = {}): Session {
  return new Session(g, backendFor(entry), { ...opts, fuse: entry.fuse });
}

/**
 * runOn for a synchronous caller (the ONNX conformance harness): fails when the entry's
 * device answers asynchronously (such a backend needs the harness's executor made async).
 */
export function runOnSync(entry: CompiledBackendEntry, program: Program, inputs: RunInputs): RunOutputs {
  const runner = new ProgramRunner(entry.device().load(program), { poisonFreed: true });
  try {
    const out = runner.run(inputs);
    if (out instanceof Promise) throw new Error(`runOnSync: backend '${entry.name}' runs asynchronously; this caller needs an async executor`);
    return { values: out.values, writes: new Map([...out.writes].map(([k, v]) => [k, v.clone()])) };
  } finally {
    runner.dispose();
  }
}
