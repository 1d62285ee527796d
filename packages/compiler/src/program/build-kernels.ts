/**
 * Lowering + fusion: turns an optimized, shape-specialized graph into kernels.
 *
 * 1. Every op with an elementwise lowering becomes a scalar expression over its inputs.
 * 2. Vertical fusion: a producer's expression is inlined into its consumer when the producer
 *    is elementwise, has exactly one consumer, is not fetched, and has the consumer's shape
 *    (so one output index addresses both). Scalar constants are inlined as literals.
 * 3. Pure views (reshape, expandDims, squeeze; identity outside fused chains) are no-code
 *    kernels whose output aliases the input bytes: no copy kernels where a view suffices.
 * 4. Everything else (reductions, contractions, movement, state, random) is an op kernel.
 * With fuse=false every node is its own kernel (the unfused program, for comparison).
 */
import { type Node, type SymbolicTensor, Tensor, bytesPerElement, getOp, sizeOf } from '@kiln/graph';
import { getElementwiseLowering } from '../lower/elementwise.js';
import { type ScalarExpr, input, lit, substitute } from '../lower/scalar-expr.js';
import type { GraphWithFetches } from '../passes/rewrite.js';
import type { BufferDecl, Kernel } from './program.js';

const VIEW_OPS = new Set(['reshape', 'expandDims', 'squeeze']);
const ALIAS_OPS = new Set(['identity', 'stopGradient']);

interface Group {
  node: Node;
  expr: ScalarExpr;
  /** Leaf tensors the expression reads (input i = leaves[i]). */
  leaves: SymbolicTensor[];
  nodes: string[];
  reasons: string[];
  absorbed: boolean;
}

export interface BuiltKernels {
  buffers: BufferDecl[];
  kernels: Kernel[];
  fetches: number[];
  feeds: { name: string; buffer: number }[];
}

export function buildKernels(src: GraphWithFetches, fuse: boolean): BuiltKernels {
  const { graph, fetches } = src;
  const consumers = graph.consumers();
  const fetched = new Set(fetches);
  const groups = new Map<Node, Group>();
  const order: Node[] = [];

  for (const node of graph.nodes) {
    const def = getOp(node.op);
    if (def.source) continue;
    order.push(node);
    const lower = getElementwiseLowering(node.op);
    if (!lower || node.outputs.length !== 1 || def.stateful) continue;
    if (ALIAS_OPS.has(node.op) && !fuse) continue;
    const leaves: SymbolicTensor[] = [];
    const nodes: string[] = [];
    const reasons: string[] = [];
    const args = node.inputs.map((t) => {
      const producer = groups.get(t.node);
      const single = (consumers.get(t.node) ?? []).length === 1 && node.inputs.filter((x) => x === t).length === 1;
      const sameShape = t.shape.length === node.output.shape.length && t.shape.every((d, i) => d === node.output.shape[i]);
      if (fuse && producer && single && sameShape && !fetched.has(t)) {
        producer.absorbed = true;
        const base = leaves.length;
        leaves.push(...producer.leaves);
        nodes.push(...producer.nodes);
        reasons.push(...producer.reasons, `${producer.node.op} '${producer.node.name}' into ${node.op} '${node.name}': elementwise, single consumer, same shape`);
        return substitute(producer.expr, producer.leaves.map((l, i) => input(base + i, l.dtype)));
      }
      if (fuse && t.node.op === 'const' && sizeOf(t.shape as number[]) === 1) {
        return lit((t.node.attrs.value as Tensor).data[0]!, t.dtype);
      }
      const existing = leaves.indexOf(t);
      if (existing >= 0) return input(existing, t.dtype);
      leaves.push(t);
      return input(leaves.length - 1, t.dtype);
    });
    nodes.push(node.name);
    groups.set(node, { node, expr: lower(args, node.attrs, node.output.dtype), leaves, nodes, reasons, absorbed: false });
  }

  // Buffers: one per tensor that some kernel reads or writes, or that is fetched.
  const buffers: BufferDecl[] = [];
  const bufOf = new Map<SymbolicTensor, number>();
  const bufferFor = (t: SymbolicTensor): number => {
    const have = bufOf.get(t);
    if (have !== undefined) return have;
    const shape = t.shape as number[];
    const n = t.node;
    const kind = n.op === 'placeholder' ? 'feed' : n.op === 'variable' ? 'variable' : n.op === 'const' ? 'const' : 'temp';
    const decl: BufferDecl = {
      id: buffers.length,
      name: t.name,
      dtype: t.dtype,
      shape,
      bytes: sizeOf(shape) * bytesPerElement(t.dtype),
      kind,
      offset: -1,
    };
    if (kind === 'const') decl.value = n.attrs.value as Tensor;
    if (kind === 'feed' || kind === 'variable') decl.source = n.name;
    buffers.push(decl);
    bufOf.set(t, decl.id);
    return decl.id;
  };

  const kernels: Kernel[] = [];
  for (const node of order) {
    const group = groups.get(node);
    if (group?.absorbed) continue;
    const id = kernels.length;
    if (group) {
      const inputs = group.leaves.map(bufferFor);
      kernels.push({ id, spec: { kind: 'elementwise', expr: group.expr, inputs, output: bufferFor(node.output) }, nodes: group.nodes, reasons: group.reasons });
    } else if (VIEW_OPS.has(node.op) || ALIAS_OPS.has(node.op)) {
      const inp = bufferFor(node.inputs[0]!);
      const out = bufferFor(node.output);
      buffers[out]!.aliasOf = buffers[inp]!.aliasOf ?? inp;
      kernels.push({ id, spec: { kind: 'view', input: inp, output: out }, nodes: [node.name], reasons: [] });
    } else {
      const def = getOp(node.op);
      kernels.push({
        id,
        spec: {
          kind: 'op',
          op: node.op,
          family: def.family,
          node: node.name,
          attrs: node.attrs,
          inputs: node.inputs.map(bufferFor),
          outputs: def.target ? [] : node.outputs.map(bufferFor),
        },
        nodes: [node.name],
        reasons: [],
      });
    }
  }
  const feeds = graph.placeholders().map((p) => ({ name: p.name, buffer: bufferFor(p.output) }));
  const fetchIds = fetches.map((f) => (getOp(f.node.op).target ? -1 : bufferFor(f)));
  return { buffers, kernels, fetches: fetchIds, feeds };
}
