/**
 * Import-time constant folding. A node whose inputs are all known constants is converted into a
 * scratch graph (its inputs as const nodes there) and evaluated at once on the reference
 * executor; its outputs become known constants of the import. This is how shape arithmetic
 * (Shape -> Gather -> Concat -> Reshape, Range, ConstantOfShape ...) turns into the static
 * attributes Kiln ops need.
 */
import { Graph, KilnError, type SymbolicTensor, Tensor } from '@kiln/graph';
import { evaluate } from '@kiln/runtime-cpu';
import { ConvertContext, Saturated } from './context.js';
import type { OnnxNode } from './decode.js';
import type { ConverterDef } from './registry.js';

/**
 * Converts and evaluates `node` on constant inputs (`values[i]` for node input i, undefined
 * for an absent optional input). Returns one host tensor per output the converter produced.
 */
export function foldNode(def: ConverterDef, node: OnnxNode, opset: number, values: readonly (Tensor | undefined)[]): (Tensor | Saturated)[] {
  const scratch = new Graph();
  const syms = new Map<number, SymbolicTensor>();
  const ctx = new ConvertContext(node, opset, scratch, {
    symbolic: (i) => {
      let s = syms.get(i);
      if (!s) {
        const v = values[i];
        if (!v) throw new KilnError('INTERNAL', `fold: input ${i} of ${node.opType} has no value`);
        s = scratch.constant(v);
        syms.set(i, s);
      }
      return s;
    },
    constant: (i) => values[i],
  });
  const produced = def.convert(ctx);
  const symbolic = produced.filter((p): p is SymbolicTensor => !(p instanceof Tensor || p instanceof Saturated));
  const evaluated = symbolic.length ? evaluate(symbolic) : [];
  let k = 0;
  return produced.map((p) => (p instanceof Tensor || p instanceof Saturated ? p : evaluated[k++]!));
}
