/**
 * Algebraic simplification, as a table of (op -> rewrite) rules in the style of tinygrad's
 * pattern matcher. Each rule looks at one node (its inputs already rewritten) and returns a
 * replacement tensor, or undefined to keep the node. A rewrite must never change a result's
 * shape or dtype, so identities on broadcasting ops only fire when the kept operand already
 * has the output's shape.
 *   x*1, 1*x, x+0, 0+x, x-0, x/1        -> x
 *   neg(neg(x))                          -> x
 *   identity(x), stopGradient(x)         -> x   (after differentiation it has no effect)
 *   transpose(transpose(x, p), q)        -> transpose(x, p∘q), or x when that is the identity
 *   reshape(reshape(x)) / reshape to x's own shape -> one reshape / x
 *   op(broadcastTo(s), y) for an elementwise op where s broadcasts to the same result -> op(s, y)
 *   matMul(transpose(a), b) of rank 2      -> matMul(a, b) with the transpose flag flipped (either side)
 *   sum|mean over all axes of [neg] sum(z, a) -> [neg] sum(z) [/ n]: one reduction instead of
 *                                        two (a per-example loss summed or averaged over the batch)
 *   broadcastLike(x, like) with a known result shape -> broadcastTo(x, shape), or x when equal
 *                                        (like's producer then becomes dead code)
 */
import { type Node, type SymbolicTensor, Tensor, getOp, shapesEqual, sizeOf } from '@kiln/graph';
import { type GraphWithFetches, KEEP, rewriteGraph } from './rewrite.js';

type Rule = (
  node: Node,
  inputs: SymbolicTensor[],
  add: (op: string, ins: SymbolicTensor[], attrs: Node['attrs'], intermediate?: boolean) => SymbolicTensor,
) => SymbolicTensor | undefined;

function constValue(t: SymbolicTensor): Tensor | undefined {
  return t.node.op === 'const' ? (t.node.attrs.value as Tensor) : undefined;
}

function isAll(t: SymbolicTensor, v: number): boolean {
  const c = constValue(t);
  return c !== undefined && c.size > 0 && c.data.every((x) => x === v);
}

function keeps(x: SymbolicTensor, node: Node): boolean {
  return x.dtype === node.output.dtype && shapesEqual(x.shape, node.output.shape);
}

const identityOperand =
  (unit: number, sides: 'both' | 'right'): Rule =>
  (node, [a, b]) => {
    if (isAll(b!, unit) && keeps(a!, node)) return a;
    if (sides === 'both' && isAll(a!, unit) && keeps(b!, node)) return b;
    return undefined;
  };

const ELEMENTWISE_BINARY = new Set(['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow', 'squaredDifference']);

const rules: Record<string, Rule> = {
  mul: identityOperand(1, 'both'),
  add: identityOperand(0, 'both'),
  sub: identityOperand(0, 'right'),
  div: identityOperand(1, 'right'),
  neg: (_n, [x]) => (x!.node.op === 'neg' ? x!.node.inputs[0] : undefined),
  identity: (_n, [x]) => x,
  stopGradient: (_n, [x]) => x,
  transpose: (node, [x], add) => {
    if (x!.node.op !== 'transpose') return undefined;
    const inner = x!.node.attrs.perm as number[];
    const outer = node.attrs.perm as number[];
    const perm = outer.map((p) => inner[p]!);
    const src = x!.node.inputs[0]!;
    return perm.every((p, i) => p === i) ? src : add('transpose', [src], { perm });
  },
  matMul: (node, [a, b], add) => {
    const flip = (t: SymbolicTensor) => t.node.op === 'transpose' && t.shape.length === 2 && (t.node.attrs.perm as number[])[0] === 1;
    if (!flip(a!) && !flip(b!)) return undefined;
    const ta = node.attrs.transposeA === true;
    const tb = node.attrs.transposeB === true;
    return add('matMul', [flip(a!) ? a!.node.inputs[0]! : a!, flip(b!) ? b!.node.inputs[0]! : b!], {
      ...node.attrs,
      transposeA: flip(a!) ? !ta : ta,
      transposeB: flip(b!) ? !tb : tb,
    });
  },
  sum: (node, [x], add) => combineReductions(node, x!, add),
  mean: (node, [x], add) => combineReductions(node, x!, add),
  broadcastLike: (node, [x], add) => {
    const shape = node.output.shape;
    if (!shape.every((d) => d !== null)) return undefined;
    return shapesEqual(x!.shape, shape) ? x : add('broadcastTo', [x!], { shape: [...shape] });
  },
  reshape: (node, [x], add) => {
    const src = x!.node.op === 'reshape' ? x!.node.inputs[0]! : x!;
    if (shapesEqual(src.shape, node.output.shape) && src.shape.every((d) => d !== null)) return src;
    return src === x ? undefined : add('reshape', [src], node.attrs);
  },
};

