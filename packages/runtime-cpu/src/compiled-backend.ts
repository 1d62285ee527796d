/**
 * The compiled CPU backend: for each run signature the Session prepares, it compiles the graph
 * (passes, fusion, memory planning) into a Program per concrete feed-shape combination (unknown
 * batch dims specialize on first use) and runs it with CpuProgram. Constant folding uses the
 * reference kernels as its evaluator.
 */
import { type Backend, type ExecInputs, type ExecOutputs, type Executable, type ExecutionPlan, type PrepareOptions, type Program, compile } from '@kiln/compiler';
import { type Attrs, type Node, type Tensor, getOp } from '@kiln/graph';
import { CpuProgram } from './compiled/executor.js';
import { getRefKernel } from './reference/registry.js';

/** Evaluates a stateless op on constants (for constant folding). */
export function referenceConstantEvaluator(op: string, inputs: Tensor[], attrs: Attrs, node?: Node): Tensor[] {
  if (getOp(op).stateful) throw new Error(`cannot fold stateful op ${op}`);
  const noState = () => {
    throw new Error('constant folding has no state');
  };
  return getRefKernel(op)(inputs, attrs, { node: node ?? ({ op, name: '(constant)' } as unknown as Node), random: noState, readVariable: noState, writeVariable: noState });
}

export interface CpuBackendOptions {
  /** Fill freed arena regions with NaN after their last use (catches planning bugs). */
  poisonFreed?: boolean;
  /** Threads for large matmuls and convolutions (default min(2, cores); 1 = the calling thread only). */
  threads?: number;
}

class CompiledExecutable implements Executable {
  private readonly cache = new Map<string, CpuProgram>();
  constructor(
    private readonly plan: ExecutionPlan,
    private readonly opts: PrepareOptions & CpuBackendOptions,
  ) {}

  program(feedShapes: Record<string, readonly number[]>): CpuProgram {
    const key = JSON.stringify(feedShapes);
    let p = this.cache.get(key);
    if (!p) {
      const program = compile(
        this.plan.graph,
        { fetches: [...this.plan.fetches], feeds: this.plan.feeds.map((n) => n.output) },
        { fuse: this.opts.fuse && !this.opts.checkNumerics, feedShapes, constantEvaluator: referenceConstantEvaluator },
      );
      p = new CpuProgram(program, { poisonFreed: this.opts.poisonFreed, threads: this.opts.threads });
      this.cache.set(key, p);
    }
    return p;
  }

  dispose(): void {
    for (const p of this.cache.values()) p.dispose();
    this.cache.clear();
  }

  /** The compiled Programs so far (one per concrete feed-shape combination). */
  programs(): Program[] {
    return [...this.cache.values()].map((p) => p.program);
  }

  run(inputs: ExecInputs): ExecOutputs {
    const feedShapes: Record<string, readonly number[]> = {};
    const feeds = new Map<string, Tensor>();
    for (const [node, t] of inputs.feeds) {
      feedShapes[node.name] = t.shape;
      feeds.set(node.name, t);
    }
    const variables = new Map<string, Tensor>();
    const byName = new Map<string, Node>();
    for (const [node, t] of inputs.variables) {
      variables.set(node.name, t);
      byName.set(node.name, node);
    }
    const out = this.program(feedShapes).run({ feeds, variables, seed: inputs.seed, checkNumerics: this.opts.checkNumerics });
    const writes = new Map<Node, Tensor>();
    for (const [name, t] of out.writes) writes.set(byName.get(name) ?? this.plan.graph.nodeByName(name)!, t);
    return { values: out.values, writes };
  }
}

export function cpuBackend(opts: CpuBackendOptions = {}): Backend {
  return {
    name: 'cpu',
    constantEvaluator: referenceConstantEvaluator,
    prepare: (plan, popts) => new CompiledExecutable(plan, { ...popts, ...opts }),
  };
}
