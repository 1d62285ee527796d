/** kiln: the umbrella package; re-exports every layer and adds the everyday entry points. */
export * from '@kiln/graph';
export * from '@kiln/compiler';
export * from '@kiln/runtime-cpu';
export { session, type KilnSessionOptions } from './session.js';

// ONNX import (@kiln/onnx). exportOnnx is not written yet.
export * from '@kiln/onnx';
export * from '@kiln/runtime-webgpu';

// Keras-style API (@kiln/keras-api): sequential, model, layers, loadModel, ...

// Compiled models: compileModel, loadCompiled.
export {
  compileModel,
  loadCompiled,
  type CompiledModel,
  type CompileModelSpec,
  type CompiledModelOptions,
  type LoadCompiledOptions,
} from './compiled-model.js';
