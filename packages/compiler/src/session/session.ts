/**
 * Session: runs a graph on a Backend and owns its state (variable values, run counter).
 *
 *   const s = new Session(g, backend, { seed: 7 });          // or: await kiln.session(g)
 *   const [y, _] = await s.run([y, 'train'], { x: batch });  // a target's fetch -> null
 *
 * Variables start at their initial values and change only through assign ops (or
 * setVariable). A run is atomic: its writes are staged and committed, together with the run
 * counter, only when the whole run succeeded, so a failed run leaves the session exactly as
 * it was. Runs are serialized in call order. Each signature (fetches + fed names) is planned
 * and prepared on the backend once, then cached.
 *
 * Random ops draw from streams seeded by (session seed, run counter): a fresh stream on every
 * run (successive training steps draw different dropout masks), reproducible from the seed
 * and the counter, which is why both are readable and the counter settable (saved state).
 */
import { type Graph, KilnError, type Node, type SymbolicTensor, Tensor, fmtShape, isSymbolic, serializeGraph } from '@kiln/graph';
import type { Backend, Executable } from './backend.js';
import { compile } from '../program/compile.js';
import type { Program } from '../program/program.js';
import { checkFeedShapes } from './feed-shapes.js';
import { writeFileAtomic } from './model-file.js';
import { substituteFeeds } from './fed-tensors.js';
import { type ExecutionPlan, makePlan } from './plan.js';
import { type Fetch, type FetchValues, checkFeedValue, feedLabel, resolveFeedName, resolveFeeds, resolveFetches } from './signature.js';

export interface SessionOptions {
  /** Fail a run with NUMERIC_ERROR naming the node that first produces NaN or Infinity. */
  checkNumerics?: boolean;
  /** Seed of the random streams (an integer); a random one when absent (see Session.seed). */
  seed?: number;
  /** Let a compiling backend fuse operators (default true; the reference backend ignores it). */
  fuse?: boolean;
}

/** Metadata keys of a saved session's random state (Session.save, kiln.restore). */
export const SEED_KEY = 'kiln.session.seed';
export const COUNTER_KEY = 'kiln.session.runCounter';

