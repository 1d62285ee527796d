/**
 * tensorBoard(logdir): writes TensorBoard event files while fit runs, as Keras' TensorBoard
 * callback lays them out: <logdir>/train and <logdir>/validation, scalars 'epoch_loss',
 * 'epoch_<metric>' per epoch (validation values under the same tags in validation/), with
 * updateFreq 'batch' also 'batch_loss', 'batch_<metric>' per step; with writeGraph (default)
 * the model's graph as a TensorFlow GraphDef (op names, inputs, `_output_shapes`) for the
 * graph tab; with histogramFreq N > 0, every N epochs a histogram of every weight, tagged
 * with the weight's name ('<layer>/<weight>', e.g. 'dense_1/kernel') in train/.
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
  /** Write weight histograms every this many epochs; 0 (default) writes none. */
  histogramFreq?: number;
}

export class TensorBoard extends Callback {
  private train: EventFileWriter | null = null;
  private validation: EventFileWriter | null = null;
  private step = 0;
  readonly updateFreq: 'epoch' | 'batch';
  readonly writeGraph: boolean;
  readonly histogramFreq: number;

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
    this.histogramFreq = args.histogramFreq ?? 0;
    if (!Number.isInteger(this.histogramFreq) || this.histogramFreq < 0) {
      throw new KilnError('INVALID_ARGUMENT', `tensorBoard: histogramFreq must be an integer >= 0, got ${String(args.histogramFreq)}`);
    }
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
    if (this.histogramFreq > 0 && epoch % this.histogramFreq === 0 && this.model) {
      const values = this.model.getWeights();
      this.model.weights.forEach((w, i) => this.train!.histogram(w.name, values[i]!.data, epoch));
    }
  }
}
