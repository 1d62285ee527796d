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
  routineGap,
  compile,
  deviceBackend,
  routinesOf,
} from '@kiln/compiler';
import { type Graph, KilnError } from '@kiln/graph';
import { cpuDevice, referenceConstantEvaluator } from '@kiln/runtime-cpu';
import { type GpuContext, type WebGpuDevice, acquireGpu, webgpuDevice } from '@kiln/runtime-webgpu';

export interface CompiledBackendEntry {
  /** Shown in test names: 'cpu fused', 'cpu unfused', ... */
  readonly name: string;
  /** Whether programs are compiled with fusion. */
  readonly fuse: boolean;
  /** A fresh device (the caller disposes what it loads). */
  device(): Device;
  /**
   * Routines this backend does not implement yet, each with the reason: a case whose program
   * needs one of these is skipped (and counted); a program needing any other missing routine fails.
   */
  readonly missingRoutines?: Readonly<Record<string, string>>;
  /**
   * The fuzz test checks this backend on every Nth random graph only (and on the replayed
   * counterexamples): each random graph compiles new shaders, ~0.3 s per pipeline on lavapipe.
   */
  readonly fuzzEvery?: number;
  /** Why the synchronous suites (the ONNX conformance harness) cannot run this backend; absent: they can. */
  readonly notSynchronous?: string;
}

/**
 * WebGPU, when an adapter is present (KILN_REQUIRE_WEBGPU=1 makes a missing one a failure).
 * One GPUDevice (and Dawn's GPU object) serves every test in the file, so pipelines compiled for
 * one case are reused by the next; sessions do not destroy it.
 */
async function webgpuEntry(): Promise<CompiledBackendEntry[]> {
  let ctx: GpuContext;
  try {
    ctx = await acquireGpu();
  } catch (e) {
    if (e instanceof KilnError && e.code === 'UNSUPPORTED' && process.env.KILN_REQUIRE_WEBGPU !== '1') return [];
    throw e;
  }
  const dev: WebGpuDevice = webgpuDevice(ctx, { constantEvaluator: referenceConstantEvaluator });
  const shared: Device = { ...dev, dispose: undefined };
  return [
    {
      name: 'webgpu fused',
      fuse: true,
      device: () => shared,
      missingRoutines: WEBGPU_MISSING_ROUTINES,
      fuzzEvery: Number(process.env.FUZZ_WEBGPU_EVERY ?? 20),
      notSynchronous: 'the WebGPU device reads results back asynchronously (mapAsync); the conformance harness (runCase) is synchronous',
    },
  ];
}

/** The visible debt of the WebGPU backend: routines (op kernels) it does not implement yet. */
export const WEBGPU_MISSING_ROUTINES: Readonly<Record<string, string>> = {
  argMax: 'index-valued reduction: the reduce generator carries one accumulator, not (value, index)',
  argMin: 'index-valued reduction: the reduce generator carries one accumulator, not (value, index)',
  avgPool: 'pooling windows: not written yet (a reduce over a windowed view)',
  avgPoolGrad: 'pooling windows: not written yet',
  maxPool: 'pooling windows: not written yet (a reduce over a windowed view)',
  maxPoolGrad: 'pooling windows: not written yet',
  maxPoolGradGrad: 'pooling windows: not written yet',
  batchNorm: 'normalization routine: not written yet (reductions into scratch, as softmax)',
  layerNorm: 'normalization routine: not written yet (reductions into scratch, as softmax)',
  conv2d: 'convolution family: implicit GEMM over the contraction generator not written yet',
  conv2dBackpropFilter: 'convolution family: not written yet',
  conv2dBackpropInput: 'convolution family: not written yet',
  conv2dTranspose: 'convolution family: not written yet',
  depthwiseConv2d: 'convolution family: not written yet',
  depthwiseConv2dBackpropFilter: 'convolution family: not written yet',
  depthwiseConv2dBackpropInput: 'convolution family: not written yet',
  cumsum: 'scan: not written yet',
  dropout: 'random routine: the reference random stream is not ported to WGSL yet',
  multinomial: 'random routine: the reference random stream is not ported to WGSL yet',
  randomNormal: 'random routine: the reference random stream is not ported to WGSL yet',
  randomUniform: 'random routine: the reference random stream is not ported to WGSL yet',
  truncatedNormal: 'random routine: the reference random stream is not ported to WGSL yet',
  gather: 'data-dependent index (gather): not written yet',
  oneHot: 'data-dependent index (oneHot): not written yet',
  unsortedSegmentSum: 'scatter-add: not written yet (needs atomics or a segment sort)',
};

export const COMPILED_BACKENDS: readonly CompiledBackendEntry[] = [
  { name: 'cpu fused', fuse: true, device: () => cpuDevice() },
  { name: 'cpu unfused', fuse: false, device: () => cpuDevice() },
  ...(await webgpuEntry()),
];

/**
 * Why `program` cannot run on the entry (a routine on its missingRoutines list), or undefined
 * when it can. A missing routine not on the list throws (checkRoutines' UNSUPPORTED).
 */
export function skipReason(entry: CompiledBackendEntry, program: Program): string | undefined {
  const device = entry.device();
  for (const op of routinesOf(program)) {
    if (device.routines.has(op)) continue;
    const why = entry.missingRoutines?.[op];
    if (why === undefined) checkRoutines(program, device);
    return `${entry.name} lacks routine '${op}': ${why}`;
  }
  // Cases the device itself declines (Device.declinesRoutine) are stated in the device's code.
  for (const k of program.kernels) {
    const gap = routineGap(program, k, device);
    if (gap !== undefined) return `${entry.name}: ${gap}`;
  }
  return undefined;
}

/** Compiles `spec` for the entry (its fusion setting, its device's constant folding and memory layout); see skipReason for its routines. */
export function compileFor(entry: CompiledBackendEntry, g: Graph, spec: CompileSpec): Program {
  const device = entry.device();
  const program = compile(g, spec, {
    fuse: entry.fuse,
    constantEvaluator: device.constantEvaluator,
    routines: device.routines,
    memoryLayout: device.memoryLayout,
  });
  skipReason(entry, program);
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
