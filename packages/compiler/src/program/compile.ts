/**
 * compile(): the pipeline from a Graph to a backend-neutral Program.
 *   prune to fetches -> specialize shapes -> constant folding -> CSE -> algebraic
 *   simplification -> constant folding -> DCE -> routine decomposition -> lowering + fusion
 *   -> memory planning
 * Each stage is a pure function (see passes/ and program/), testable alone.
 */
import { type Graph, KilnError, type SymbolicTensor, getOp } from '@kiln/graph';
import { simplify } from '../passes/algebraic-simplify.js';
import { type ConstantEvaluator, constantFold } from '../passes/constant-fold.js';
import { commonSubexpressionElimination } from '../passes/cse.js';
import { deadCodeElimination } from '../passes/dce.js';
import { pruneToFetches } from '../passes/prune.js';
import { type GraphWithFetches, reachableFrom } from '../passes/rewrite.js';
import { specializeShapes } from '../passes/specialize.js';
import { decomposeRoutines } from '../decompose/index.js';
import { buildKernels } from './build-kernels.js';
import { CPU_MEMORY_LAYOUT, type MemoryLayout, planMemory } from './memory-plan.js';
import { type Program, programToString } from './program.js';

export interface CompileSpec {
  fetches: SymbolicTensor[];
  feeds: SymbolicTensor[];
}

export interface CompileOptions {
  /** Fuse elementwise chains and views (default true); false gives one kernel per node. */
  fuse?: boolean;
  /** Concrete shapes for placeholders with unknown dims (default: unknown dims become 1). */
  feedShapes?: Record<string, readonly number[]>;
  /**
   * How constants are folded: by default the evaluator a runtime installed
   * (setDefaultConstantEvaluator; loading @kiln/runtime-cpu installs its reference kernels);
   * false turns folding off.
   */
  constantEvaluator?: ConstantEvaluator | false;
  /**
   * Decompose composite ops (softmax, normalization, argMax, cumsum, tile, batched matMul, ...)
   * into the elementwise / reduce / contraction kinds. Default: when fusing. An unfused program
   * keeps one kernel per graph node (checkNumerics names nodes by kernel), so there they stay
   * routines; golden tests of fusion and memory planning also turn it off.
   */
  decompose?: boolean;
  /** The routines the target device implements (Device.routines); absent: all of them. */
  routines?: ReadonlySet<string>;
  /** Size cap for folded constants (elements). */
  maxConstantElements?: number;
  /** The target's element widths and offset alignment (default: the CPU's, CPU_MEMORY_LAYOUT). */
  memoryLayout?: MemoryLayout;
}

/**
 * The compiler imports no runtime, so constant folding evaluates ops through an evaluator a
 * runtime installs here when it loads (as kernels register themselves): compile() then folds
 * by default wherever a runtime is present, and a compile-only bundle does not fold.
 */
let defaultEvaluator: ConstantEvaluator | undefined;

export function setDefaultConstantEvaluator(evaluate: ConstantEvaluator | undefined): void {
  defaultEvaluator = evaluate;
}

/** Runs the graph-level passes only (for tests and `kiln inspect`). */
export function optimizeGraph(src: GraphWithFetches, opts: CompileOptions = {}): GraphWithFetches {
  const evaluate = opts.constantEvaluator === false ? undefined : (opts.constantEvaluator ?? defaultEvaluator);
  let cur = pruneToFetches(src);
  cur = specializeShapes(cur, opts.feedShapes ?? {});
  if (evaluate) cur = constantFold(cur, { evaluate, maxElements: opts.maxConstantElements });
  cur = commonSubexpressionElimination(cur);
  cur = simplify(cur);
  // Simplification exposes new constants (a broadcastLike of a constant becomes a foldable
  // broadcastTo once shapes are known), so fold once more.
  if (evaluate) cur = constantFold(cur, { evaluate, maxElements: opts.maxConstantElements });
  cur = deadCodeElimination(cur);
  return pruneToFetches(cur);
}

export function compile(g: Graph, spec: CompileSpec, opts: CompileOptions = {}): Program {
  for (const f of spec.fetches) {
    if (f.graph !== g) throw new KilnError('INVALID_ARGUMENT', `compile: fetch '${f.name}' belongs to another graph`);
  }
  const fed = new Set(spec.feeds.map((f) => f.node));
  for (const f of spec.feeds) {
    if (f.node.op !== 'placeholder') throw new KilnError('INVALID_FEED', `compile: '${f.name}' is a ${f.node.op}, not a placeholder`);
  }
  for (const p of reachableFrom(spec.fetches.map((f) => f.node))) {
    if (p.op === 'placeholder' && !fed.has(p)) {
      throw new KilnError('MISSING_FEED', `compile: the fetches need placeholder '${p.name}' but it is not among the feeds`);
    }
  }
  // Composite ops become reductions, contractions and elementwise maps; routines remain. No CSE
  // afterwards: a decomposition may repeat a cheap subexpression on purpose (x - max in
  // logSoftmax), so that each copy fuses into its consumer instead of becoming a kernel.
  const graphLevel = optimizeGraph({ graph: g, fetches: [...spec.fetches] }, opts);
  const optimized = (opts.decompose ?? opts.fuse ?? true) ? deadCodeElimination(decomposeRoutines(graphLevel, opts.routines)) : graphLevel;
  const memoryLayout = opts.memoryLayout ?? CPU_MEMORY_LAYOUT;
  const built = buildKernels(optimized, opts.fuse ?? true, memoryLayout);
  const plan = planMemory(built.buffers, built.kernels, built.fetches, memoryLayout);
  const graphNodes = optimized.graph.nodes.filter((n) => !getOp(n.op).source).length;
  const body = {
    graph: optimized.graph,
    buffers: built.buffers,
    kernels: built.kernels,
    fetches: built.fetches,
    fetchNames: spec.fetches.map((f) => f.name),
    feeds: built.feeds,
    frees: plan.frees,
    memoryLayout,
    stats: {
      graphNodes,
      kernels: built.kernels.filter((k) => k.spec.kind !== 'view').length,
      arenaBytes: plan.arenaBytes,
      naiveBytes: plan.naiveBytes,
      liveLowerBoundBytes: plan.liveLowerBoundBytes,
    },
  };
  return { ...body, toString: () => programToString(body) };
}
