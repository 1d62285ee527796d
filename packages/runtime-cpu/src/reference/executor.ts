/**
 * The reference executor: runs a Graph node by node on host Tensors with the reference
 * kernels. Only nodes the fetches depend on (through data or control edges) run, in graph
 * order. Variable writes are staged and returned, never applied here, so a failed run
 * changes nothing.
 */
import { KilnError, type Node, type SymbolicTensor, Tensor, fmtShape, getOp } from '@kiln/graph';
import { reachableFrom } from '@kiln/compiler';
import { getRefKernel, type RefContext } from './registry.js';
import './kernels/index.js';
import { nodeRandom } from './random.js';

export { makeRandom, nodeRandom } from './random.js';

export interface EvaluateOptions {
  /** Placeholder values keyed by placeholder name. */
  feeds?: Record<string, Tensor>;
  /** Current variable values (defaults to each variable's initial value). */
  variables?: Map<Node, Tensor>;
  /** Seed for random ops; each random node draws from its own stream derived from it. */
  seed?: number;
  /** Fail with NUMERIC_ERROR as soon as a node (not a source) outputs NaN or Infinity. */
  checkNumerics?: boolean;
}

export interface EvaluateResult {
  values: Tensor[];
  /** Variable updates made by assign ops during the run (apply them to commit the run). */
  writes: Map<Node, Tensor>;
}

/** The nodes `fetches` depend on, in graph (topological) order. */
export function requiredNodes(fetches: readonly Node[]): Node[] {
  return [...reachableFrom(fetches)].sort((a, b) => a.id - b.id);
}

function checkOutput(node: Node, i: number, t: Tensor): void {
  const sym = node.outputs[i]!;
  const ok = t.dtype === sym.dtype && t.shape.length === sym.shape.length && sym.shape.every((d, k) => d === null || d === t.shape[k]);
  if (!ok) {
    throw new KilnError(
      'INTERNAL',
      `${node.op} '${node.name}': reference kernel produced ${t.dtype}${fmtShape(t.shape)} but inference said ${sym.dtype}${fmtShape(sym.shape)}`,
    );
  }
}

function firstNonFinite(t: Tensor): number {
  if (t.dtype !== 'float32') return -1;
  const d = t.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return i;
  return -1;
}

/** checkNumerics: names the node and op, where the bad value is, and whether it came in. */
function checkFinite(node: Node, outs: readonly Tensor[], values: ReadonlyMap<Node, Tensor[]>): void {
  for (const [i, t] of outs.entries()) {
    const k = firstNonFinite(t);
    if (k < 0) continue;
    const bad = node.inputs.filter((x) => firstNonFinite(values.get(x.node)![x.index]!) >= 0).map((x) => `'${x.name}'`);
    const origin = bad.length ? `input ${bad.join(', ')} already held NaN/Infinity` : 'all its inputs were finite';
    throw new KilnError(
      'NUMERIC_ERROR',
      `${node.op} '${node.name}' produced ${t.data[k]} at flat index ${k} of output ${i} (${t.dtype}${fmtShape(t.shape)}); ${origin}`,
    );
  }
}

export function evaluateWithState(fetches: readonly SymbolicTensor[], opts: EvaluateOptions = {}): EvaluateResult {
  const feeds = opts.feeds ?? {};
  const values = new Map<Node, Tensor[]>();
  const writes = new Map<Node, Tensor>();
  const seed = opts.seed ?? 0;
  for (const node of requiredNodes(fetches.map((f) => f.node))) {
    let outs: Tensor[];
    if (node.op === 'placeholder') {
      const fed = feeds[node.name];
      if (!fed) throw new KilnError('MISSING_FEED', `placeholder '${node.name}' ${node.outputs[0]!.dtype}${fmtShape(node.outputs[0]!.shape)} was not fed`);
      outs = [fed];
    } else if (node.op === 'variable') {
      outs = [writes.get(node) ?? opts.variables?.get(node) ?? (node.attrs.value as Tensor)];
    } else {
      const ctx: RefContext = {
        node,
        random: nodeRandom(seed, node.name),
        readVariable: (v) => writes.get(v) ?? opts.variables?.get(v) ?? (v.attrs.value as Tensor),
        writeVariable: (v, value) => {
          writes.set(v, value);
        },
      };
      const ins = node.inputs.map((x) => values.get(x.node)![x.index]!);
      outs = getRefKernel(node.op)(ins, node.attrs as Record<string, never>, ctx);
    }
    if (outs.length !== node.outputs.length) {
      throw new KilnError('INTERNAL', `${node.op} '${node.name}': kernel returned ${outs.length} outputs, expected ${node.outputs.length}`);
    }
    outs.forEach((t, i) => checkOutput(node, i, t));
    if (opts.checkNumerics && !getOp(node.op).source) checkFinite(node, outs, values);
    values.set(node, outs);
  }
  return { values: fetches.map((f) => values.get(f.node)![f.index]!), writes };
}

/** Evaluates `fetches` on the reference executor (variables at their current/initial values). */
export function evaluate(fetches: readonly SymbolicTensor[], feeds: Record<string, Tensor> = {}, opts: Omit<EvaluateOptions, 'feeds'> = {}): Tensor[] {
  return evaluateWithState(fetches, { ...opts, feeds }).values;
}
