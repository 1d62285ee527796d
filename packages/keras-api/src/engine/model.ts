/**
 * LayersModel: a model over the layer graph (Keras' functional Model), with compile, fit,
 * evaluate, predict, weights, summary and save. `model({ inputs, outputs })` and `input()`
 * make one; Sequential (sequential.ts) is a LayersModel built by appending layers.
 *
 * The model owns one Graph (model-graph.ts) and one Session. compile() builds the graph with
 * the training part and keeps the current weight values; before compile, an inference-only
 * graph serves predict. `model.graph` is that graph, so printGraph(model.graph) and
 * `model.compiledProgram('train', 32).stats` are one call away.
 */
import { type Program, type Session, compile as compileProgram } from '@kiln/compiler';
import { type Graph, KilnError, type Tensor, fillTensor, fmtShape } from '@kiln/graph';
import { referenceConstantEvaluator } from '@kiln/runtime-cpu';
import type { History } from '../callbacks/callback.js';
import { resolveLoss } from '../losses.js';
import { resolveMetric } from '../metrics.js';
import { type OptimizerIdentifier, resolveOptimizer } from '../optimizers.js';
import { type BackendName, checkBackendName, modelSession } from './backend.js';
import { KerasTensor, type LayerShape } from './keras-tensor.js';
import type { Layer, LayerVariable } from './layer.js';
import { type CompileConfig, type ModelGraph, type ModelTopology, type TrainingPart, buildModelGraph } from './model-graph.js';
import { type ModelEvaluateArgs, type ModelFitArgs, type ModelPredictArgs, evaluateLoop, fitLoop, predictLoop } from './training.js';
import { InputLayer } from '../layers/core.js';
import { type SummaryOptions, modelSummary } from './summary.js';

export interface ModelCompileArgs {
  optimizer: OptimizerIdentifier;
  loss: string;
  metrics?: string[];
  /** Where training and inference run (default 'cpu'). */
  backend?: BackendName;
  /** Seed of the dropout streams and of fit's shuffle (default: drawn at random). */
  seed?: number;
}

const modelCounters = new Map<string, number>();
export function autoModelName(base: string): string {
  const k = modelCounters.get(base);
  modelCounters.set(base, (k ?? -1) + 1);
  return k === undefined ? base : `${base}_${k + 1}`;
}

/** The tensors between `inputs` and `outputs` in topological order; fails when an output does not depend on the inputs only. */
export function topologyOf(inputs: KerasTensor[], outputs: KerasTensor[]): ModelTopology {
  const seen = new Set<KerasTensor>();
  const stack = [...outputs];
  const inputSet = new Set(inputs);
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (inputSet.has(t)) continue;
    if (t.origin.layer instanceof InputLayer) {
      throw new KilnError('INVALID_ARGUMENT', `model: graph disconnected: an output depends on input '${t.name}', which is not among the model's inputs`);
    }
    stack.push(...t.origin.inputs);
  }
  const tensors = [...seen].sort((a, b) => a.id - b.id);
  const layers: Layer[] = [];
  for (const t of tensors) if (!layers.includes(t.origin.layer)) layers.push(t.origin.layer);
  const names = new Set<string>();
  for (const l of layers) {
    if (names.has(l.name)) throw new KilnError('INVALID_ARGUMENT', `model: two layers are named '${l.name}'; layer names must be unique in a model`);
    names.add(l.name);
  }
  return { inputs, outputs, tensors, layers };
}

interface State {
  mg: ModelGraph;
  session: Session;
}

export class LayersModel {
  readonly className: string = 'Model';
  readonly name: string;
  /** Set by a callback to end fit after the current batch. */
  stopTraining = false;
  protected inputsList: KerasTensor[];
  protected outputsList: KerasTensor[];
  private topo: ModelTopology | null = null;
  private compileConfig: CompileConfig | null = null;
  private backendName: BackendName = 'cpu';
  private seedValue: number = Math.floor(Math.random() * 2 ** 31);
  private state: State | null = null;

  constructor(args: { inputs: KerasTensor | KerasTensor[]; outputs: KerasTensor | KerasTensor[]; name?: string }) {
    this.name = args.name ?? autoModelName(this.defaultName());
    this.inputsList = Array.isArray(args.inputs) ? [...args.inputs] : [args.inputs];
    this.outputsList = Array.isArray(args.outputs) ? [...args.outputs] : [args.outputs];
    for (const t of [...this.inputsList, ...this.outputsList]) {
      if (!(t instanceof KerasTensor))
        throw new KilnError('INVALID_ARGUMENT', `model: inputs and outputs must be KerasTensors (from input() and layer.apply()), got ${typeof t}`);
    }
    if (this.inputsList.length > 0) this.topology;
  }

  protected defaultName(): string {
    return 'model';
  }

  get inputs(): KerasTensor[] {
    return [...this.inputsList];
  }
  get outputs(): KerasTensor[] {
    return [...this.outputsList];
  }

