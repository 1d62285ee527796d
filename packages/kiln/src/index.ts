/**
 * kiln: the umbrella package, the everyday API on purpose: an explicit list, grouped as
 * TensorFlow.js groups its API. Internals (lowering, passes, kernel registries, op helpers)
 * stay reachable from their own packages (@kiln/graph, @kiln/compiler, @kiln/runtime-cpu,
 * @kiln/onnx). tests/api-report.test.ts compares the sorted list of these names with
 * tests/api-report.txt, so any change to this surface shows up in review.
 */

// ---- Tensors: host values and dtypes ---------------------------------------------------------
export { Tensor, tensor, scalar, type DType, type NestedArray, type TypedArray } from '@kiln/graph';
export { KilnError, type KilnErrorCode } from '@kiln/graph';

// ---- Graphs: placeholders, variables, constants and source ops are Graph methods --------------
export { Graph, type Node, type SymbolicTensor, type TargetTensor, type Dim, type Shape, type VariableOptions } from '@kiln/graph';
export { printGraph, parseGraph, serializeGraph, deserializeGraph, deserializeModel } from '@kiln/graph';
export { type TensorLike } from '@kiln/graph';

// ---- Operations (free functions; TensorFlow.js names and argument order) ----------------------
// Arithmetic and basic math
export { add, sub, mul, div, pow, maximum, minimum, squaredDifference, neg, abs, exp, log, sqrt, rsqrt, square, reciprocal } from '@kiln/graph';
export { sign, floor, ceil, round, sin, cos, tanh, sigmoid, relu, relu6, leakyRelu, elu, selu, softplus, gelu, erf, clipByValue } from '@kiln/graph';
export { tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh } from '@kiln/graph';
export { cast, identity, stopGradient } from '@kiln/graph';
// Logical
export { equal, notEqual, less, lessEqual, greater, greaterEqual, logicalAnd, logicalOr, logicalNot, where } from '@kiln/graph';
// Matrices, convolution, pooling
export { matMul, conv2d, conv2dTranspose, depthwiseConv2d, maxPool, avgPool } from '@kiln/graph';
// Reduction
export { sum, mean, max, min, prod, argMax, argMin, cumsum, unsortedSegmentSum } from '@kiln/graph';
// Normalization and classification
export { softmax, logSoftmax, batchNorm, layerNorm, dropout } from '@kiln/graph';
export { sigmoidCrossEntropy, softmaxCrossEntropy, sparseSoftmaxCrossEntropy } from '@kiln/graph';
// Slicing, joining and transformations
export { reshape, transpose, expandDims, squeeze, concat, stack, split, slice, gather, oneHot, pad, tile, broadcastTo } from '@kiln/graph';
// Creation and random (the shape-only ones are Graph methods: g.zeros, g.randomNormal, ...)
export { zerosLike, onesLike, multinomial } from '@kiln/graph';
// Variables and targets
export { assign, assignAdd, assignSub, group, noOp } from '@kiln/graph';

// ---- Training ---------------------------------------------------------------------------------
export { gradients, train, Optimizer, SGDOptimizer, MomentumOptimizer, AdamOptimizer, RMSPropOptimizer, AdagradOptimizer } from '@kiln/compiler';
export { losses } from '@kiln/graph';
export { initializers, type Initializer } from '@kiln/graph';

// ---- Sessions, compiled programs, files --------------------------------------------------------
export { session, type KilnSessionOptions } from './session.js';
export { restore } from './restore.js';
export { Session, type SessionOptions, type CompiledOptions, type Fetch, type FetchValue, type FetchValues } from '@kiln/compiler';
export { compile, type CompileOptions, type Program, type ProgramStats } from '@kiln/compiler';
export {
  compileModel,
  loadCompiled,
  type CompiledModel,
  type CompileModelSpec,
  type CompiledModelOptions,
  type LoadCompiledOptions,
} from './compiled-model.js';
export { io } from './io.js';

// ---- ONNX -------------------------------------------------------------------------------------
export { importOnnx, staticInputNames, exportOnnx, exportableOps, type ExportOnnxSpec } from '@kiln/onnx';

// ---- Utilities ----------------------------------------------------------------------------------
/** Deterministic seeded uniform stream in [0, 1) (the generator behind every random op). */
export { makeRandom } from '@kiln/graph';

// ---- Keras-style layers API (@kiln/keras-api) ------------------------------------------------
export { sequential, model, input, layers, loadModel, Sequential, LayersModel, Layer, KerasTensor } from '@kiln/keras-api';
export { regularizers, type Regularizer, type ModelCompileArgs, type ModelFitArgs, type ModelEvaluateArgs, type ModelPredictArgs } from '@kiln/keras-api';
export { callbacks, Callback, CustomCallback, History, EarlyStopping, TensorBoard, ProgbarLogger, LearningRateScheduler, type Logs } from '@kiln/keras-api';
