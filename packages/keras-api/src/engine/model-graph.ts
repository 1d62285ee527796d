/**
 * Builds the one Graph of a Keras model: placeholders for the inputs, one graph variable per
 * layer weight (named '<layer>/<weight>'), the inference forward pass (layer scopes:
 * 'dense_1/MatMul'), and, once compiled, the training forward pass (scope 'training/', where
 * dropout drops and batch norm uses batch statistics), the loss (per-example loss times the
 * sample weights, averaged, plus the regularization penalties), the metrics, their inference
 * counterparts for evaluate (scope 'eval/'), a 'learning_rate' variable, and the optimizer's
 * update ops together with the
 * layers' state updates as one training target. Training and inference are two fetch sets of
 * this graph: each compiles once per batch shape into its own Program.
 */
import { type Graph, KilnError, type SymbolicTensor, add, fillTensor, group, mean, mul } from '@kiln/graph';
import { Graph as GraphClass } from '@kiln/graph';
import type { KerasTensor } from './keras-tensor.js';
import type { CallContext, Layer, LayerVariable } from './layer.js';
import { LOSSES, type LossName, sparseTargets } from '../losses.js';
import { METRICS, type MetricName } from '../metrics.js';
import { type OptimizerConfig, optimizerFromConfig } from '../optimizers.js';
import type { Optimizer } from '@kiln/compiler';

/** What model.compile fixed: the loss, the metrics (reported name and function) and the optimizer. */
export interface CompileConfig {
  loss: LossName;
  /** The identifier the user gave (saved as is). */
  lossId: string;
  metrics: { name: string; fn: MetricName }[];
  optimizer: OptimizerConfig;
}

export interface TrainingPart {
  /** Placeholder of the targets (int32 class ids for sparse losses). */
  target: SymbolicTensor;
  /** Placeholder [batch] of per-example weights (ones unless classWeight is given). */
  sampleWeight: SymbolicTensor;
  /** Applies one optimizer step and the layers' state updates (a target). */
  step: SymbolicTensor;
  loss: SymbolicTensor;
  metrics: SymbolicTensor[];
  evalLoss: SymbolicTensor;
  evalMetrics: SymbolicTensor[];
  optimizer: Optimizer;
  /** The learning rate, a non-trainable scalar variable (set between steps by schedules; saved with the model). */
  learningRate: SymbolicTensor;
}

export interface ModelGraph {
  graph: Graph;
  inputs: SymbolicTensor[];
  /** Inference outputs (dropout off, batch norm on moving statistics). */
  outputs: SymbolicTensor[];
  variables: Map<LayerVariable, SymbolicTensor>;
  training: TrainingPart | null;
}

export interface ModelTopology {
  inputs: KerasTensor[];
  outputs: KerasTensor[];
  /** Every tensor between inputs and outputs, in creation (= topological) order. */
  tensors: KerasTensor[];
  layers: Layer[];
}

function forward(g: Graph, topo: ModelTopology, inputs: SymbolicTensor[], ctx: CallContext): SymbolicTensor[] {
  const values = new Map<KerasTensor, SymbolicTensor>();
  topo.inputs.forEach((kt, i) => values.set(kt, inputs[i]!));
  for (const kt of topo.tensors) {
    if (values.has(kt)) continue;
    const { layer, inputs: ins } = kt.origin;
    const xs = ins.map((i) => {
      const v = values.get(i);
      if (!v) throw new KilnError('INVALID_ARGUMENT', `model: layer '${layer.name}' reads '${i.name}', which is not computed from the model's inputs`);
      return v;
    });
    values.set(
      kt,
      g.nameScope(layer.name, () => layer.call(xs, ctx)),
    );
  }
  return topo.outputs.map((o) => values.get(o)!);
}

