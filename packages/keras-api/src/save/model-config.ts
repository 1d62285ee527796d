/**
 * The architecture of a model as JSON (Keras' model config): the model class and name, each
 * layer's class and config, and for functional models which tensors each layer application
 * reads ('layer' or 'layer#i') and which tensors are the model's inputs and outputs.
 * modelFromConfig rebuilds an equivalent model (same layer names, so the same graph names).
 */
import { KilnError } from '@kiln/graph';
import type { KerasTensor } from '../engine/keras-tensor.js';
import type { LayerConfig } from '../engine/layer.js';
import { LayersModel, inputTensorOf } from '../engine/model.js';
import { Sequential } from '../engine/sequential.js';
import { InputLayer, layerFromConfig } from '../layers/index.js';

export interface LayerEntry {
  className: string;
  config: LayerConfig;
  /** Per application, the names of the tensors it reads. */
  inbound: string[][];
}

export interface ModelConfig {
  className: 'Sequential' | 'Model';
  name: string;
  layers: LayerEntry[];
  inputs: string[];
  outputs: string[];
}

export function modelToConfig(m: LayersModel): ModelConfig {
  const topo = m.topology;
  const layers = topo.layers
    .filter((l) => !(m instanceof Sequential && l instanceof InputLayer))
    .map((l) => ({ className: l.className, config: l.getConfig(), inbound: l.nodes.map((n) => n.inputs.map((t) => t.name)) }));
  return {
    className: m instanceof Sequential ? 'Sequential' : 'Model',
    name: m.name,
    layers,
    inputs: topo.inputs.map((t) => t.name),
    outputs: topo.outputs.map((t) => t.name),
  };
}

function bad(why: string): never {
  throw new KilnError('CORRUPT_MODEL', `loadModel: corrupt model config: ${why}`);
}

export function modelFromConfig(c: ModelConfig): LayersModel {
  if (typeof c !== 'object' || c === null || !Array.isArray(c.layers)) bad('no layer list');
  if (c.className === 'Sequential') {
    return new Sequential({ name: c.name, layers: c.layers.map((e) => layerFromConfig(e.className, e.config)) });
  }
  if (c.className !== 'Model') bad(`unknown model class ${JSON.stringify(c.className)}`);
  const tensors = new Map<string, KerasTensor>();
  for (const e of c.layers) {
    if (e.className === 'InputLayer') {
      const layer = layerFromConfig(e.className, e.config) as InputLayer;
      const t = inputTensorOf(layer);
      tensors.set(t.name, t);
      continue;
    }
    const layer = layerFromConfig(e.className, e.config);
    if (!Array.isArray(e.inbound)) bad(`layer '${layer.name}' has no inbound list`);
    for (const names of e.inbound) {
      const ins = names.map((n) => tensors.get(n) ?? bad(`layer '${layer.name}' reads '${n}', which is not defined before it`));
      const out = layer.apply(ins.length === 1 ? ins[0]! : ins);
      tensors.set(out.name, out);
    }
  }
  const pick = (names: string[]) => names.map((n) => tensors.get(n) ?? bad(`unknown model tensor '${n}'`));
  return new LayersModel({ name: c.name, inputs: pick(c.inputs), outputs: pick(c.outputs) });
}
