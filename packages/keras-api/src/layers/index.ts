/**
 * `layers`: the layer factories with TensorFlow.js names and argument objects
 * (`layers.dense({ units: 10, activation: 'relu', inputShape: [8] })`), and the registry that
 * rebuilds a layer from its saved class name and config.
 */
import { KilnError } from '@kiln/graph';
import type { Layer, LayerArgs, LayerConfig } from '../engine/layer.js';
import { type Conv2DArgs, type Pooling2DArgs, AveragePooling2D, Conv2D, GlobalAveragePooling2D, MaxPooling2D } from './convolutional.js';
import { Activation, Dense, type DenseArgs, Dropout, type DropoutArgs, Flatten, InputLayer, Reshape } from './core.js';
import { Embedding, type EmbeddingArgs } from './embedding.js';
import { Add, Concatenate } from './merge.js';
import { BatchNormalization, type BatchNormalizationArgs, LayerNormalization, type LayerNormalizationArgs } from './normalization.js';
import { GRU, LSTM, type LSTMArgs, type RNNArgs } from './recurrent.js';
import type { ActivationIdentifier } from '../activations.js';

export * from './convolutional.js';
export * from './core.js';
export * from './embedding.js';
export * from './merge.js';
export * from './normalization.js';
export * from './recurrent.js';

export const layers = {
  dense: (args: DenseArgs) => new Dense(args),
  conv2d: (args: Conv2DArgs) => new Conv2D(args),
  maxPooling2d: (args: Pooling2DArgs = {}) => new MaxPooling2D(args),
  averagePooling2d: (args: Pooling2DArgs = {}) => new AveragePooling2D(args),
  globalAveragePooling2d: (args: LayerArgs = {}) => new GlobalAveragePooling2D(args),
  flatten: (args: LayerArgs = {}) => new Flatten(args),
  dropout: (args: DropoutArgs) => new Dropout(args),
  batchNormalization: (args: BatchNormalizationArgs = {}) => new BatchNormalization(args),
  layerNormalization: (args: LayerNormalizationArgs = {}) => new LayerNormalization(args),
  embedding: (args: EmbeddingArgs) => new Embedding(args),
  activation: (args: LayerArgs & { activation: ActivationIdentifier }) => new Activation(args),
  reshape: (args: LayerArgs & { targetShape: number[] }) => new Reshape(args),
  concatenate: (args: LayerArgs & { axis?: number } = {}) => new Concatenate(args),
  add: (args: LayerArgs = {}) => new Add(args),
  lstm: (args: LSTMArgs) => new LSTM(args),
  gru: (args: RNNArgs) => new GRU(args),
};

const BY_CLASS: Record<string, (config: never) => Layer> = {
  InputLayer: (c: LayerArgs & { batchInputShape: (number | null)[] }) => new InputLayer(c),
  Dense: (c: DenseArgs) => new Dense(c),
  Conv2D: (c: Conv2DArgs) => new Conv2D(c),
  MaxPooling2D: (c: Pooling2DArgs) => new MaxPooling2D(c),
  AveragePooling2D: (c: Pooling2DArgs) => new AveragePooling2D(c),
  GlobalAveragePooling2D: (c: LayerArgs) => new GlobalAveragePooling2D(c),
  Flatten: (c: LayerArgs) => new Flatten(c),
  Dropout: (c: DropoutArgs) => new Dropout(c),
  BatchNormalization: (c: BatchNormalizationArgs) => new BatchNormalization(c),
  LayerNormalization: (c: LayerNormalizationArgs) => new LayerNormalization(c),
  Embedding: (c: EmbeddingArgs) => new Embedding(c),
  Activation: (c: LayerArgs & { activation: ActivationIdentifier }) => new Activation(c),
  Reshape: (c: LayerArgs & { targetShape: number[] }) => new Reshape(c),
  Concatenate: (c: LayerArgs & { axis?: number }) => new Concatenate(c),
  Add: (c: LayerArgs) => new Add(c),
  LSTM: (c: LSTMArgs) => new LSTM(c),
  GRU: (c: RNNArgs) => new GRU(c),
};

/** Rebuilds a layer from its saved class name and config (null fields mean "not set"). */
export function layerFromConfig(className: string, config: LayerConfig): Layer {
  const make = BY_CLASS[className];
  if (!make) throw new KilnError('CORRUPT_MODEL', `unknown layer class '${className}' (known: ${Object.keys(BY_CLASS).join(', ')})`);
  const clean = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== null));
  return make(clean as never);
}