  /** The layer graph in topological order. */
  get topology(): ModelTopology {
    if (this.inputsList.length === 0) throw new KilnError('INVALID_ARGUMENT', `${this.className} '${this.name}': the model has no layers yet`);
    this.topo ??= topologyOf(this.inputsList, this.outputsList);
    return this.topo;
  }

  /** The model's layers in order (input layers included for functional models). */
  get layers(): Layer[] {
    return [...this.topology.layers];
  }

  /** Every weight of every layer, in layer order. */
  get weights(): LayerVariable[] {
    return this.topology.layers.flatMap((l) => l.weights);
  }
  get trainableWeights(): LayerVariable[] {
    return this.weights.filter((w) => w.trainable);
  }

  get seed(): number {
    return this.seedValue;
  }
  get backend(): BackendName {
    return this.backendName;
  }
  get isCompiled(): boolean {
    return this.compileConfig !== null;
  }
  /** The compile settings (loss, metrics, optimizer config), or null before compile. */
  get compileSettings(): CompileConfig | null {
    return this.compileConfig;
  }

  layer(name: string): Layer {
    const l = this.topology.layers.find((x) => x.name === name);
    if (!l) throw new KilnError('INVALID_ARGUMENT', `${this.className} '${this.name}': no layer named '${name}'`);
    return l;
  }

  /** Fixes the loss, metrics and optimizer; builds the training graph (the weights keep their values). */
  compile(args: ModelCompileArgs): void {
    if (typeof args !== 'object' || args === null) throw new KilnError('INVALID_ARGUMENT', 'compile: expects { optimizer, loss, metrics? }');
    const loss = resolveLoss(args.loss);
    const metrics = (args.metrics ?? []).map((m) => ({ name: String(m), fn: resolveMetric(m, loss) }));
    const optimizer = resolveOptimizer(args.optimizer);
    const backend = checkBackendName(args.backend ?? 'cpu');
    if (args.seed !== undefined && !Number.isSafeInteger(args.seed))
      throw new KilnError('INVALID_ARGUMENT', `compile: seed must be an integer, got ${String(args.seed)}`);
    const next: CompileConfig = { loss, lossId: String(args.loss), metrics, optimizer };
    this.release();
    this.compileConfig = next;
    this.backendName = backend;
    if (args.seed !== undefined) this.seedValue = args.seed;
    try {
      this.ensureState();
    } catch (e) {
      this.compileConfig = null;
      throw e;
    }
  }

  /** The model's Graph: training, evaluation and inference parts once compiled, inference only before. */
  get graph(): Graph {
    return this.ensureState().mg.graph;
  }
  /** The Session running the graph (it holds the live weights and optimizer state). */
  get session(): Session {
    return this.ensureState().session;
  }
  /** Placeholders, outputs, loss, metrics and step target of the graph. */
  get modelGraph(): ModelGraph {
    return this.ensureState().mg;
  }

  /**
   * The compiled Program of the training step ('train': step, loss, metrics) or of inference
   * ('predict'), specialized to `batchSize`: its stats (graph nodes, kernels, arena bytes) and dump.
   */
  compiledProgram(kind: 'train' | 'predict', batchSize = 32): Program {
    const { mg } = kind === 'train' ? this.trainingState('compiledProgram') : this.inferenceState();
    const t = mg.training;
    const fetches = kind === 'train' ? [t!.step, t!.loss, ...t!.metrics] : mg.outputs;
    const feeds = kind === 'train' ? [...mg.inputs, t!.target, t!.sampleWeight] : mg.inputs;
    const feedShapes = Object.fromEntries(feeds.map((f) => [f.name, f.shape.map((d) => d ?? batchSize)] as const));
    return compileProgram(mg.graph, { fetches, feeds }, { feedShapes, constantEvaluator: referenceConstantEvaluator });
  }

  /** @internal the compiled graph and session (fit, evaluate, save). */
  trainingState(what: string): { mg: ModelGraph & { training: TrainingPart }; session: Session; config: CompileConfig } {
    if (!this.compileConfig) throw new KilnError('INVALID_ARGUMENT', `${what}: compile the model first (model.compile({ optimizer, loss }))`);
    const s = this.ensureState();
    return { mg: s.mg as ModelGraph & { training: TrainingPart }, session: s.session, config: this.compileConfig };
  }

  /** @internal */
  inferenceState(): State {
    return this.ensureState();
  }

  async fit(x: Tensor | Tensor[], y: Tensor, args: ModelFitArgs = {}): Promise<History> {
    return fitLoop(this, x, y, args);
  }

  /** [loss, ...metrics] over (x, y), inference mode. */
  async evaluate(x: Tensor | Tensor[], y: Tensor, args: ModelEvaluateArgs = {}): Promise<number[]> {
    return evaluateLoop(this, x, y, args);
  }

