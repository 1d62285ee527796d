/**
 * compileModel / loadCompiled: a graph compiled once into a Program for fixed feed shapes,
 * run repeatedly with its own variable state, and saved as a ProgramProto that runs again
 * without the source graph and without recompiling.
 *
 *   const m = await compileModel(g, { fetches: [loss, step], feeds: [x, y], feedShapes: { x: [128, 784] } }, { backend: 'cpu' });
 *   const [lossValue] = await m.run({ x, y });      // one training step; the variables update
 *   const again = await loadCompiled(m.serialize(), { backend: 'cpu' });
 */
import {
  type CompileOptions,
  type Program,
  type Fetch,
  type FetchValues,
  type ProgramStats,
  compile,
  deserializeProgram,
  runSeed,
  serializeProgram,
} from '@kiln/compiler';
import { type BytesLike, type Graph, KilnError, type SymbolicTensor, Tensor, fmtShape, isSymbolic } from '@kiln/graph';
import { CpuProgram, referenceConstantEvaluator } from '@kiln/runtime-cpu';

export interface CompileModelSpec<F extends readonly SymbolicTensor[] = readonly SymbolicTensor[]> {
  fetches: F;
  feeds: readonly SymbolicTensor[];
  /** Concrete shapes by placeholder name; required for every feed with unknown (null) dims. */
  feedShapes?: Record<string, number[]>;
}

export interface CompiledModelOptions {
  backend: 'cpu' | 'webgpu';
  /** Fuse kernels (default true). */
  fuse?: boolean;
  /** Seed of the random streams (dropout, random ops); a random one when absent. */
  seed?: number;
}

export interface LoadCompiledOptions {
  backend: 'cpu' | 'webgpu';
  /**
   * The most memory (bytes) the loaded program may claim: arena, constants, feeds and
   * variables (default 1 GiB). A file asking for more is refused with RESOURCE_EXHAUSTED
   * before anything is allocated; raise this for a large model you trust.
   */
  maxBytes?: number;
}

export interface CompiledModel<F extends readonly Fetch[] = readonly Fetch[]> {
  /**
   * Runs the program once: one value per fetch, in fetch order; a target fetch (e.g. an
   * optimizer's update) gives null, as in Session.run, and is typed so.
   * Variable writes are committed to the model's own state, so a compiled training
   * step can be run repeatedly. Every feed of the program is required (keyed by placeholder
   * name, dtype and shape exactly as compiled); feeds the program does not read are ignored.
   */
  run(feeds: Record<string, Tensor>): Promise<FetchValues<F>>;
  readonly stats: ProgramStats;
  /** A ProgramProto with the current variable values and run state. */
  serialize(): Uint8Array;
  readonly program: Program;
  /** The current value of a variable (a copy). */
  variable(name: string): Tensor;
  /** How many runs have succeeded (with the seed, it seeds the random streams). */
  readonly runCounter: number;
  readonly seed: number;
  /**
   * Returns the program's memory to the backend's pool now (the garbage collector also does,
   * eventually). Afterwards run() is refused; serialize() and variable() still work. Also
   * `using m = await compileModel(...)` disposes at the end of the scope (Symbol.dispose).
   */
  dispose(): void;
  [Symbol.dispose](): void;
  readonly disposed: boolean;
}

function checkBackend(backend: unknown, what: string): void {
  if (backend === 'cpu') return;
  if (backend === 'webgpu') {
    throw new KilnError(
      'UNSUPPORTED',
      `${what}: backend 'webgpu' is not available yet in this build (the WGSL code generator is not written); use backend: 'cpu'`,
    );
  }
  throw new KilnError('INVALID_ARGUMENT', `${what}: unknown backend '${String(backend)}' (expected 'cpu' or 'webgpu')`);
}

function checkSeed(seed: unknown, what: string): number {
  if (seed === undefined) return Math.floor(Math.random() * 2 ** 32);
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) throw new KilnError('INVALID_ARGUMENT', `${what}: seed must be an integer, got ${String(seed)}`);
  return seed >>> 0;
}

class CpuCompiledModel implements CompiledModel<readonly Fetch[]> {
  private readonly state: Map<string, Tensor>;
  private queue: Promise<unknown> = Promise.resolve();
  private counter: number;
  private isDisposed = false;
  /** Runs queued and not finished. */
  private pending = 0;

