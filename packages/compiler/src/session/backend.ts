/**
 * The Backend interface: what a runtime implements so that a Session can run graphs on it.
 * The compiler never imports a runtime; the Session receives a Backend (the `kiln` umbrella
 * picks one from @kiln/runtime-cpu: 'cpu', which compiles each signature to a Program and runs
 * generated JS and WebAssembly kernels, or 'reference', the node-by-node oracle; WebGPU to come).
 *
 * Two steps, so a compiling backend can do its expensive work once per signature:
 *   prepare(plan)  -> Executable     once per (fetches, feed names); the Session caches it.
 *   executable.run(inputs) -> {values, writes}   once per Session.run.
 * A run never mutates state it was given: variable updates come back as `writes`, which the
 * Session commits only when the run succeeded (a failed run changes nothing).
 */
import type { Node, Tensor } from '@kiln/graph';
import type { ExecutionPlan } from './plan.js';
import type { ConstantEvaluator } from '../passes/constant-fold.js';

export interface PrepareOptions {
  /** Fail a run with NUMERIC_ERROR when a node produces NaN or Infinity. */
  checkNumerics: boolean;
  /** Fuse operators (compiled backends; the reference backend ignores it). */
  fuse: boolean;
}

export interface ExecInputs {
  /** Values of the plan's placeholders, already validated (dtype, shape) by the Session. */
  feeds: ReadonlyMap<Node, Tensor>;
  /**
   * Committed value of every variable in `plan.variables`. Tensors keep their identity until
   * a variable is written, so a device backend can cache uploads keyed by the Tensor object.
   */
  variables: ReadonlyMap<Node, Tensor>;
  /** The seed of this run's random streams: derived from the session seed and run counter. */
  seed: number;
}

export interface ExecOutputs {
  /** One value per plan fetch; a target's may be null (the Session returns null for it anyway). */
  values: (Tensor | null)[];
  /** New variable values made by the run's assign ops (staged; the Session commits them). */
  writes: ReadonlyMap<Node, Tensor>;
}

export interface Executable {
  run(inputs: ExecInputs): ExecOutputs | Promise<ExecOutputs>;
  /** Frees what prepare() allocated (device buffers, pipelines). */
  dispose?(): void;
}

export interface Backend {
  /** 'reference', 'cpu', 'webgpu', ...: shown in error messages and plans. */
  readonly name: string;
  prepare(plan: ExecutionPlan, opts: PrepareOptions): Executable | Promise<Executable>;
  /** Evaluates stateless ops on constants, enabling constant folding in compile(). */
  readonly constantEvaluator?: ConstantEvaluator;
  /** A compiling backend's routines (its device's): what compile() may leave as op kernels. */
  readonly routines?: ReadonlySet<string>;
  /** Frees the backend's own resources (a device). Called by Session.dispose(). */
  dispose?(): void;
}
