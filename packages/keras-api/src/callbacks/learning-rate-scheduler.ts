/**
 * learningRateScheduler(schedule): before each epoch sets the model's learning rate to
 * schedule(epoch, currentRate), as Keras' LearningRateScheduler. The rate is a variable of
 * the model graph, so changing it needs no recompile and a saved model keeps it.
 */
import { KilnError } from '@kiln/graph';
import { Callback } from './callback.js';

export class LearningRateScheduler extends Callback {
  constructor(private readonly schedule: (epoch: number, lr: number) => number) {
    super();
    if (typeof schedule !== 'function') throw new KilnError('INVALID_ARGUMENT', 'learningRateScheduler: expects a function (epoch, lr) => lr');
  }
  async onEpochBegin(epoch: number): Promise<void> {
    const m = this.model!;
    m.setLearningRate(this.schedule(epoch, m.learningRate));
  }
}
