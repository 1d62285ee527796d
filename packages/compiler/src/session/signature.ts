/**
 * Resolving and checking what a user passes to Session.run: fetches (SymbolicTensors or
 * names 'node' / 'node:1') and feeds (placeholder name -> Tensor). Every mistake is a
 * KilnError that names the fetch or placeholder and shows expected vs got.
 */
import { type Graph, KilnError, type Node, type SymbolicTensor, Tensor, fmtShape, isSymbolic } from '@kiln/graph';

function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'object') return `a ${(x as object).constructor?.name ?? 'object'}`;
  return `a ${typeof x} (${JSON.stringify(x)})`;
}

export function resolveFetches(graph: Graph, fetches: readonly (SymbolicTensor | string)[]): SymbolicTensor[] {
  if (!Array.isArray(fetches)) {
    throw new KilnError('INVALID_ARGUMENT', `Session.run: fetches must be an array of SymbolicTensors or names, got ${describe(fetches)}`);
  }
  return fetches.map((f, i) => {
    if (typeof f === 'string') {
      try {
        return graph.tensorByName(f);
      } catch (e) {
        if (e instanceof KilnError) throw new KilnError('UNKNOWN_TENSOR', `Session.run: fetch ${i}: ${e.message}`);
        throw e;
      }
    }
    if (!isSymbolic(f)) {
      throw new KilnError('INVALID_ARGUMENT', `Session.run: fetch ${i} must be a SymbolicTensor or a tensor name, got ${describe(f)}`);
    }
    if (f.graph !== graph) {
      throw new KilnError('INVALID_ARGUMENT', `Session.run: fetch ${i} '${f.name}' belongs to another graph, not this session's`);
    }
    return f;
  });
}

/** The placeholder node fed under `name` ('x' or 'x:0'); INVALID_FEED when there is none. */
export function resolveFeedName(graph: Graph, name: string): Node {
  const m = /^(.*):0$/.exec(name);
  const node = graph.nodeByName(name) ?? (m ? graph.nodeByName(m[1]!) : undefined);
  if (!node) {
    const names = graph.placeholders().map((p) => `'${p.name}'`);
    throw new KilnError('INVALID_FEED', `Session.run: feed '${name}' names no node in the graph (placeholders: ${names.length ? names.join(', ') : 'none'})`);
  }
  if (node.op !== 'placeholder') {
    throw new KilnError('INVALID_FEED', `Session.run: feed '${name}' is a ${node.op} node, not a placeholder; only placeholders can be fed`);
  }
  return node;
}

/** Checks a feed value against its placeholder: a Tensor, same dtype, same rank, known dims equal. */
export function checkFeedValue(placeholder: Node, value: unknown): Tensor {
  const ph = placeholder.output;
  const want = `${ph.dtype}${fmtShape(ph.shape)}`;
  if (!(value instanceof Tensor)) {
    throw new KilnError(
      'INVALID_FEED',
      `Session.run: feed '${placeholder.name}' must be a Tensor (${want}), got ${describe(value)}; wrap values with tensor()`,
    );
  }
  const got = `${value.dtype}${fmtShape(value.shape)}`;
  if (value.dtype !== ph.dtype) {
    throw new KilnError('DTYPE_MISMATCH', `Session.run: feed '${placeholder.name}' expects ${want}, got ${got}`);
  }
  const rankOk = value.shape.length === ph.shape.length;
  const bad = rankOk ? ph.shape.findIndex((d, i) => d !== null && d !== value.shape[i]) : -1;
  if (!rankOk || bad >= 0) {
    const why = !rankOk ? `rank ${ph.shape.length} expected, got rank ${value.shape.length}` : `dim ${bad} must be ${ph.shape[bad]}, got ${value.shape[bad]}`;
    throw new KilnError('SHAPE_MISMATCH', `Session.run: feed '${placeholder.name}' expects ${want}, got ${got} (${why})`);
  }
  return value;
}

/** Resolves feed names to placeholder nodes and checks each value; keyed by node. */
export function resolveFeeds(graph: Graph, feeds: Record<string, Tensor> | undefined): Map<Node, Tensor> {
  const out = new Map<Node, Tensor>();
  if (feeds === undefined || feeds === null) return out;
  if (typeof feeds !== 'object' || Array.isArray(feeds) || feeds instanceof Tensor) {
    throw new KilnError('INVALID_FEED', `Session.run: feeds must be an object mapping placeholder names to Tensors, got ${describe(feeds)}`);
  }
  for (const [name, value] of Object.entries(feeds)) {
    const node = resolveFeedName(graph, name);
    if (out.has(node)) throw new KilnError('INVALID_FEED', `Session.run: placeholder '${node.name}' is fed twice ('${name}')`);
    out.set(node, checkFeedValue(node, value));
  }
  return out;
}