/** The per-run seed: a 32-bit mix of the session seed and the run counter. */
export function runSeed(seed: number, counter: number): number {
  let h = (Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul((counter + 1) >>> 0, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

interface Prepared {
  /** The cache key: fetch names, then sorted fed tensor names. */
  key: string;
  plan: ExecutionPlan;
  /** Each fed tensor -> the placeholder of plan.graph it is fed to (itself, or a substitute). */
  feedNodes: Map<SymbolicTensor, Node>;
  /** plan.graph is a copy with fed tensors replaced (variables map to the session's by name). */
  substituted: boolean;
  /** Feed-shape combinations already checked to agree (see feed-shapes.ts). */
  checkedShapes: Set<string>;
  programs: Map<string, Program>;
  executable?: Promise<Executable>;
}

export interface CompiledOptions {
  /** Concrete shapes for fed placeholders with unknown dims, by name (default: unknown dims are 1). */
  feedShapes?: Record<string, readonly number[]>;
}

/** Feed-shape combinations remembered per signature as checked (the check is cheap to redo). */
const MAX_CHECKED_SHAPES = 64;

export class Session {
  readonly graph: Graph;
  readonly backend: Backend;
  /** The seed of the random streams (the one given, or the one drawn when none was). */
  readonly seed: number;
  readonly checkNumerics: boolean;
  readonly fuse: boolean;
  private counter = 0;
  private readonly state = new Map<Node, Tensor>();
  private readonly cache = new Map<string, Prepared>();
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  /** The session takes ownership of `backend` and disposes it with itself. */
  constructor(graph: Graph, backend: Backend, opts: SessionOptions = {}) {
    if (opts.seed !== undefined && !Number.isSafeInteger(opts.seed)) {
      throw new KilnError('INVALID_ARGUMENT', `session: seed must be an integer, got ${String(opts.seed)}`);
    }
    this.graph = graph;
    this.backend = backend;
    this.seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
    this.checkNumerics = opts.checkNumerics ?? false;
    this.fuse = opts.fuse ?? true;
  }

  /** How many runs have succeeded (part of the saved training state: it seeds random ops). */
  get runCounter(): number {
    return this.counter;
  }
  set runCounter(n: number) {
    this.checkLive('runCounter');
    if (!Number.isSafeInteger(n) || n < 0) throw new KilnError('INVALID_ARGUMENT', `Session.runCounter: must be an integer >= 0, got ${String(n)}`);
    this.counter = n;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /**
   * Runs the graph and returns one value per fetch: a Tensor, or null for a target (a group,
   * an optimizer's update); typed so (`const [loss, _] = await s.run([loss, train])` gives a
   * Tensor and a null). `feeds` maps tensor names to Tensors: placeholders, or any tensor
   * whose value the feed replaces for this run (TF1); what only fed tensors needed is not run.
   * Feeds whose shapes disagree are reported, naming them, before anything runs.
   */
  async run<const F extends readonly Fetch[]>(fetches: F, feeds?: Record<string, Tensor>): Promise<FetchValues<F>> {
    this.checkLive('run');
    const outs = resolveFetches(this.graph, fetches);
    const fed = resolveFeeds(this.graph, feeds);
    const prepared = this.prepared(outs, [...fed.keys()]);
    const byNode = new Map([...fed].map(([t, v]) => [prepared.feedNodes.get(t)!, v] as const));
    this.checkShapes(prepared, byNode);
    const result = this.queue.then(() => this.execute(prepared, byNode));
    this.queue = result.catch(() => undefined);
    return result as Promise<FetchValues<F>>;
  }

  /**
   * The plan for a signature (fetches + names of the fed placeholders), as run() uses it: the
   * pruned, ordered node list (an ExecutionPlan, printable with toString()). The compiled
   * Program of the signature is compiled() below.
   */
  plan(fetches: readonly Fetch[], feedNames: readonly string[] = []): ExecutionPlan {
    this.checkLive('plan');
    const outs = resolveFetches(this.graph, fetches);
    const fed = [...new Set(feedNames.map((n) => resolveFeedName(this.graph, n)))];
    return this.prepared(outs, fed).plan;
  }

  /**
   * The compiled Program of a signature (cached per feed shapes): passes, fusion and memory
   * plan, with `stats` and a `toString()` dump. Unknown placeholder dims take `feedShapes`
   * (e.g. `{ feedShapes: { x: [128, 784] } }`), else 1; runs specialize on the fed shapes.
   */
  compiled(fetches: readonly Fetch[], feedNames: readonly string[] = [], opts: CompiledOptions = {}): Program {
    this.checkLive('compiled');
    const outs = resolveFetches(this.graph, fetches);
    const fed = [...new Set(feedNames.map((n) => resolveFeedName(this.graph, n)))];
    const p = this.prepared(outs, fed);
    const feedShapes: Record<string, readonly number[]> = {};
    for (const [name, shape] of Object.entries(opts.feedShapes ?? {})) {
      const t = resolveFeedName(this.graph, name);
      const node = p.feedNodes.get(t);
      if (!node)
        throw new KilnError(
          'INVALID_ARGUMENT',
          `Session.compiled: feedShapes names '${name}', which is not among the feeds (${feedNames.map((n) => `'${n}'`).join(', ') || 'none'})`,
        );
      checkFeedValue(t, new Tensor(t.dtype, shape));
      feedShapes[node.name] = [...shape];
    }
    const key = JSON.stringify(feedShapes);
    let program = p.programs.get(key);
    if (!program) {
      program = compile(
        p.plan.graph,
        { fetches: [...p.plan.fetches], feeds: p.plan.feeds.map((n) => n.output) },
        {
          fuse: this.fuse,
          feedShapes,
          routines: this.backend.routines,
          ...(this.backend.constantEvaluator ? { constantEvaluator: this.backend.constantEvaluator } : {}),
        },
      );
      p.programs.set(key, program);
    }
    return program;
  }

  /** Every variable's current value by name, in creation order (copies). */
  variableValues(): Map<string, Tensor> {
    this.checkLive('variableValues');
    return new Map(this.graph.variables().map((v) => [v.name, this.valueOf(v).clone()]));
  }

  /** A variable's current value (a copy), by name or by its SymbolicTensor. */
  getVariable(variable: string | SymbolicTensor): Tensor {
    this.checkLive('getVariable');
    return this.valueOf(this.variableNode('getVariable', variable)).clone();
  }

  /** Sets a variable (same dtype and shape as its initial value); the session keeps a copy. */
  setVariable(variable: string | SymbolicTensor, value: Tensor): void {
    this.setVariables([[variable, value]]);
  }

  /** Sets several variables at once: all are checked before any is set. */
  setVariables(values: Record<string, Tensor> | Iterable<readonly [string | SymbolicTensor, Tensor]>): void {
    this.checkLive('setVariables');
    const entries: (readonly [string | SymbolicTensor, Tensor])[] =
      Symbol.iterator in Object(values) ? [...(values as Iterable<readonly [string | SymbolicTensor, Tensor]>)] : Object.entries(values);
    const checked = entries.map(([v, value]) => {
      const node = this.variableNode('setVariable', v);
      const want = node.output;
      const wantS = `${want.dtype}${fmtShape(want.shape)}`;
      if (!(value instanceof Tensor)) {
        throw new KilnError('INVALID_ARGUMENT', `Session.setVariable: value for '${node.name}' must be a Tensor (${wantS}), got ${typeof value}`);
      }
      const gotS = `${value.dtype}${fmtShape(value.shape)}`;
      if (value.dtype !== want.dtype) {
        throw new KilnError('DTYPE_MISMATCH', `Session.setVariable: variable '${node.name}' is ${wantS}, got ${gotS}`);
      }
      if (value.shape.length !== want.shape.length || want.shape.some((d, i) => d !== value.shape[i])) {
        throw new KilnError('SHAPE_MISMATCH', `Session.setVariable: variable '${node.name}' is ${wantS}, got ${gotS}`);
      }
      return [node, value.clone()] as const;
    });
    for (const [node, value] of checked) this.state.set(node, value);
  }

  /**
   * Writes the model file (a ModelProto: the graph with every variable's current value,
   * optimizer slots included, plus the session seed and run counter) to `path`, atomically.
   * Waits for the runs already queued. `kiln.restore(path)` opens it in a new session.
   */
  async save(path: string): Promise<void> {
    this.checkLive('save');
    await this.queue;
    this.checkLive('save');
    const bytes = serializeGraph(this.graph, {
      variables: this.variableValues(),
      metadata: { [SEED_KEY]: String(this.seed), [COUNTER_KEY]: String(this.counter) },
    });
    await writeFileAtomic(path, bytes, 'Session.save');
  }

  /** Frees the backend's resources; later calls fail with a KilnError. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.cache.values()) {
      p.executable?.then((e) => e.dispose?.()).catch(() => undefined);
    }
    this.cache.clear();
    this.state.clear();
    this.backend.dispose?.();
  }

  private checkLive(what: string): void {
    if (this.disposed) throw new KilnError('INVALID_ARGUMENT', `Session.${what}: the session has been disposed; create a new one with session(graph)`);
  }

  private valueOf(v: Node): Tensor {
    return this.state.get(v) ?? (v.attrs.value as Tensor);
  }

  private variableNode(what: string, v: string | SymbolicTensor): Node {
    let node: Node | undefined;
    if (typeof v === 'string') {
      node = this.graph.nodeByName(v) ?? this.graph.nodeByName(v.replace(/:0$/, ''));
      if (!node) throw new KilnError('UNKNOWN_TENSOR', `Session.${what}: no variable named '${v}' in the graph`);
    } else if (isSymbolic(v)) {
      if (v.graph !== this.graph) throw new KilnError('INVALID_ARGUMENT', `Session.${what}: '${v.name}' belongs to another graph, not this session's`);
      node = v.node;
    } else {
      throw new KilnError('INVALID_ARGUMENT', `Session.${what}: expected a variable name or SymbolicTensor, got ${typeof v}`);
    }
    if (node.op !== 'variable') throw new KilnError('INVALID_ARGUMENT', `Session.${what}: '${node.name}' is a ${node.op} node, not a variable`);
    return node;
  }

  private prepared(fetches: readonly SymbolicTensor[], fed: readonly SymbolicTensor[]): Prepared {
    const key = `${fetches.map((f) => f.name).join(',')}|${fed
      .map((t) => t.name)
      .sort()
      .join(',')}`;
    let p = this.cache.get(key);
    if (!p) {
      const substituted = fed.some((t) => t.node.op !== 'placeholder');
      let plan: ExecutionPlan;
      const feedNodes = new Map<SymbolicTensor, Node>();
      if (!substituted) {
        for (const t of fed) feedNodes.set(t, t.node);
        plan = makePlan(
          this.graph,
          fetches,
          fed.map((t) => t.node),
        );
      } else {
        const sub = substituteFeeds(
          this.graph,
          fetches,
          fed.filter((t) => t.node.op !== 'placeholder'),
        );
        for (const t of fed) feedNodes.set(t, sub.placeholders.get(t) ?? sub.graph.nodeByName(t.node.name)!);
        plan = makePlan(sub.graph, sub.fetches, [...feedNodes.values()]);
      }
      p = { key, plan, feedNodes, substituted, checkedShapes: new Set(), programs: new Map() };
      this.cache.set(key, p);
    }
    return p;
  }

  /** The session's variable node for a variable of the plan's graph (the same node unless substituted). */
  private ownVariable(p: Prepared, v: Node): Node {
    return p.substituted ? this.graph.nodeByName(v.name)! : v;
  }

  private checkShapes(p: Prepared, feeds: ReadonlyMap<Node, Tensor>): void {
    const key = [...feeds].map(([n, t]) => `${n.name}:${t.shape.join('x')}`).join(',');
    if (p.checkedShapes.has(key)) return;
    const labels = new Map([...p.feedNodes].map(([t, n]) => [n, feedLabel(t)] as const));
    checkFeedShapes(p.plan, feeds, (n) => labels.get(n) ?? n.name);
    if (p.checkedShapes.size >= MAX_CHECKED_SHAPES) p.checkedShapes.clear();
    p.checkedShapes.add(key);
  }

  private async execute(p: Prepared, feeds: ReadonlyMap<Node, Tensor>): Promise<(Tensor | null)[]> {
    this.checkLive('run');
    const { plan } = p;
    if (!p.executable) {
      p.executable = Promise.resolve(this.backend.prepare(plan, { checkNumerics: this.checkNumerics, fuse: this.fuse }));
      // A failed prepare is not cached: the next run tries again.
      p.executable.catch(() => {
        if (this.cache.get(p.key) === p) p.executable = undefined;
      });
    }
    const exe = await p.executable;
    this.checkLive('run');
    const variables = new Map(plan.variables.map((v) => [v, this.valueOf(this.ownVariable(p, v))] as const));
    const out = await exe.run({ feeds, variables, seed: runSeed(this.seed, this.counter) });
    this.checkLive('run');
    if (out.values.length !== plan.fetches.length) {
      throw new KilnError('INTERNAL', `Session.run: backend '${this.backend.name}' returned ${out.values.length} values for ${plan.fetches.length} fetches`);
    }
    const missing = out.values.findIndex((t, i) => !plan.targets[i] && !(t instanceof Tensor));
    if (missing >= 0) {
      throw new KilnError('INTERNAL', `Session.run: backend '${this.backend.name}' returned no value for fetch '${plan.fetches[missing]!.name}'`);
    }
    // Commit: nothing above changed the session; from here nothing can fail.
    const fedTensors = new Set(feeds.values());
    for (const [v, value] of out.writes) this.state.set(this.ownVariable(p, v), fedTensors.has(value) ? value.clone() : value);
    this.counter++;
    // The caller owns what it gets: never hand out the session's state, a feed or a constant.
    const shared = new Set<unknown>([...fedTensors, ...this.state.values(), ...plan.variables.map((v) => this.valueOf(this.ownVariable(p, v)))]);
    for (const n of plan.nodes) if (n.op === 'const') shared.add(n.attrs.value);
    return out.values.map((t, i) => (plan.targets[i] || t === null ? null : shared.has(t) ? t.clone() : t));
  }
}
