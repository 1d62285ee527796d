/** `callbacks`: earlyStopping, tensorBoard, learningRateScheduler, progbar, and plain-function callbacks. */
import { type CustomCallbackArgs, CustomCallback } from './callback.js';
import { EarlyStopping, type EarlyStoppingArgs } from './early-stopping.js';
import { LearningRateScheduler } from './learning-rate-scheduler.js';
import { ProgbarLogger } from './progbar.js';
import { TensorBoard, type TensorBoardArgs } from './tensorboard.js';

export { EarlyStopping, type EarlyStoppingArgs } from './early-stopping.js';
export { TensorBoard, type TensorBoardArgs } from './tensorboard.js';
export { LearningRateScheduler } from './learning-rate-scheduler.js';

export const callbacks = {
  earlyStopping: (args: EarlyStoppingArgs = {}) => new EarlyStopping(args),
  tensorBoard: (logdir: string, args: TensorBoardArgs = {}) => new TensorBoard(logdir, args),
  learningRateScheduler: (schedule: (epoch: number, lr: number) => number) => new LearningRateScheduler(schedule),
  progbar: (verbose: 1 | 2 = 1) => new ProgbarLogger(verbose),
  custom: (fns: CustomCallbackArgs) => new CustomCallback(fns),
};
