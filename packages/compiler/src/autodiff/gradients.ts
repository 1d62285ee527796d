/**
 * Symbolic reverse-mode differentiation: gradients(ys, xs, dys) walks the graph backwards from
 * `ys`, calls each op's gradient rule (autodiff/registry.ts) and appends the resulting ordinary
 * graph ops under the name scope 'gradients'. Because the result is made of ordinary ops, it
 * can be differentiated again (Hessian-vector products).
 *
 * Only nodes on a data path between some x and some y are visited. Several uses of a tensor
 * add their contributions. Integer and bool tensors carry no gradient; stopGradient and ops
 * declared non-differentiable block the flow; any other op without a rule is an error
 * (NOT_DIFFERENTIABLE) naming the op and the node.
 */
import { type Graph, KilnError, type Node, type SymbolicTensor, add, broadcastLike, fillTensor, fmtShape, isFullyDefined, isSymbolic } from '@kiln/graph';
import { type GradContext, getGradient, isNonDifferentiable } from './registry.js';

/** Ops through which no gradient flows by definition (besides those declared non-differentiable). */
const BLOCKING_OPS = new Set(['stopGradient']);

function key(t: SymbolicTensor): string {
  return `${t.node.id}:${t.index}`;
}

function compatible(a: readonly (number | null)[], b: readonly (number | null)[]): boolean {
  return a.length === b.length && a.every((d, i) => d === null || b[i] === null || d === b[i]);
}

/**
 * A float32 tensor filled with `value`, shaped like `like`: a constant when the shape is fully
 * known, otherwise the scalar broadcast to `like`'s run-time shape (broadcastLike reads only
 * the shape of `like`, never its values, so NaN/Inf in `like` cannot leak in).
 */
export function filledLike(like: SymbolicTensor, value: 0 | 1): SymbolicTensor {
  const g = like.graph;
  const name = value === 1 ? 'ones' : 'zeros';
  if (isFullyDefined(like.shape)) return g.constant(fillTensor(like.shape, value, 'float32'), 'float32', name);
  return broadcastLike(g.constant(value, 'float32', name), like);
}

/** Turns a node name into a valid name-scope component ('dense/MatMul' -> 'dense_MatMul'). */
function scopeFor(node: Node): string {
  return `${node.name.replace(/[^A-Za-z0-9_.\-]/g, '_')}_grad`;
}

function checkArgs(ys: readonly SymbolicTensor[], xs: readonly SymbolicTensor[], dys: readonly SymbolicTensor[] | undefined): Graph {
  const all = [...ys, ...xs, ...(dys ?? [])];
  for (const t of all) {
    if (!isSymbolic(t)) throw new KilnError('INVALID_ARGUMENT', `gradients: expected SymbolicTensors, got ${String(t)}`);
  }
  if (ys.length === 0) throw new KilnError('INVALID_ARGUMENT', 'gradients: ys is empty');
  const g = ys[0]!.graph;
  for (const t of all) {
    if (t.graph !== g) throw new KilnError('INVALID_ARGUMENT', `gradients: '${t.name}' belongs to another graph than '${ys[0]!.name}'`);
  }
  for (const x of xs) {
    if (x.dtype !== 'float32') {
      throw new KilnError('DTYPE_MISMATCH', `gradients: x '${x.name}' is ${x.dtype}; only float32 tensors have gradients`);
    }
  }
  if (dys) {
    if (dys.length !== ys.length) {
      throw new KilnError('INVALID_ARGUMENT', `gradients: got ${dys.length} dys for ${ys.length} ys (expected one per y)`);
    }
    dys.forEach((dy, i) => {
      const y = ys[i]!;
      if (dy.dtype !== y.dtype || !compatible(dy.shape, y.shape)) {
        throw new KilnError(
          'SHAPE_MISMATCH',
          `gradients: dy '${dy.name}' is ${dy.dtype}${fmtShape(dy.shape)} but y '${y.name}' is ${y.dtype}${fmtShape(y.shape)}`,
        );
      }
    });
  }
  return g;
}

/**
 * Returns d(sum of ys)/dx for each x, as new graph ops (under the name scope 'gradients').
 *
 * - `dys[i]` weights `ys[i]` (the vector in a vector-Jacobian product); it defaults to ones
 *   shaped like `ys[i]` (dynamic when the shape has unknown dims, e.g. a null batch).
 * - An x that no y depends on (or that only reaches y through blocked/integer paths) gets
 *   zeros of its own shape, never null.
 * - Each x must be float32 (DTYPE_MISMATCH otherwise); integer/bool ys contribute nothing.
 * - An op on the path with neither a gradient rule nor a non-differentiable declaration
 *   raises KilnError('NOT_DIFFERENTIABLE') naming the op and node.
 * - The result is differentiable again: gradients(gradients(y, [x])[0], [x]) works when the
 *   rules used emit differentiable ops.
 */