  constructor(
    readonly program: Program,
    private readonly exec: CpuProgram,
    variables: Map<string, Tensor>,
    readonly seed: number,
    runCounter: number,
  ) {
    this.state = variables;
    this.counter = runCounter;
  }

  get stats(): ProgramStats {
    return this.program.stats;
  }

  get runCounter(): number {
    return this.counter;
  }

  variable(name: string): Tensor {
    const v = this.state.get(name) ?? this.state.get(name.replace(/:0$/, ''));
    if (!v) {
      const names = [...this.state.keys()].map((n) => `'${n}'`).join(', ');
      throw new KilnError('UNKNOWN_TENSOR', `CompiledModel.variable: no variable '${name}' in the program (variables: ${names || 'none'})`);
    }
    return v.clone();
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    // Now, or after the runs already queued: their memory must stay until they finish.
    if (this.pending === 0) this.exec.dispose();
    else this.queue = this.queue.then(() => this.exec.dispose());
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  run(feeds: Record<string, Tensor>): Promise<(Tensor | null)[]> {
    let fed: Map<string, Tensor>;
    try {
      if (this.isDisposed) throw new KilnError('INVALID_ARGUMENT', 'CompiledModel.run: the model was disposed; compile or load it again');
      fed = this.checkFeeds(feeds);
    } catch (e) {
      return Promise.reject(e);
    }
    this.pending++;
    const result = this.queue.then(() => this.execute(fed)).finally(() => this.pending--);
    this.queue = result.catch(() => undefined);
    return result;
  }

  serialize(): Uint8Array {
    return serializeProgram(this.program, { variables: this.state, seed: this.seed, runCounter: this.counter });
  }

  private checkFeeds(feeds: Record<string, Tensor>): Map<string, Tensor> {
    if (feeds === null || typeof feeds !== 'object' || Array.isArray(feeds) || feeds instanceof Tensor) {
      throw new KilnError(
        'INVALID_FEED',
        `CompiledModel.run: feeds must be an object mapping placeholder names to Tensors, got ${feeds === null ? 'null' : Array.isArray(feeds) ? 'an array' : typeof feeds}`,
      );
    }
    const byName = new Map<string, Tensor>();
    for (const [k, v] of Object.entries(feeds)) byName.set(k.replace(/:0$/, ''), v);
    const out = new Map<string, Tensor>();
    for (const f of this.program.feeds) {
      const b = this.program.buffers[f.buffer]!;
      const want = `${b.dtype}${fmtShape(b.shape)}`;
      const value = byName.get(f.name);
      if (value === undefined) {
        const all = this.program.feeds.map((x) => `'${x.name}'`).join(', ');
        throw new KilnError('MISSING_FEED', `CompiledModel.run: feed '${f.name}' (${want}) is missing; the compiled model needs ${all}`);
      }
      if (!(value instanceof Tensor)) {
        throw new KilnError(
          'INVALID_FEED',
          `CompiledModel.run: feed '${f.name}' must be a Tensor (${want}), got ${value === null ? 'null' : typeof value}; wrap values with tensor()`,
        );
      }
      const got = `${value.dtype}${fmtShape(value.shape)}`;
      if (value.dtype !== b.dtype) throw new KilnError('DTYPE_MISMATCH', `CompiledModel.run: feed '${f.name}' expects ${want}, got ${got}`);
      if (value.shape.length !== b.shape.length || value.shape.some((d, i) => d !== b.shape[i])) {
        throw new KilnError(
          'SHAPE_MISMATCH',
          `CompiledModel.run: feed '${f.name}' expects ${want} (the shape it was compiled for), got ${got}; compile again with feedShapes for other shapes`,
        );
      }
      out.set(f.name, value);
    }
    return out;
  }

  private async execute(feeds: Map<string, Tensor>): Promise<(Tensor | null)[]> {
    const out = await this.exec.run({ feeds, variables: this.state, seed: runSeed(this.seed, this.counter) });
    // Commit: a fed tensor written to a variable is copied, so the caller's tensor stays theirs.
    const fed = new Set<Tensor>(feeds.values());
    for (const [name, value] of out.writes) this.state.set(name, fed.has(value) ? value.clone() : value);
    this.counter++;
    const shared = new Set<Tensor>([...fed, ...this.state.values()]);
    for (const b of this.program.buffers) if (b.value) shared.add(b.value);
    return out.values.map((t) => (t === null ? null : shared.has(t) ? t.clone() : t));
  }
}

async function cpuModel(program: Program, variables: Map<string, Tensor>, seed: number, runCounter: number): Promise<CompiledModel> {
  const exec = await Promise.resolve(new CpuProgram(program));
  return new CpuCompiledModel(program, exec, variables, seed, runCounter);
}

/** Concrete shapes for every feed: the placeholder's own, or feedShapes' (which must agree). */
function resolveFeedShapes(spec: CompileModelSpec): Record<string, number[]> {
  const given = spec.feedShapes ?? {};
  if (given === null || typeof given !== 'object')
    throw new KilnError('INVALID_ARGUMENT', `compileModel: feedShapes must be an object mapping placeholder names to shapes`);
  const names = new Set(spec.feeds.map((f) => f.node.name));
  for (const k of Object.keys(given)) {
    if (!names.has(k))
      throw new KilnError(
        'INVALID_ARGUMENT',
        `compileModel: feedShapes has '${k}', which is not among the feeds (${[...names].map((n) => `'${n}'`).join(', ')})`,
      );
  }
  const out: Record<string, number[]> = {};
  for (const f of spec.feeds) {
    const name = f.node.name;
    const ph = f.shape;
    const s = given[name];
    if (s === undefined) {
      if (ph.some((d) => d === null)) {
        throw new KilnError(
          'INVALID_ARGUMENT',
          `compileModel: feed '${name}' has unknown dims ${fmtShape(ph)}; pass its concrete shape in spec.feedShapes (e.g. feedShapes: { '${name}': [${ph.map((d) => d ?? 32).join(', ')}] })`,
        );
      }
      out[name] = ph as number[];
      continue;
    }
    if (!Array.isArray(s) || s.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new KilnError('INVALID_ARGUMENT', `compileModel: feedShapes['${name}'] must be an array of non-negative integers, got ${JSON.stringify(s)}`);
    }
    const bad = s.length === ph.length ? ph.findIndex((d, i) => d !== null && d !== s[i]) : -1;
    if (s.length !== ph.length || bad >= 0) {
      const why = s.length !== ph.length ? `rank ${ph.length} expected, got rank ${s.length}` : `dim ${bad} must be ${ph[bad]}, got ${s[bad]}`;
      throw new KilnError('SHAPE_MISMATCH', `compileModel: feedShapes['${name}'] is ${fmtShape(s)} but placeholder '${name}' is ${fmtShape(ph)} (${why})`);
    }
    out[name] = [...s];
  }
  return out;
}

/** Compiles `g` once for the given fetches, feeds and concrete feed shapes. */
export async function compileModel<const F extends readonly SymbolicTensor[]>(
  g: Graph,
  spec: CompileModelSpec<F>,
  opts: CompiledModelOptions,
): Promise<CompiledModel<F>> {
  checkBackend(opts?.backend, 'compileModel');
  const seed = checkSeed(opts.seed, 'compileModel');
  if (!spec || !Array.isArray(spec.fetches) || !Array.isArray(spec.feeds)) {
    throw new KilnError('INVALID_ARGUMENT', 'compileModel: spec must be { fetches: SymbolicTensor[], feeds: SymbolicTensor[], feedShapes? }');
  }
  for (const [i, t] of [...spec.fetches, ...spec.feeds].entries()) {
    if (!isSymbolic(t) || t.graph !== g) {
      throw new KilnError(
        'INVALID_ARGUMENT',
        `compileModel: ${i < spec.fetches.length ? `fetch ${i}` : `feed ${i - spec.fetches.length}`} must be a SymbolicTensor of this graph`,
      );
    }
  }
  const copts: CompileOptions = { fuse: opts.fuse ?? true, feedShapes: resolveFeedShapes(spec), constantEvaluator: referenceConstantEvaluator };
  const program = compile(g, { fetches: [...spec.fetches], feeds: [...spec.feeds] }, copts);
  const variables = new Map(program.graph.variables().map((v) => [v.name, (v.attrs['value'] as Tensor).clone()] as const));
  return cpuModel(program, variables, seed, 0) as Promise<CompiledModel<F>>;
}

/** Loads bytes written by CompiledModel.serialize(): runs without the graph and without recompiling. */
export async function loadCompiled(bytes: BytesLike, opts: LoadCompiledOptions): Promise<CompiledModel> {
  checkBackend(opts?.backend, 'loadCompiled');
  const loaded = deserializeProgram(bytes, { maxBytes: opts.maxBytes });
  return cpuModel(loaded.program, loaded.variables, loaded.seed, loaded.runCounter);
}
