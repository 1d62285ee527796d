/**
 * A Session Backend over a Device: what every compiled backend shares. For each run
 * signature it compiles the plan's graph into a Program per concrete feed-shape combination
 * (unknown batch dims specialize on first use), keeps the most recently used programs in a
 * bounded cache, loads each onto the device and runs it with a ProgramRunner.
 *
 * An evicted program is disposed as soon as no variable value it handed out is still current:
 * the CPU device hands out variable values as views of its storage, so the program that wrote
 * a variable last keeps its storage until another program's run has written that variable
 * again (in a training loop: the next step).
 */
import { type Node, type Tensor } from '@kiln/graph';
import type { Backend, ExecInputs, ExecOutputs, Executable, PrepareOptions } from '../session/backend.js';
import type { ExecutionPlan } from '../session/plan.js';
import { compile } from '../program/compile.js';
import type { Program } from '../program/program.js';
import type { Device } from './device.js';
import { DEFAULT_PROGRAM_CACHE_SIZE, ProgramCache } from './program-cache.js';
import { ProgramRunner, type RunOutputs } from './program-runner.js';
import { checkRoutines } from '../routines/check-routines.js';

export interface DeviceBackendOptions {
  /** Fill freed buffers with NaN after their last use (catches planning bugs). */
  poisonFreed?: boolean;
  /** How many compiled programs (feed-shape combinations) each run signature keeps (default 8). */
  programCacheSize?: number;
}

export class DeviceExecutable implements Executable {
  private readonly cache: ProgramCache<ProgramRunner>;
  /** Evicted runners whose handed-out variable values may still be current. */
  private retired: ProgramRunner[] = [];

  constructor(
    private readonly device: Device,
    private readonly plan: ExecutionPlan,
    private readonly opts: PrepareOptions & DeviceBackendOptions,
  ) {
    this.cache = new ProgramCache(opts.programCacheSize ?? DEFAULT_PROGRAM_CACHE_SIZE, (r) => this.retire(r));
  }

  /** The runner of the program for these concrete feed shapes (compiled and loaded on first use). */
  runner(feedShapes: Record<string, readonly number[]>): ProgramRunner {
    return this.cache.getOrCreate(JSON.stringify(feedShapes), () => {
      const program = compile(
        this.plan.graph,
        { fetches: [...this.plan.fetches], feeds: this.plan.feeds.map((n) => n.output) },
        {
          fuse: this.opts.fuse && !this.opts.checkNumerics,
          feedShapes,
          constantEvaluator: this.device.constantEvaluator,
          routines: this.device.routines,
          memoryLayout: this.device.memoryLayout,
        },
      );
      checkRoutines(program, this.device);
      return new ProgramRunner(this.device.load(program), { poisonFreed: this.opts.poisonFreed });
    });
  }

  /** The compiled Programs in the cache, least recently used first. */
  programs(): Program[] {
    return this.cache.values().map((r) => r.program);
  }

  run(inputs: ExecInputs): ExecOutputs | Promise<ExecOutputs> {
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
    this.releaseRetired(new Set(variables.values()));
    const runner = this.runner(feedShapes);
    const toExec = (out: RunOutputs): ExecOutputs => {
      const writes = new Map<Node, Tensor>();
      for (const [name, t] of out.writes) writes.set(byName.get(name) ?? this.plan.graph.nodeByName(name)!, t);
      return { values: out.values, writes };
    };
    const out = runner.run({ feeds, variables, seed: inputs.seed, checkNumerics: this.opts.checkNumerics });
    return out instanceof Promise ? out.then(toExec) : toExec(out);
  }

  dispose(): void {
    this.cache.clear();
    for (const r of this.retired) r.dispose();
    this.retired = [];
  }

  private retire(r: ProgramRunner): void {
    this.retired.push(r);
  }

  /** Disposes the evicted runners none of whose handed-out values is among `current`. */
  private releaseRetired(current: ReadonlySet<Tensor>): void {
    if (this.retired.length === 0) return;
    this.retired = this.retired.filter((r) => {
      if (r.liveValues().some((t) => current.has(t))) return true;
      r.dispose();
      return false;
    });
  }
}

/** A Session Backend that compiles for `device` and runs there. */
export function deviceBackend(device: Device, opts: DeviceBackendOptions = {}): Backend {
  return {
    name: device.name,
    constantEvaluator: device.constantEvaluator,
    get routines() {
      return device.routines;
    },
    prepare: (plan, popts) => new DeviceExecutable(device, plan, { ...popts, ...opts }),
    dispose: () => device.dispose?.(),
  };
}