export function gradients(ys: SymbolicTensor | SymbolicTensor[], xs: SymbolicTensor[], dys?: SymbolicTensor[]): SymbolicTensor[] {
  const raw = gradientsOrNull(ys, xs, dys);
  if (raw.length === 0) return [];
  const g = xs[0]!.graph;
  return g.nameScope('gradients', () => raw.map((r, i) => r ?? filledLike(xs[i]!, 0)));
}

/**
 * As gradients(), but an x that receives no gradient (no differentiable path from any y) gets
 * null instead of zeros. Optimizers use this to skip unconnected variables, as TensorFlow does.
 */
export function gradientsOrNull(ys: SymbolicTensor | SymbolicTensor[], xs: SymbolicTensor[], dys?: SymbolicTensor[]): (SymbolicTensor | null)[] {
  const yList = Array.isArray(ys) ? ys : [ys];
  if (!Array.isArray(xs)) throw new KilnError('INVALID_ARGUMENT', 'gradients: xs must be an array of SymbolicTensors');
  const g = checkArgs(yList, xs, dys);
  const nodes = g.nodes;

  // Forward reach: nodes with a data input that depends on some x.
  const xKeys = new Set(xs.map(key));
  const fwd = new Set<Node>();
  const dependsOnX = (t: SymbolicTensor): boolean => xKeys.has(key(t)) || fwd.has(t.node);
  const minX = Math.min(...xs.map((x) => x.node.id));
  for (let i = Math.max(minX, 0); i < nodes.length; i++) {
    const n = nodes[i]!;
    if (n.inputs.some(dependsOnX)) fwd.add(n);
  }

  // Backward reach: nodes some y depends on through data edges.
  const bwd = new Set<Node>();
  const stack = yList.map((y) => y.node);
  while (stack.length) {
    const n = stack.pop()!;
    if (bwd.has(n)) continue;
    bwd.add(n);
    for (const x of n.inputs) stack.push(x.node);
  }

  return g.nameScope('gradients', () => {
    const contribs = new Map<string, SymbolicTensor[]>();
    const push = (t: SymbolicTensor, grad: SymbolicTensor): void => {
      const list = contribs.get(key(t));
      if (list) list.push(grad);
      else contribs.set(key(t), [grad]);
    };
    /** The accumulated gradient of t (summed once, then cached), or null. */
    const total = (t: SymbolicTensor): SymbolicTensor | null => {
      const list = contribs.get(key(t));
      if (!list || list.length === 0) return null;
      if (list.length > 1) {
        let acc = list[0]!;
        for (const c of list.slice(1)) acc = add(acc, c);
        contribs.set(key(t), [acc]);
        return acc;
      }
      return list[0]!;
    };

    yList.forEach((y, i) => {
      if (y.dtype !== 'float32' || !dependsOnX(y)) return;
      push(y, dys?.[i] ?? filledLike(y, 1));
    });

    const maxY = Math.max(...yList.map((y) => y.node.id));
    for (let id = maxY; id >= 0; id--) {
      const node = nodes[id]!;
      if (!fwd.has(node) || !bwd.has(node)) continue;
      const outGrads = node.outputs.map(total);
      if (outGrads.every((d) => d === null)) continue;
      if (BLOCKING_OPS.has(node.op) || isNonDifferentiable(node.op)) continue;
      const rule = getGradient(node.op);
      if (!rule) {
        throw new KilnError(
          'NOT_DIFFERENTIABLE',
          `gradients: op '${node.op}' (node '${node.name}') has no gradient rule and is not declared non-differentiable`,
        );
      }
      const ctx: GradContext = { node, inputs: node.inputs, outputs: node.outputs, attrs: node.attrs };
      const inGrads = g.nameScope(scopeFor(node), () => rule(outGrads, ctx));
      if (inGrads.length !== node.inputs.length) {
        throw new KilnError('INTERNAL', `gradient of ${node.op} '${node.name}': rule returned ${inGrads.length} gradients for ${node.inputs.length} inputs`);
      }
      node.inputs.forEach((inp, i) => {
        const gi = inGrads[i];
        if (!gi || inp.dtype !== 'float32' || !dependsOnX(inp)) return;
        if (gi.dtype !== 'float32' || !compatible(gi.shape, inp.shape)) {
          throw new KilnError(
            'INTERNAL',
            `gradient of ${node.op} '${node.name}' for input ${i} ('${inp.name}'): rule returned ${gi.dtype}${fmtShape(gi.shape)} but the input is ${inp.dtype}${fmtShape(inp.shape)}`,
          );
        }
        push(inp, gi);
      });
    }

    return xs.map((x) => total(x));
  });
}
