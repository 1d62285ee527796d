/**
 * Resolving and checking what a user passes to Session.run: fetches (SymbolicTensors or
 * names 'node' / 'node:1') and feeds (tensor name -> Tensor: placeholders, or any tensor
 * whose value the feed replaces for that run, as TF1). Every mistake is a
 * KilnError that names the fetch or placeholder and shows expected vs got.
 */
import { type Graph, KilnError, type SymbolicTensor, type TargetTensor, Tensor, fmtShape, getOp, isSymbolic } from '@kiln/graph';

/** What Session.run fetches: a SymbolicTensor, or a tensor name ('node' or 'node:1'). */
export type Fetch = SymbolicTensor | string;

/**
 * The value of one fetch: null for a target (group(), minimize()), a Tensor for a tensor, and
 * either for a name (its op is known only at run time).
 */
export type FetchValue<F> = F extends TargetTensor ? null : F extends SymbolicTensor ? Tensor : Tensor | null;

/** The values of a tuple (or array) of fetches, position by position. */
export type FetchValues<F extends readonly Fetch[]> = { -readonly [K in keyof F]: FetchValue<F[K]> };

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

/** How a feed is named in messages: the node for output 0 ('x'), else the tensor ('split:1'). */
export function feedLabel(t: SymbolicTensor): string {
  return t.index === 0 ? t.node.name : t.name;
}

/**
 * The tensor fed under `name` ('x', 'x:0', 'split:1'): a placeholder, or any tensor with a
 * value (TF1: its fed value replaces the computed one for that run). INVALID_FEED when there
 * is none, or when it names a target (no value to replace).
 */
export function resolveFeedName(graph: Graph, name: string): SymbolicTensor {
  let t: SymbolicTensor;
  try {
    t = graph.tensorByName(name);
  } catch (e) {
    if (!(e instanceof KilnError)) throw e;
    const names = graph.placeholders().map((p) => `'${p.name}'`);
    throw new KilnError('INVALID_FEED', `Session.run: feed '${name}' names no node in the graph (placeholders: ${names.length ? names.join(', ') : 'none'})`);
  }
  if (getOp(t.node.op).target) {
    throw new KilnError('INVALID_FEED', `Session.run: feed '${name}' is a target (${t.node.op}) with no value; only tensors with values can be fed`);
  }
  return t;
}

/** Checks a feed value against the fed tensor: a Tensor, same dtype, same rank, known dims equal. */
export function checkFeedValue(fed: SymbolicTensor, value: unknown): Tensor {
  const label = feedLabel(fed);
  const want = `${fed.dtype}${fmtShape(fed.shape)}`;
  if (!(value instanceof Tensor)) {
    throw new KilnError('INVALID_FEED', `Session.run: feed '${label}' must be a Tensor (${want}), got ${describe(value)}; wrap values with tensor()`);
  }
  const got = `${value.dtype}${fmtShape(value.shape)}`;
  if (value.dtype !== fed.dtype) {
    throw new KilnError('DTYPE_MISMATCH', `Session.run: feed '${label}' expects ${want}, got ${got}`);
  }
  const rankOk = value.shape.length === fed.shape.length;
  const bad = rankOk ? fed.shape.findIndex((d, i) => d !== null && d !== value.shape[i]) : -1;
  if (!rankOk || bad >= 0) {
    const why = !rankOk ? `rank ${fed.shape.length} expected, got rank ${value.shape.length}` : `dim ${bad} must be ${fed.shape[bad]}, got ${value.shape[bad]}`;
    throw new KilnError('SHAPE_MISMATCH', `Session.run: feed '${label}' expects ${want}, got ${got} (${why})`);
  }
  return value;
}

/** Resolves feed names to the fed tensors and checks each value; keyed by tensor. */
export function resolveFeeds(graph: Graph, feeds: Record<string, Tensor> | undefined): Map<SymbolicTensor, Tensor> {
  const out = new Map<SymbolicTensor, Tensor>();
  if (feeds === undefined || feeds === null) return out;
  if (typeof feeds !== 'object' || Array.isArray(feeds) || feeds instanceof Tensor) {
    throw new KilnError('INVALID_FEED', `Session.run: feeds must be an object mapping tensor names to Tensors, got ${describe(feeds)}`);
  }
  for (const [name, value] of Object.entries(feeds)) {
    const t = resolveFeedName(graph, name);
    if (out.has(t))
      throw new KilnError('INVALID_FEED', `Session.run: ${t.node.op === 'placeholder' ? 'placeholder' : 'tensor'} '${feedLabel(t)}' is fed twice ('${name}')`);
    out.set(t, checkFeedValue(t, value));
  }
  return out;
}
