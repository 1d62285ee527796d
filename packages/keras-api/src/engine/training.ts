/**
 * The loops behind fit, evaluate and predict. Each batch is one `session.run` of a compiled
 * Program (training: the optimizer step plus loss and metrics; evaluation: the inference loss
 * and metrics; predict: the inference outputs). A ragged last batch runs a second Program
 * specialized to its size (the backend compiles once per batch shape). Epoch values are
 * means over examples, weighted by batch size, as Keras reports them.
 */
import type { Session } from '@kiln/compiler';
import { KilnError, type SymbolicTensor, Tensor } from '@kiln/graph';
import { Callback, CallbackList, type CustomCallbackArgs, History, type Logs, toCallback } from '../callbacks/callback.js';
import { ProgbarLogger } from '../callbacks/progbar.js';
import { checkInputs, checkTargets, classWeights, epochOrder, identityOrder, ones, sliceRows, takeRows } from './data.js';
import type { ModelGraph, ModelTopology, CompileConfig, TrainingPart } from './model-graph.js';
import { sparseTargets } from '../losses.js';
import type { LayersModel } from './model.js';

export interface ModelFitArgs {
  /** Examples per step (default 32). */
  batchSize?: number;
  /** Train until this epoch index (default 1). */
  epochs?: number;
  /** 0: silent, 1: progress bar (default), 2: one line per epoch. */
  verbose?: 0 | 1 | 2;
  callbacks?: (Callback | CustomCallbackArgs)[] | Callback | CustomCallbackArgs;
  /** Fraction of the examples (the last ones, before shuffling) held out for validation. */
  validationSplit?: number;
  validationData?: [Tensor | Tensor[], Tensor];
  /** Shuffle the training examples each epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffle (default: the model's seed); epoch e's order depends only on (seed, e). */
  seed?: number;
  /** Epoch to start at (resuming a fit). */
  initialEpoch?: number;
  /** Weight of each class in the loss ({ classId: weight }). */
  classWeight?: Record<number, number>;
  /** Batch size of the validation pass (default batchSize). */
  validationBatchSize?: number;
}

export interface ModelEvaluateArgs {
  batchSize?: number;
  verbose?: 0 | 1;
}

export interface ModelPredictArgs {
  batchSize?: number;
}

/** What the loops need from a model. */
export interface LoopModel {
  readonly topology: ModelTopology;
  readonly seed: number;
  stopTraining: boolean;
  trainingState(what: string): { mg: ModelGraph & { training: TrainingPart }; session: Session; config: CompileConfig };
  inferenceState(): { mg: ModelGraph; session: Session };
}

function checkBatchSize(what: string, b: unknown): number {
  if (!Number.isInteger(b) || (b as number) <= 0) throw new KilnError('INVALID_ARGUMENT', `${what}: batchSize must be a positive integer, got ${String(b)}`);
  return b as number;
}

function feedsOf(mg: ModelGraph, xs: Tensor[]): Record<string, Tensor> {
  return Object.fromEntries(mg.inputs.map((p, i) => [p.name, xs[i]!] as const));
}

function scalar(t: Tensor | null): number {
  return t!.data[0]!;
}

/** Mean loss and metrics over (xs, y) in batches, inference mode. */
async function evaluateBatches(model: LoopModel, xs: Tensor[], y: Tensor, batchSize: number): Promise<number[]> {
  const { mg, session } = model.trainingState('evaluate');
  const t = mg.training;
  const n = y.shape[0]!;
  const fetches: SymbolicTensor[] = [t.evalLoss, ...t.evalMetrics];
  const sums = new Array<number>(fetches.length).fill(0);
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    const feeds = feedsOf(
      mg,
      xs.map((x) => sliceRows(x, s, e)),
    );
    feeds[t.target.name] = sliceRows(y, s, e);
    feeds[t.sampleWeight.name] = ones(e - s);
    const out = await session.run(fetches, feeds);
    out.forEach((v, i) => (sums[i] = sums[i]! + scalar(v) * (e - s)));
  }
  return sums.map((v) => v / Math.max(n, 1));
}

export async function evaluateLoop(model: LoopModel, x: unknown, y: unknown, args: ModelEvaluateArgs = {}): Promise<number[]> {
  const { config } = model.trainingState('evaluate');
  const xs = checkInputs('evaluate', model.topology, x);
  const n = xs[0]!.shape[0]!;
  const yt = checkTargets('evaluate', model.topology, y, sparseTargets(config.loss), n);
  return evaluateBatches(model, xs, yt, checkBatchSize('evaluate', args.batchSize ?? 32));
}

export async function predictLoop(model: LoopModel, x: unknown, args: ModelPredictArgs = {}): Promise<Tensor[]> {
  const xs = checkInputs('predict', model.topology, x);
  const batchSize = checkBatchSize('predict', args.batchSize ?? 32);
  const { mg, session } = model.inferenceState();
  const n = xs[0]!.shape[0]!;
  const parts: Tensor[][] = mg.outputs.map(() => []);
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    const out = await session.run(
      mg.outputs,
      feedsOf(
        mg,
        xs.map((t) => (s === 0 && e === n ? t : sliceRows(t, s, e))),
      ),
    );
    out.forEach((t, i) => parts[i]!.push(t!));
  }
  return parts.map((ps, i) => {
    if (ps.length === 1) return ps[0]!;
    const shape = [n, ...(mg.outputs[i]!.shape.slice(1) as number[])];
    const out = new Tensor(ps[0]!.dtype, shape);
    let off = 0;
    for (const p of ps) {
      out.data.set(p.data, off);
      off += p.data.length;
    }
    return out;
  });
}

