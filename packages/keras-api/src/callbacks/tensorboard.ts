/**
 * tensorBoard(logdir): writes TensorBoard event files while fit runs, as Keras' TensorBoard
 * callback lays them out: <logdir>/train and <logdir>/validation, scalars 'epoch_loss',
 * 'epoch_<metric>' per epoch (validation values under the same tags in validation/), with
 * updateFreq 'batch' also 'batch_loss', 'batch_<metric>' per step, and the model's graph.
 */
import { join } from 'node:path';
import { KilnError, serializeGraphDef } from '@kiln/graph';
import { EventFileWriter } from '../tensorboard/event-writer.js';
import { Callback, type Logs } from './callback.js';

export interface TensorBoardArgs {
  /** 'epoch' (default) or 'batch'. */
  updateFreq?: 'epoch' | 'batch';
  /** Also write the model graph (default true). */
  writeGraph?: boolean;
}

export class TensorBoard extends Callback {
  private train: EventFileWriter | null = null;
  private validation: EventFileWriter | null = null;
  private step = 0;
  readonly updateFreq: 'epoch' | 'batch';
  readonly writeGraph: boolean;

  constructor(
    readonly logdir: string,
    args: TensorBoardArgs = {},
  ) {
    super();
    if (typeof logdir !== 'string' || logdir === '')
      throw new KilnError('INVALID_ARGUMENT', `tensorBoard: logdir must be a non-empty string, got ${JSON.stringify(logdir)}`);
    this.updateFreq = args.updateFreq ?? 'epoch';
    if (this.updateFreq !== 'epoch' && this.updateFreq !== 'batch')
      throw new KilnError('INVALID_ARGUMENT', `tensorBoard: updateFreq must be 'epoch' or 'batch', got '${String(this.updateFreq)}'`);
    this.writeGraph = args.writeGraph ?? true;
  }

  /** The event files written so far. */
  get files(): string[] {
    return [this.train?.path, this.validation?.path].filter((p): p is string => p !== undefined);
  }

  async onTrainBegin(): Promise<void> {
    this.train ??= new EventFileWriter(join(this.logdir, 'train'));
    if (this.writeGraph && this.model) this.train.graph(serializeGraphDef(this.model.graph));
  }

  async onBatchEnd(_batch: number, logs: Logs = {}): Promise<void> {
    this.step++;
    if (this.updateFreq !== 'batch') return;
    for (const [k, v] of Object.entries(logs)) if (k !== 'batch' && k !== 'size') this.train!.scalar(`batch_${k}`, v, this.step);
  }

  async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    for (const [k, v] of Object.entries(logs)) {
      if (k.startsWith('val_')) {
        this.validation ??= new EventFileWriter(join(this.logdir, 'validation'));
        this.validation.scalar(`epoch_${k.slice(4)}`, v, epoch);
      } else {
        this.train!.scalar(`epoch_${k}`, v, epoch);
      }
    }
  }
}
