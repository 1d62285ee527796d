/**
 * Callbacks: hooks that fit() calls around training, each epoch and each batch, in this order:
 * onTrainBegin, then per epoch onEpochBegin, (onBatchBegin, onBatchEnd) per batch, onEpochEnd,
 * and last onTrainEnd. A hook may be async; fit awaits it. Logs hold plain numbers: batch logs
 * { batch, size, loss, <metrics> } (that batch's values), epoch logs { loss, <metrics>,
 * val_loss, val_<metrics> } (epoch means). Setting `model.stopTraining = true` ends fit after
 * the current batch. History records the epoch logs; fit returns it.
 */
import type { LayersModel } from '../engine/model.js';

export type Logs = Record<string, number>;

/** The training parameters callbacks see (as Keras' callback.params). */
export interface TrainingParams {
  epochs: number;
  initialEpoch: number;
  steps: number;
  samples: number;
  batchSize: number;
  verbose: number;
  metrics: string[];
}

export abstract class Callback {
  model: LayersModel | null = null;
  params: TrainingParams | null = null;
  setModel(model: LayersModel): void {
    this.model = model;
  }
  setParams(params: TrainingParams): void {
    this.params = params;
  }
  async onTrainBegin(_logs?: Logs): Promise<void> {}
  async onTrainEnd(_logs?: Logs): Promise<void> {}
  async onEpochBegin(_epoch: number, _logs?: Logs): Promise<void> {}
  async onEpochEnd(_epoch: number, _logs?: Logs): Promise<void> {}
  async onBatchBegin(_batch: number, _logs?: Logs): Promise<void> {}
  async onBatchEnd(_batch: number, _logs?: Logs): Promise<void> {}
}

/** Hooks given as plain functions (TensorFlow.js' CustomCallbackArgs). */
export interface CustomCallbackArgs {
  onTrainBegin?: (logs?: Logs) => void | Promise<void>;
  onTrainEnd?: (logs?: Logs) => void | Promise<void>;
  onEpochBegin?: (epoch: number, logs?: Logs) => void | Promise<void>;
  onEpochEnd?: (epoch: number, logs?: Logs) => void | Promise<void>;
  onBatchBegin?: (batch: number, logs?: Logs) => void | Promise<void>;
  onBatchEnd?: (batch: number, logs?: Logs) => void | Promise<void>;
}

/** A Callback from plain functions. */
export class CustomCallback extends Callback {
  constructor(private readonly fns: CustomCallbackArgs) {
    super();
  }
  async onTrainBegin(logs?: Logs): Promise<void> {
    await this.fns.onTrainBegin?.(logs);
  }
  async onTrainEnd(logs?: Logs): Promise<void> {
    await this.fns.onTrainEnd?.(logs);
  }
  async onEpochBegin(epoch: number, logs?: Logs): Promise<void> {
    await this.fns.onEpochBegin?.(epoch, logs);
  }
  async onEpochEnd(epoch: number, logs?: Logs): Promise<void> {
    await this.fns.onEpochEnd?.(epoch, logs);
  }
  async onBatchBegin(batch: number, logs?: Logs): Promise<void> {
    await this.fns.onBatchBegin?.(batch, logs);
  }
  async onBatchEnd(batch: number, logs?: Logs): Promise<void> {
    await this.fns.onBatchEnd?.(batch, logs);
  }
}

/** The per-epoch record of a fit: history.loss[i], history.val_loss[i], ... */
export class History extends Callback {
  readonly epoch: number[] = [];
  readonly history: Record<string, number[]> = {};
  async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
}

/** Calls every callback's hook in order. */
export class CallbackList {
  constructor(readonly callbacks: Callback[]) {}
  setModel(m: LayersModel): void {
    for (const c of this.callbacks) c.setModel(m);
  }
  setParams(p: TrainingParams): void {
    for (const c of this.callbacks) c.setParams(p);
  }
  async onTrainBegin(logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onTrainBegin({ ...logs });
  }
  async onTrainEnd(logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onTrainEnd({ ...logs });
  }
  async onEpochBegin(epoch: number, logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onEpochBegin(epoch, { ...logs });
  }
  async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onEpochEnd(epoch, { ...logs });
  }
  async onBatchBegin(batch: number, logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onBatchBegin(batch, { ...logs });
  }
  async onBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onBatchEnd(batch, { ...logs });
  }
}

/** Accepts Callback objects and plain hook objects alike. */
export function toCallback(c: Callback | CustomCallbackArgs): Callback {
  return c instanceof Callback ? c : new CustomCallback(c);
}
