/**
 * Which graph inputs must be known at import time. Kiln ops take shapes, axes, pads and the
 * like as static attributes, so an ONNX model that feeds those as graph inputs (as the ONNX
 * node tests do) can only be imported with their values bound (ImportOptions.inputValues).
 * This walks the graph backwards from every such operand position, through the nodes that
 * compute it, to the graph inputs it depends on; Shape and Size only need static shapes.
 */
import type { BytesLike } from '@kiln/graph';
import { type OnnxModel, decodeModel } from './decode.js';
import { getConverter, staticInputsOf } from './registry.js';
import './ops/index.js';

export function staticInputNamesOf(model: OnnxModel): string[] {
  const opset = model.opsets.get('') ?? 1;
  const need = new Set<string>();
  const nodes = model.graph.nodes;
  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k]!;
    const def = getConverter(node.opType);
    const shapeOnly = new Set(def?.shapeOnlyInputs ?? []);
    const needed = node.outputs.some((o) => o !== '' && need.has(o));
    node.inputs.forEach((name, i) => {
      if (name === '') return;
      if (def && staticInputsOf(def, opset).includes(i)) need.add(name);
      else if (needed && !shapeOnly.has(i)) need.add(name);
    });
  }
  return model.graph.inputs.map((i) => i.name).filter((n) => need.has(n));
}

/** Names of the graph inputs whose values importOnnx needs at import time (in graph-input order). */
export function staticInputNames(bytes: BytesLike): string[] {
  return staticInputNamesOf(decodeModel(bytes, 'staticInputNames'));
}
