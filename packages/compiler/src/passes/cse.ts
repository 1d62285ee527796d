/**
 * Common subexpression elimination: two nodes with the same op, the same attrs and the same
 * (already deduplicated) inputs compute the same value, so the later one is replaced by the
 * earlier. Constants are compared by dtype, shape and bytes. Stateful ops never merge (two
 * dropout draws or two assigns are different events).
 */
import { type AttrValue, type Node, type SymbolicTensor, Tensor, getOp } from '@kiln/graph';
import { type GraphWithFetches, KEEP, rewriteGraph } from './rewrite.js';

function attrKey(v: AttrValue): string {
  if (v instanceof Tensor) {
    const bytes = new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength);
    let h = 2166136261;
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 16777619);
    return `T<${v.dtype}[${v.shape.join(',')}]#${h >>> 0}:${bytes.length}>`;
  }
  return JSON.stringify(v);
}

function sameTensorValue(a: Tensor, b: Tensor): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return false;
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return x.every((v, i) => v === y[i]);
}

function sameAttrs(a: Node, b: Node): boolean {
  for (const k of Object.keys(a.attrs)) {
    const x = a.attrs[k]!;
    const y = b.attrs[k]!;
    if (x instanceof Tensor || y instanceof Tensor) {
      if (!(x instanceof Tensor && y instanceof Tensor && sameTensorValue(x, y))) return false;
    } else if (JSON.stringify(x) !== JSON.stringify(y)) return false;
  }
  return true;
}

export function commonSubexpressionElimination(src: GraphWithFetches): GraphWithFetches {
  const seen = new Map<string, Node>();
  return rewriteGraph(src, (node, ctx) => {
    const def = getOp(node.op);
    if (def.stateful || def.target || node.op === 'placeholder' || node.controlInputs.length > 0) return KEEP;
    const key = `${node.op}(${ctx.inputs.map((t: SymbolicTensor) => `${t.node.id}:${t.index}`).join(',')}){${Object.keys(node.attrs)
      .sort()
      .map((k) => `${k}=${attrKey(node.attrs[k]!)}`)
      .join(',')}}`;
    const prev = seen.get(key);
    if (prev && sameAttrs(prev, node)) {
      return { kind: 'replace', outputs: node.outputs.map((_, i) => ctx.map(prev.outputs[i]!)) };
    }
    seen.set(key, node);
    return KEEP;
  });
}