  /** The outputs for x (inference mode); one Tensor, or one per output for several outputs. */
  async predict(x: Tensor | Tensor[], args: ModelPredictArgs = {}): Promise<Tensor> {
    const outs = await predictLoop(this, x, args);
    return (outs.length === 1 ? outs[0] : outs) as Tensor;
  }

  /** The optimizer's current learning rate. */
  get learningRate(): number {
    const { mg, session } = this.trainingState('learningRate');
    return session.getVariable(mg.training.learningRate).data[0]!;
  }

  /** Sets the learning rate used by the following training steps (schedules call this). */
  setLearningRate(value: number): void {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new KilnError('INVALID_ARGUMENT', `setLearningRate: the learning rate must be a finite number > 0, got ${String(value)}`);
    }
    const { mg, session } = this.trainingState('setLearningRate');
    session.setVariable(mg.training.learningRate, fillTensor([], value, 'float32'));
  }

  /** Current values of every weight (copies), in `weights` order. */
  getWeights(): Tensor[] {
    if (!this.state) return this.weights.map((w) => w.value.clone());
    const { mg, session } = this.state;
    return this.weights.map((w) => session.getVariable(mg.variables.get(w)!));
  }

  /** Sets every weight, in `weights` order (shapes must match). */
  setWeights(values: Tensor[]): void {
    const ws = this.weights;
    if (!Array.isArray(values) || values.length !== ws.length) {
      throw new KilnError('INVALID_ARGUMENT', `setWeights: the model has ${ws.length} weights, got ${Array.isArray(values) ? values.length : typeof values}`);
    }
    ws.forEach((w, i) => {
      const v = values[i]!;
      if (v.shape.length !== w.shape.length || v.shape.some((d, j) => d !== w.shape[j])) {
        throw new KilnError('SHAPE_MISMATCH', `setWeights: weight '${w.name}' has shape ${fmtShape(w.shape)}, got ${fmtShape(v.shape)}`);
      }
    });
    ws.forEach((w, i) => (w.value = values[i]!.clone()));
    if (this.state) {
      const { mg, session } = this.state;
      session.setVariables(ws.map((w) => [mg.variables.get(w)!, w.value] as const));
    }
  }

  countParams(): number {
    return this.weights.reduce((n, w) => n + w.value.size, 0);
  }

  /** Prints the layer table (layer, output shape, params) and the totals. */
  summary(lineLength?: number, positions?: number[], printFn: (line: string) => void = console.log): void {
    const opts: SummaryOptions = { lineLength, positions, printFn };
    modelSummary(this, opts);
  }

  /** Writes the model (architecture, weights, optimizer state, training config) to one protobuf file. */
  async save(path: string): Promise<void> {
    const { saveModel } = await import('../save/model-file.js');
    await saveModel(this, path);
  }

  /** Frees the session. */
  dispose(): void {
    this.release();
  }

  /** Drops the graph and session, keeping the current weight values in the layers. */
  protected release(): void {
    if (!this.state) return;
    const { mg, session } = this.state;
    if (!session.isDisposed) for (const [w, v] of mg.variables) w.value = session.getVariable(v);
    session.dispose();
    this.state = null;
  }

  /** Called when the layer graph changed (Sequential.add). */
  protected invalidate(): void {
    this.release();
    this.topo = null;
  }

  private ensureState(): State {
    if (!this.state) {
      const mg = buildModelGraph(this.topology, this.compileConfig);
      this.state = { mg, session: modelSession(mg.graph, this.backendName, this.seedValue) };
    }
    return this.state;
  }

  toString(): string {
    return `${this.className}('${this.name}')`;
  }
}

/** A symbolic model input: `input({ shape: [28, 28, 1] })` (the batch dim is added). */
export function input(args: { shape?: number[]; batchShape?: (number | null)[]; name?: string; dtype?: 'float32' | 'int32' }): KerasTensor {
  const batchInputShape: LayerShape | undefined = args.batchShape ?? (args.shape ? [null, ...args.shape] : undefined);
  if (!batchInputShape) throw new KilnError('INVALID_ARGUMENT', 'input: give shape (without the batch dim) or batchShape');
  const layer = new InputLayer({ name: args.name ?? undefined, batchInputShape, dtype: args.dtype });
  return inputTensorOf(layer);
}

/** The KerasTensor an InputLayer produces. */
export function inputTensorOf(layer: InputLayer): KerasTensor {
  const node = { layer, inputs: [], index: layer.nodes.length };
  layer.nodes.push(node);
  layer.built = true;
  layer.outputShape = [...layer.batchInputShape!];
  return new KerasTensor([...layer.batchInputShape!], layer.dtype, node);
}

/** The functional API: a model from its input and output KerasTensors. */
export function model(args: { inputs: KerasTensor | KerasTensor[]; outputs: KerasTensor | KerasTensor[]; name?: string }): LayersModel {
  return new LayersModel(args);
}
