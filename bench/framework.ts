/**
 * What the harness asks of each framework: a name and version, and for each workload a Case
 * (one timed call, plus the numbers the correctness check compares) or a sentence saying why
 * the framework cannot run that workload here.
 */

export type WorkloadId = 'matmul' | 'mlp-fwd' | 'mlp-train' | 'cnn-fwd' | 'mlp-first';

export interface Workload {
  id: WorkloadId;
  /** BENCH_ONLY group: mlp, cnn or matmul. */
  group: 'mlp' | 'cnn' | 'matmul';
  title: string;
  /** Floating-point operations per call, for a GFLOP/s column (matmul only). */
  flops?: number;
  /** Each call builds everything anew (first-call workloads): fewer repetitions. */
  fresh?: boolean;
}

export const WORKLOADS: readonly Workload[] = [
  { id: 'matmul', group: 'matmul', title: 'matmul 1024³', flops: 2 * 1024 ** 3 },
  { id: 'mlp-fwd', group: 'mlp', title: 'MLP forward (b128)' },
  { id: 'mlp-train', group: 'mlp', title: 'MLP train step (b128, Adam)' },
  { id: 'mlp-first', group: 'mlp', title: 'MLP train first call', fresh: true },
  { id: 'cnn-fwd', group: 'cnn', title: 'CNN inference (b64)' },
];

export interface Case {
  /** One call; resolves once the result is computed and readable from JS. */
  run(): Promise<void>;
  /**
   * Numbers to compare across frameworks (called after the timed runs): forward workloads
   * return the output of their latest call; the training step returns the losses of its first two calls (the
   * second one shows that the first update was the same everywhere).
   */
  check?(): Promise<Float32Array>;
  /** Kiln only: program statistics of the compiled step. */
  stats?: { kernels: number; arenaBytes: number; naiveBytes: number; liveLowerBoundBytes: number };
  /** Frees what the case holds (sessions, device arrays). */
  dispose?(): void | Promise<void>;
}

export interface Framework {
  name: string;
  /** Library and version, for the header. */
  version: string;
  setup(w: WorkloadId): Promise<Case | string>;
  /** Called (untimed) before each of this framework's calls, e.g. to select a global backend. */
  activate?(): Promise<void>;
}
