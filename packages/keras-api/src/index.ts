/**
 * @kiln/keras-api: the TensorFlow.js layers API on Kiln. Layers build graph ops; a model
 * compiles to one graph (training + inference) run by a Session on the chosen backend.
 *
 *   const model = sequential({ layers: [layers.dense({ units: 10, activation: 'relu', inputShape: [8] }), layers.dense({ units: 1 })] });
 *   model.compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae'] });
 *   await model.fit(xTrain, yTrain, { epochs: 10 });
 */
export { layers, layerFromConfig } from './layers/index.js';
export * from './layers/index.js';
export { Layer, LayerVariable, type LayerArgs, type LayerConfig, type CallContext } from './engine/layer.js';
export { KerasTensor, type LayerShape } from './engine/keras-tensor.js';
export { LayersModel, model, input, type ModelCompileArgs } from './engine/model.js';
export { Sequential, sequential } from './engine/sequential.js';
export type { ModelFitArgs, ModelEvaluateArgs, ModelPredictArgs } from './engine/training.js';
export type { CompileConfig, ModelGraph, TrainingPart } from './engine/model-graph.js';
export { summaryLines } from './engine/summary.js';
export { regularizers, type Regularizer } from './regularizers.js';
export { type ActivationIdentifier } from './activations.js';
export { Callback, CustomCallback, History, type Logs, type CustomCallbackArgs, type TrainingParams } from './callbacks/callback.js';
export { ProgbarLogger } from './callbacks/progbar.js';
export { callbacks, EarlyStopping, TensorBoard, LearningRateScheduler, type EarlyStoppingArgs, type TensorBoardArgs } from './callbacks/index.js';
export { loadModel, modelFromBytes, modelToBytes } from './save/model-file.js';
export * from './tensorboard/index.js';
