/**
 * Callbacks: the order fit calls the hooks in, early stopping (patience, restoreBestWeights),
 * the progress bar (plain lines when not a terminal, a redrawn bar with ETA on one), and the
 * TensorBoard callback: its event files parse back with every record's masked CRC-32C checked,
 * hold the 'brain.Event:2' header, the graph and one scalar per epoch equal to the history.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { Callback, KilnError, type LayersModel, type Logs, ProgbarLogger, Tensor, callbacks, layers, makeRandom, sequential } from 'kiln';
import { EventFileWriter, crc32c, maskedCrc32c, readEventFile, tfRecord } from '@kiln/keras-api';

function randomTensor(shape: number[], seed: number): Tensor {
  const r = makeRandom(seed);
  const t = new Tensor('float32', shape);
  for (let i = 0; i < t.size; i++) t.data[i] = r() * 2 - 1;
  return t;
}

const x = randomTensor([20, 4], 1);
const y = new Tensor(
  'float32',
  [20, 1],
  Float32Array.from({ length: 20 }, (_, i) => x.data[i * 4]! - 2 * x.data[i * 4 + 1]!),
);

function small(lr = 0.05): LayersModel {
  const m = sequential({ layers: [layers.dense({ units: 1, inputShape: [4], kernelInitializer: { className: 'GlorotUniform', config: { seed: 1 } } })] });
  m.compile({ optimizer: { className: 'SGD', config: { learningRate: lr } }, loss: 'mse', metrics: ['mae'], seed: 2 });
  return m;
}

describe('callbacks', () => {
  it('fire in order: trainBegin, (epochBegin, (batchBegin, batchEnd)*, epochEnd)*, trainEnd', async () => {
    const events: string[] = [];
    class Recorder extends Callback {
      async onTrainBegin() {
        events.push('trainBegin');
      }
      async onEpochBegin(e: number) {
        events.push(`epochBegin ${e}`);
      }
      async onBatchBegin(b: number, logs?: Logs) {
        events.push(`batchBegin ${b} size ${logs!.size}`);
      }
      async onBatchEnd(b: number, logs?: Logs) {
        events.push(`batchEnd ${b} ${Number.isFinite(logs!.loss) && Number.isFinite(logs!.mae) ? 'logs' : 'missing'}`);
      }
      async onEpochEnd(e: number, logs?: Logs) {
        events.push(`epochEnd ${e} ${Object.keys(logs!).sort().join(',')}`);
      }
      async onTrainEnd() {
        events.push('trainEnd');
      }
    }
    const order: string[] = [];
    await small().fit(x, y, {
      epochs: 2,
      batchSize: 8,
      verbose: 0,
      validationSplit: 0.2,
      callbacks: [new Recorder(), { onEpochEnd: async (e) => void order.push(`plain ${e}`) }],
    });
    const epoch = (e: number) => [
      `epochBegin ${e}`,
      'batchBegin 0 size 8',
      'batchEnd 0 logs',
      'batchBegin 1 size 8',
      'batchEnd 1 logs',
      `epochEnd ${e} loss,mae,val_loss,val_mae`,
    ];
    expect(events).toEqual(['trainBegin', ...epoch(0), ...epoch(1), 'trainEnd']);
    expect(order).toEqual(['plain 0', 'plain 1']);
  });

  it('earlyStopping stops after `patience` epochs without improvement and restores the best weights', async () => {
    const m = small();
    const weightsAt: Tensor[][] = [];
    // mode 'max' on a falling loss: epoch 0 stays the best, so training stops at epoch `patience`.
    const es = callbacks.earlyStopping({ monitor: 'loss', mode: 'max', patience: 2, restoreBestWeights: true });
    const h = await m.fit(x, y, { epochs: 10, batchSize: 5, verbose: 0, callbacks: [{ onEpochEnd: () => void weightsAt.push(m.getWeights()) }, es] });
    expect(h.history.loss).toHaveLength(3);
    expect(es.stoppedEpoch).toBe(2);
    expect(es.bestEpoch).toBe(0);
    m.getWeights().forEach((w, i) => expect(Array.from(w.data)).toEqual(Array.from(weightsAt[0]![i]!.data)));
    await expect(small().fit(x, y, { epochs: 1, verbose: 0, callbacks: [callbacks.earlyStopping({ monitor: 'val_acc' })] })).rejects.toThrow(KilnError);
  });

  it('learningRateScheduler sets the learning rate (a graph variable) before each epoch; SGD steps use it', async () => {
    const m = small(0.05);
    const seen: number[] = [];
    const sched = callbacks.learningRateScheduler((epoch, lr) => (epoch === 0 ? lr : lr / 2));
    await m.fit(x, y, { epochs: 3, batchSize: 20, verbose: 0, shuffle: false, callbacks: [sched, { onEpochEnd: () => void seen.push(m.learningRate) }] });
    expect(seen).toEqual([0.05, 0.025, 0.0125].map(Math.fround));
    // One full-batch SGD step moves the weights by exactly lr * gradient: compare lr 0.0125 with lr 0.025 from the same start.
    const start = m.getWeights();
    const delta = async (lr: number) => {
      m.setWeights(start);
      m.setLearningRate(lr);
      await m.fit(x, y, { epochs: 1, batchSize: 20, verbose: 0, shuffle: false });
      return m.getWeights()[0]!.data.map((v, i) => v - start[0]!.data[i]!);
    };
    const [d1, d2] = [await delta(0.0125), await delta(0.025)];
    d1.forEach((v, i) => expect(d2[i]!).toBeCloseTo(2 * v, 5));
  });

  it('the progress bar prints plain lines when not a terminal and a redrawn bar with ETA on one', async () => {
    const plain: string[] = [];
    const tty: string[] = [];
    const m = small();
    const run = (out: string[], isTTY: boolean) =>
      m.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0, callbacks: [new ProgbarLogger(1, { stream: { write: (s: string) => out.push(s), isTTY } })] });
    await run(plain, false);
    await run(tty, true);
    const lines = plain.join('').split('\n');
    expect(lines[0]).toBe('Epoch 1/2');
    expect(lines[1]).toMatch(/^5\/5 \[=+\] - \d+s \d+ms\/step - loss: \d+\.\d{4} - mae: \d+\.\d{4}$/);
    expect(lines[2]).toBe('Epoch 2/2');
    expect(plain.join('')).not.toContain('\r');
    const t = tty.join('');
    expect(t).toContain('\r');
    expect(t).toMatch(/\d\/5 \[[=>.]+\] - ETA: \d+s - loss: /);
  });
});

describe('TensorBoard event files', () => {
  it('crc32c and the TFRecord mask agree with known values', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    const c = 0xe3069283;
    expect(maskedCrc32c(new TextEncoder().encode('123456789'))).toBe((((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0);
    const rec = tfRecord(new Uint8Array([1, 2, 3]));
    expect(Array.from(rec.subarray(0, 8))).toEqual([3, 0, 0, 0, 0, 0, 0, 0]);
    expect(rec.length).toBe(8 + 4 + 3 + 4);
  });

  it('the tensorBoard callback writes train/ and validation/ event files that parse back with CRCs checked', async () => {
    const logdir = mkdtempSync(join(tmpdir(), 'kiln-tb-'));
    const tb = callbacks.tensorBoard(logdir);
    const h = await small().fit(x, y, { epochs: 3, batchSize: 8, verbose: 0, validationSplit: 0.25, callbacks: [tb] });
    expect(readdirSync(logdir).sort()).toEqual(['train', 'validation']);
    const [trainFile] = readdirSync(join(logdir, 'train')).map((f) => join(logdir, 'train', f));
    const train = readEventFile(trainFile!);
    expect(train[0]!.fileVersion).toBe('brain.Event:2');
    expect(train.some((e) => e.graphDef && e.graphDef.length > 0)).toBe(true);
    const series = (events: typeof train, tag: string) => events.flatMap((e) => e.scalars.filter((s) => s.tag === tag).map((s) => [e.step, s.value]));
    expect(series(train, 'epoch_loss')).toEqual(h.history.loss!.map((v, i) => [i, Math.fround(v)]));
    expect(series(train, 'epoch_mae')).toEqual(h.history.mae!.map((v, i) => [i, Math.fround(v)]));
    const [valFile] = readdirSync(join(logdir, 'validation')).map((f) => join(logdir, 'validation', f));
    expect(series(readEventFile(valFile!), 'epoch_loss')).toEqual(h.history.val_loss!.map((v, i) => [i, Math.fround(v)]));

    const bytes = readFileSync(trainFile!);
    const broken = Uint8Array.from(bytes, (v, i) => (i === bytes.length - 6 ? v ^ 1 : v));
    const brokenPath = join(logdir, 'broken');
    writeFileSync(brokenPath, broken);
    expect(() => readEventFile(brokenPath)).toThrow(/CRC mismatch/);
    writeFileSync(brokenPath, bytes.subarray(0, bytes.length - 3));
    expect(() => readEventFile(brokenPath)).toThrow(/truncated/);
  });

  it('EventFileWriter appends scalars readable one by one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-ev-'));
    const w = new EventFileWriter(dir);
    w.scalar('a', 1.5, 0);
    w.scalar('a', 0.25, 1);
    w.scalar('b', -3, 7);
    const ev = readEventFile(w.path);
    expect(ev.map((e) => [e.step, e.scalars])).toEqual([
      [0, []],
      [0, [{ tag: 'a', value: 1.5 }]],
      [1, [{ tag: 'a', value: 0.25 }]],
      [7, [{ tag: 'b', value: -3 }]],
    ]);
  });
});
