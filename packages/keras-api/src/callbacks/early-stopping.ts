/**
 * earlyStopping: stops fit when the monitored value ('val_loss' by default) has not improved
 * by more than minDelta for `patience` epochs; with restoreBestWeights the model ends with the
 * weights of its best epoch (as Keras: restored when training stops early, or at the end if
 * the last epoch was not the best).
 */
import { KilnError, type Tensor } from '@kiln/graph';
import { Callback, type Logs } from './callback.js';

export interface EarlyStoppingArgs {
  monitor?: string;
  minDelta?: number;
  patience?: number;
  mode?: 'auto' | 'min' | 'max';
  baseline?: number;
  restoreBestWeights?: boolean;
  verbose?: number;
}

export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly restoreBestWeights: boolean;
  private readonly sign: 1 | -1;
  private readonly baseline: number | undefined;
  private readonly verbose: number;
  private wait = 0;
  private best = Infinity;
  private bestWeights: Tensor[] | null = null;
  /** The epoch at which training stopped (0 when it did not stop early). */
  stoppedEpoch = 0;
  /** The epoch with the best monitored value. */
  bestEpoch = -1;

  constructor(args: EarlyStoppingArgs = {}) {
    super();
    this.monitor = args.monitor ?? 'val_loss';
    this.minDelta = Math.abs(args.minDelta ?? 0);
    this.patience = args.patience ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0)
      throw new KilnError('INVALID_ARGUMENT', `earlyStopping: patience must be an integer >= 0, got ${String(args.patience)}`);
    const mode = args.mode ?? 'auto';
    if (mode !== 'auto' && mode !== 'min' && mode !== 'max')
      throw new KilnError('INVALID_ARGUMENT', `earlyStopping: mode must be 'auto', 'min' or 'max', got '${String(mode)}'`);
    const max = mode === 'max' || (mode === 'auto' && /acc|auc|precision|recall/.test(this.monitor));
    this.sign = max ? -1 : 1;
    this.baseline = args.baseline;
    this.restoreBestWeights = args.restoreBestWeights ?? false;
    this.verbose = args.verbose ?? 0;
  }

  async onTrainBegin(): Promise<void> {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.bestEpoch = -1;
    this.bestWeights = null;
    this.best = this.baseline !== undefined ? this.sign * this.baseline : Infinity;
  }

  async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    const v = logs[this.monitor];
    if (v === undefined) {
      throw new KilnError('INVALID_ARGUMENT', `earlyStopping: monitor '${this.monitor}' is not in the epoch logs (available: ${Object.keys(logs).join(', ')})`);
    }
    const score = this.sign * v;
    this.wait++;
    if (score < this.best - this.minDelta) {
      this.best = score;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.restoreBestWeights) this.bestWeights = this.model!.getWeights();
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.model!.stopTraining = true;
    }
  }

  async onTrainEnd(): Promise<void> {
    if (this.restoreBestWeights && this.bestWeights && this.bestEpoch >= 0) this.model!.setWeights(this.bestWeights);
    if (this.stoppedEpoch > 0 && this.verbose > 0) console.log(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
  }
}