export async function fitLoop(model: LayersModel, x: unknown, y: unknown, args: ModelFitArgs = {}): Promise<History> {
  const { mg, session, config } = model.trainingState('fit');
  const t = mg.training;
  const sparse = sparseTargets(config.loss);
  let xs = checkInputs('fit', model.topology, x);
  let n = xs[0]!.shape[0]!;
  let yt = checkTargets('fit', model.topology, y, sparse, n);
  const batchSize = checkBatchSize('fit', args.batchSize ?? 32);
  const epochs = args.epochs ?? 1;
  const initialEpoch = args.initialEpoch ?? 0;
  if (!Number.isInteger(epochs) || epochs < 0) throw new KilnError('INVALID_ARGUMENT', `fit: epochs must be an integer >= 0, got ${String(epochs)}`);
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0)
    throw new KilnError('INVALID_ARGUMENT', `fit: initialEpoch must be an integer >= 0, got ${String(initialEpoch)}`);

  let val: { xs: Tensor[]; y: Tensor } | null = null;
  if (args.validationData) {
    if (!Array.isArray(args.validationData) || args.validationData.length !== 2) {
      throw new KilnError('INVALID_ARGUMENT', 'fit: validationData must be [x, y]');
    }
    const vx = checkInputs('fit (validationData)', model.topology, args.validationData[0]);
    val = { xs: vx, y: checkTargets('fit (validationData)', model.topology, args.validationData[1], sparse, vx[0]!.shape[0]!) };
  } else if (args.validationSplit !== undefined && args.validationSplit > 0) {
    const f = args.validationSplit;
    if (!(f < 1)) throw new KilnError('INVALID_ARGUMENT', `fit: validationSplit must be in [0, 1), got ${f}`);
    const split = Math.floor(n * (1 - f));
    if (split === 0 || split === n)
      throw new KilnError('INVALID_ARGUMENT', `fit: validationSplit ${f} of ${n} examples leaves an empty training or validation set`);
    val = { xs: xs.map((v) => sliceRows(v, split, n)), y: sliceRows(yt, split, n) };
    xs = xs.map((v) => sliceRows(v, 0, split));
    yt = sliceRows(yt, 0, split);
    n = split;
  }
  const weights = args.classWeight ? classWeights(yt, args.classWeight, sparse) : ones(n);
  const steps = Math.ceil(n / batchSize);
  const metricNames = config.metrics.map((m) => m.name);
  const history = new History();
  const verbose = args.verbose ?? 1;
  const user = args.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks];
  const list = new CallbackList([history, ...(verbose > 0 ? [new ProgbarLogger(verbose)] : []), ...user.map(toCallback)]);
  list.setModel(model);
  list.setParams({ epochs, initialEpoch, steps, samples: n, batchSize, verbose, metrics: ['loss', ...metricNames] });

  const fetches: SymbolicTensor[] = [t.step, t.loss, ...t.metrics];
  const seed = args.seed ?? model.seed;
  model.stopTraining = false;
  await list.onTrainBegin();
  for (let epoch = initialEpoch; epoch < epochs && !model.stopTraining; epoch++) {
    await list.onEpochBegin(epoch);
    const order = args.shuffle === false ? identityOrder(n) : epochOrder(n, seed, epoch);
    const sums = new Array<number>(fetches.length - 1).fill(0);
    let seen = 0;
    for (let b = 0; b < steps; b++) {
      const s = b * batchSize;
      const e = Math.min(n, s + batchSize);
      await list.onBatchBegin(b, { batch: b, size: e - s });
      const feeds = feedsOf(
        mg,
        xs.map((v) => takeRows(v, order, s, e)),
      );
      feeds[t.target.name] = takeRows(yt, order, s, e);
      feeds[t.sampleWeight.name] = takeRows(weights, order, s, e);
      const out = await session.run(fetches, feeds);
      const logs: Logs = { batch: b, size: e - s };
      out.slice(1).forEach((v, i) => {
        const value = scalar(v);
        sums[i] = sums[i]! + value * (e - s);
        logs[i === 0 ? 'loss' : metricNames[i - 1]!] = value;
      });
      seen += e - s;
      await list.onBatchEnd(b, logs);
      if (model.stopTraining) break;
    }
    const epochLogs: Logs = {};
    sums.forEach((v, i) => (epochLogs[i === 0 ? 'loss' : metricNames[i - 1]!] = v / Math.max(seen, 1)));
    if (val) {
      const vs = await evaluateBatches(model, val.xs, val.y, args.validationBatchSize ?? batchSize);
      vs.forEach((v, i) => (epochLogs[i === 0 ? 'val_loss' : `val_${metricNames[i - 1]}`] = v));
    }
    await list.onEpochEnd(epoch, epochLogs);
  }
  await list.onTrainEnd();
  return history;
}
