/**
 * kiln.session(): the everyday entry point. Picks the Backend for `opts.backend` and returns
 * a Session (from @kiln/compiler) on it: 'cpu' compiles each run signature (passes, fusion,
 * memory planning, generated JS and WebAssembly kernels) and runs the Program; 'reference' runs the graph node
 * by node on the reference executor (the oracle, for debugging); 'webgpu' compiles the same way
 * and runs the Program's generated WGSL kernels on a WebGPU adapter (@kiln/runtime-webgpu).
 */
import { type Backend, Session, type SessionOptions } from '@kiln/compiler';
import { type Graph, KilnError } from '@kiln/graph';
import { cpuBackend, referenceBackend, referenceConstantEvaluator } from '@kiln/runtime-cpu';
import { webgpuBackend } from '@kiln/runtime-webgpu';

export interface KilnSessionOptions extends SessionOptions {
  /** Where to run: 'cpu' (default, compiled), 'reference' (the oracle) or 'webgpu'. */
  backend?: 'cpu' | 'webgpu' | 'reference';
  /** Debug: fill freed arena regions with NaN after their last use (compiled CPU backend). */
  poisonFreed?: boolean;
  /** CPU backend: threads for large matmuls and convolutions (default min(2, cores)). */
  threads?: number;
}

async function pickBackend(name: string, poisonFreed: boolean, threads: number | undefined): Promise<Backend> {
  switch (name) {
    case 'cpu':
      return cpuBackend({ poisonFreed, threads });
    case 'reference':
      return referenceBackend();
    case 'webgpu':
      return webgpuBackend({ poisonFreed, constantEvaluator: referenceConstantEvaluator });
    default:
      throw new KilnError('INVALID_ARGUMENT', `session: unknown backend '${name}' (expected 'cpu', 'webgpu' or 'reference')`);
  }
}

/** A Session running `g` on the chosen backend (default 'cpu'). */
export async function session(g: Graph, opts: KilnSessionOptions = {}): Promise<Session> {
  const { backend = 'cpu', poisonFreed = false, threads, ...rest } = opts;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new KilnError('INVALID_ARGUMENT', `session: threads must be an integer >= 1, got ${String(threads)}`);
  }
  return new Session(g, await pickBackend(backend, poisonFreed, threads), rest);
}