/**
 * A full reduction of a (possibly negated) float sum collapses into one sum over the inner
 * input's axes: sum(neg(sum(z, a))) = neg(sum(z)), mean(sum(z, a)) = sum(z) / n where n is
 * the element count of the inner result.
 */
function combineReductions(node: Node, x: SymbolicTensor, add: Parameters<Rule>[2]): SymbolicTensor | undefined {
  const rank = x.shape.length;
  const axes = node.attrs.axis as number[];
  const full = axes.length === rank && new Set(axes.map((a) => (a < 0 ? a + rank : a))).size === rank;
  if (!full || node.attrs.keepDims === true || node.output.dtype !== 'float32') return undefined;
  const negated = x.node.op === 'neg';
  const inner = negated ? x.node.inputs[0]! : x;
  if (inner.node.op !== 'sum' || !inner.shape.every((d) => d !== null)) return undefined;
  const z = inner.node.inputs[0]!;
  const mean = node.op === 'mean';
  let out = add('sum', [z], { axis: [...z.shape.keys()], keepDims: false }, mean || negated);
  if (mean) out = add('div', [out, constLike(out, sizeOf(inner.shape as number[]), add)], {}, negated);
  return negated ? add('neg', [out], {}) : out;
}

function constLike(t: SymbolicTensor, v: number, add: Parameters<Rule>[2]): SymbolicTensor {
  return add('const', [], { value: new Tensor(t.dtype, [], Float32Array.of(v)) }, true);
}

function dropScalarBroadcast(node: Node, inputs: SymbolicTensor[], add: Parameters<Rule>[2]): SymbolicTensor | undefined {
  if (!ELEMENTWISE_BINARY.has(node.op)) return undefined;
  const idx = inputs.findIndex((t) => t.node.op === 'broadcastTo');
  if (idx < 0) return undefined;
  const src = inputs[idx]!.node.inputs[0]!;
  const other = inputs[1 - idx]!;
  if (!shapesEqual(other.shape, node.output.shape) || !other.shape.every((d) => d !== null)) return undefined;
  if (src.shape.length > other.shape.length) return undefined;
  const rank = other.shape.length;
  const ok = src.shape.every((d, i) => d === 1 || d === other.shape[rank - src.shape.length + i]);
  if (!ok) return undefined;
  const ins = [...inputs];
  ins[idx] = src;
  return add(node.op, ins, node.attrs);
}

export function simplify(src: GraphWithFetches): GraphWithFetches {
  return rewriteGraph(src, (node, ctx) => {
    if (getOp(node.op).stateful || node.controlInputs.length > 0 || node.outputs.length !== 1) return KEEP;
    // The replacement takes the rewritten node's name; intermediate nodes of a multi-node
    // rewrite live under it, so their generated names cannot take the name of an original node
    // that is copied into the new graph later.
    const add = (op: string, ins: SymbolicTensor[], attrs: Node['attrs'], intermediate = false) =>
      ctx.graph.addNode(op, ins, { ...attrs }, { baseName: intermediate ? `${node.name}/simplified` : node.name }).output;
    const rule = rules[node.op];
    const out = rule?.(node, ctx.inputs, add) ?? dropScalarBroadcast(node, ctx.inputs, add);
    return out ? { kind: 'replace', outputs: [out] } : KEEP;
  });
}
