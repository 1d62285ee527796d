/**
 * Sequential: a LayersModel that is a plain stack of layers, each applied to the previous
 * one's output. The first layer needs `inputShape` (or `batchInputShape`), which creates the
 * model's input. `add` appends a layer (the model rebuilds its graph, keeping the weights).
 */
import { KilnError } from '@kiln/graph';
import { InputLayer } from '../layers/core.js';
import type { Layer } from './layer.js';
import { LayersModel, autoModelName, inputTensorOf } from './model.js';

export class Sequential extends LayersModel {
  readonly className: string = 'Sequential';

  constructor(args: { layers?: Layer[]; name?: string } = {}) {
    super({ inputs: [], outputs: [], name: args.name ?? autoModelName('sequential') });
    for (const l of args.layers ?? []) this.add(l);
  }

  protected defaultName(): string {
    return 'sequential';
  }

  /** The layers in order (the input layer is not listed, as in Keras). */
  get layers(): Layer[] {
    return this.inputsList.length === 0 ? [] : super.layers.filter((l) => !(l instanceof InputLayer));
  }

  add(layer: Layer): void {
    if (!layer || typeof (layer as Layer).apply !== 'function') {
      throw new KilnError('INVALID_ARGUMENT', `Sequential.add: expects a layer, got ${layer === null ? 'null' : typeof layer}`);
    }
    if (this.layers.some((l) => l.name === layer.name)) {
      throw new KilnError('INVALID_ARGUMENT', `Sequential '${this.name}': two layers are named '${layer.name}'; layer names must be unique in a model`);
    }
    if (this.outputsList.length === 0) {
      if (!layer.batchInputShape) {
        throw new KilnError(
          'INVALID_ARGUMENT',
          `Sequential '${this.name}': the first layer (${layer.className} '${layer.name}') needs an inputShape (or batchInputShape)`,
        );
      }
      const inputLayer = new InputLayer({ name: `${layer.name}_input`, batchInputShape: layer.batchInputShape, dtype: layer.dtype });
      const x = inputTensorOf(inputLayer);
      this.inputsList = [x];
      this.outputsList = [layer.apply(x)];
    } else {
      this.outputsList = [layer.apply(this.outputsList[0]!)];
    }
    this.invalidate();
  }
}

/** `sequential({ layers: [...] })`, as tf.sequential. */
export function sequential(args: { layers?: Layer[]; name?: string } = {}): Sequential {
  return new Sequential(args);
}
