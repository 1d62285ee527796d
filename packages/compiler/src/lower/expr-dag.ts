/**
 * Scalar expressions as DAGs: the traversals every pass and code generator uses. Each visits a
 * distinct node once (by object identity) and none recurses on the depth of an expression,
 * so a 100,000-deep chain costs linear time and no stack:
 * - postorder: the distinct nodes, children before parents;
 * - internExprs: hash-consing; structurally equal subexpressions become one object;
 * - useCounts: how many parent edges (and roots) reference each node: a node used twice is
 *   computed once and bound to a local by the generators;
 * - substitute: replaces input references (fusing a producer into a consumer);
 * - exprToString: the text form of program dumps, linear in the DAG's size (shared
 *   subexpressions that are not small are printed once, bound to a name).
 */
import type { CallExpr, ScalarExpr } from './scalar-expr.js';

/** The distinct nodes reachable from `roots`, each after all of its arguments. */
export function postorder(roots: readonly ScalarExpr[]): ScalarExpr[] {
  const out: ScalarExpr[] = [];
  const seen = new Set<ScalarExpr>();
  const stack: [ScalarExpr, number][] = [];
  for (const r of roots) {
    if (seen.has(r)) continue;
    seen.add(r);
    stack.push([r, 0]);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [e, next] = top;
      if (e.kind === 'call' && next < e.args.length) {
        top[1] = next + 1;
        const a = e.args[next]!;
        if (!seen.has(a)) {
          seen.add(a);
          stack.push([a, 0]);
        }
        continue;
      }
      stack.pop();
      out.push(e);
    }
  }
  return out;
}

/** A constant's identity: its exact value, keeping -0 and NaN apart from the others. */
function constKey(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

/**
 * Hash-consing: returns `roots` rebuilt so that structurally equal subexpressions (same
 * function, dtype and arguments; same input; same constant) are one object. Unchanged nodes
 * are kept as they are. Linear in the number of distinct nodes.
 */
export function internExprs(roots: readonly ScalarExpr[]): ScalarExpr[] {
  const canon = new Map<ScalarExpr, ScalarExpr>();
  const ids = new Map<ScalarExpr, number>();
  const table = new Map<string, ScalarExpr>();
  for (const e of postorder(roots)) {
    let key: string;
    let args: ScalarExpr[] | undefined;
    if (e.kind === 'input') key = `%${e.index}:${e.dtype}`;
    else if (e.kind === 'const') key = `c${constKey(e.value)}:${e.dtype}`;
    else {
      args = e.args.map((a) => canon.get(a)!);
      key = `${e.fn}:${e.dtype}(${args.map((a) => ids.get(a)!).join(',')})`;
    }
    let c = table.get(key);
    if (!c) {
      c = e.kind === 'call' && args!.some((a, i) => a !== e.args[i]) ? { ...e, args: args! } : e;
      table.set(key, c);
      ids.set(c, ids.size);
    }
    canon.set(e, c);
  }
  return roots.map((r) => canon.get(r)!);
}

/** Per node: references from distinct parent nodes' argument lists, plus one per root. */
export function useCounts(roots: readonly ScalarExpr[]): Map<ScalarExpr, number> {
  const uses = new Map<ScalarExpr, number>();
  for (const e of postorder(roots)) {
    if (!uses.has(e)) uses.set(e, 0);
    if (e.kind === 'call') for (const a of e.args) uses.set(a, (uses.get(a) ?? 0) + 1);
  }
  for (const r of roots) uses.set(r, uses.get(r)! + 1);
  return uses;
}

/** Replaces each input reference %i by args[i] (used when fusing a producer into a consumer). */
export function substitute(e: ScalarExpr, args: readonly ScalarExpr[]): ScalarExpr {
  const out = new Map<ScalarExpr, ScalarExpr>();
  for (const x of postorder([e])) {
    if (x.kind === 'input') out.set(x, args[x.index]!);
    else if (x.kind === 'const') out.set(x, x);
    else {
      const a = x.args.map((y) => out.get(y)!);
      out.set(x, a.some((y, i) => y !== x.args[i]) ? { ...x, args: a } : x);
    }
  }
  return out.get(e)!;
}

/** Shared subexpressions up to this many tree nodes are printed inline at each use. */
const INLINE_SHARED = 12;

/**
 * A compact, stable text form used in program dumps: sigmoid(x) -> div(1, add(1, exp(neg(%0)))).
 * A shared subexpression larger than a few nodes is printed once: `let $0 = exp(mul(%0, %1)) in
 * add($0, $0)`. Structurally equal subexpressions print alike whether or not they are one object.
 */
export function exprToString(e: ScalarExpr): string {
  const [root] = internExprs([e]);
  const order = postorder([root!]);
  const uses = useCounts([root!]);
  const size = new Map<ScalarExpr, number>();
  const text = new Map<ScalarExpr, string>();
  const lets: string[] = [];
  for (const x of order) {
    if (x.kind === 'input') {
      text.set(x, `%${x.index}`);
      size.set(x, 1);
      continue;
    }
    if (x.kind === 'const') {
      text.set(x, Number.isNaN(x.value) ? 'nan' : String(x.value));
      size.set(x, 1);
      continue;
    }
    const c = x as CallExpr;
    let s = `${c.fn}(${c.args.map((a) => text.get(a)!).join(', ')})`;
    const n = Math.min(1 + c.args.reduce((t, a) => t + size.get(a)!, 0), INLINE_SHARED + 1);
    if (uses.get(x)! > 1 && n > INLINE_SHARED && x !== root) {
      const name = `$${lets.length}`;
      lets.push(`${name} = ${s}`);
      s = name;
      size.set(x, 1);
    } else size.set(x, n);
    text.set(x, s);
  }
  const body = text.get(root!)!;
  return lets.length ? `let ${lets.join('; ')} in ${body}` : body;
}

/**
 * A key that is equal for two lists of expressions exactly when they are structurally equal
 * (same functions, dtypes, inputs and constants, -0 and NaN included), linear in their size:
 * the distinct nodes in postorder, each naming its arguments by position. For caches of
 * generated code.
 */
export function structuralKey(roots: readonly ScalarExpr[]): string {
  const interned = internExprs(roots);
  const ids = new Map<ScalarExpr, number>();
  const parts: string[] = [];
  for (const e of postorder(interned)) {
    ids.set(e, ids.size);
    if (e.kind === 'input') parts.push(`%${e.index}:${e.dtype}`);
    else if (e.kind === 'const') parts.push(`${constKey(e.value)}:${e.dtype}`);
    else parts.push(`${e.fn}:${e.dtype}(${e.args.map((a) => ids.get(a)!).join(',')})`);
  }
  return `${parts.join(' ')} -> ${interned.map((r) => ids.get(r)!).join(',')}`;
}