/** Builds the model graph; `compile` adds the training and evaluation parts. */
export function buildModelGraph(topo: ModelTopology, compile: CompileConfig | null): ModelGraph {
  const g = new GraphClass();
  const inputs = topo.inputs.map((kt) => g.placeholder(kt.dtype, [...kt.shape], kt.origin.layer.name));
  const variables = new Map<LayerVariable, SymbolicTensor>();
  for (const layer of topo.layers) {
    for (const w of layer.weights) variables.set(w, g.variable(w.value, w.name, { trainable: w.trainable }));
  }
  const context = (training: boolean, updates: SymbolicTensor[]): CallContext => ({
    graph: g,
    training,
    variable: (v) => {
      const s = variables.get(v);
      if (!s) throw new KilnError('INTERNAL', `model: weight '${v.name}' has no graph variable`);
      return s;
    },
    addUpdate: (u) => {
      if (training) updates.push(u);
    },
  });
  const outputs = forward(g, topo, inputs, context(false, []));
  if (!compile) return { graph: g, inputs, outputs, variables, training: null };

  if (topo.outputs.length !== 1) {
    throw new KilnError('UNSUPPORTED', `compile: training needs a model with exactly one output, this one has ${topo.outputs.length}`);
  }
  const out = topo.outputs[0]!;
  const outLayer = out.origin.layer.name;
  const sparse = sparseTargets(compile.loss);
  if (sparse && out.shape.length < 2) {
    throw new KilnError(
      'SHAPE_MISMATCH',
      `compile: ${compile.lossId} needs an output of class scores [batch, classes], got '${outLayer}' of rank ${out.shape.length}`,
    );
  }
  const target = sparse ? g.placeholder('int32', out.shape.slice(0, -1), `${outLayer}_target`) : g.placeholder('float32', [...out.shape], `${outLayer}_target`);
  const sampleWeight = g.placeholder('float32', [null], 'sample_weight');

  const regularized = [...variables].filter(([w]) => w.regularizer !== null);
  const penalty = (): SymbolicTensor | null =>
    regularized.length === 0 ? null : g.nameScope('regularization', () => regularized.map(([w, v]) => w.regularizer!.apply(v)).reduce((a, b) => add(a, b)));
  const lossOf = (pred: SymbolicTensor): SymbolicTensor => {
    const data = mean(mul(LOSSES[compile.loss](target, pred), sampleWeight));
    const p = penalty();
    return p ? add(data, p) : data;
  };
  const metricsOf = (pred: SymbolicTensor): SymbolicTensor[] => compile.metrics.map((m) => g.nameScope(m.name, () => mean(METRICS[m.fn](target, pred))));

  const updates: SymbolicTensor[] = [];
  const [trainPred] = g.nameScope('training', () => forward(g, topo, inputs, context(true, updates)));
  const loss = g.nameScope('loss', () => lossOf(trainPred!));
  const metrics = g.nameScope('metrics', () => metricsOf(trainPred!));
  const evalLoss = g.nameScope('eval', () => g.nameScope('loss', () => lossOf(outputs[0]!)));
  const evalMetrics = g.nameScope('eval', () => g.nameScope('metrics', () => metricsOf(outputs[0]!)));

  const trainable = [...variables].filter(([w]) => w.trainable).map(([, v]) => v);
  if (trainable.length === 0) throw new KilnError('INVALID_ARGUMENT', 'compile: the model has no trainable weights');
  const lr = compile.optimizer.config.learningRate;
  const learningRate = g.variable(fillTensor([], typeof lr === 'number' ? lr : 0.001, 'float32'), 'learning_rate', { trainable: false });
  const optimizer = optimizerFromConfig(compile.optimizer, learningRate);
  const update = optimizer.minimize(loss, trainable);
  const step = updates.length ? g.nameScope('train_step', () => group(update, ...updates)) : update;
  return { graph: g, inputs, outputs, variables, training: { target, sampleWeight, step, loss, metrics, evalLoss, evalMetrics, optimizer, learningRate } };
}
