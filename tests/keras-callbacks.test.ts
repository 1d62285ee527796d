/**
 * Callbacks: the order fit calls the hooks in, early stopping (patience, restoreBestWeights),
 * the progress bar (plain lines when not a terminal, a redrawn bar with ETA on one), and the
 * TensorBoard callback: its event files parse back with every record's masked CRC-32C checked,
 * hold the 'brain.Event:2' header, the graph and one scalar per epoch equal to the history;
 * read back by the `kiln plot` reader, the GraphDef (decoded with TensorFlow's field numbers)
 * names the graph's nodes, ops, inputs and shapes, and the weight histograms match the weights.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { Callback, KilnError, type LayersModel, type Logs, ProgbarLogger, Tensor, callbacks, layers, makeRandom, sequential } from 'kiln';
import { EventFileWriter, crc32c, maskedCrc32c, readEventFile, tfRecord } from '@kiln/keras-api';
import protobuf from 'protobufjs';
import { type SummaryValueMsg, readEvents } from '../packages/kiln/src/cli/event-file.js';

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

// ---- graph and histograms, read back by the `kiln plot` reader (independent of the writer) ----
// TensorFlow's GraphDef field numbers (graph.proto, node_def.proto, attr_value.proto,
// tensor_shape.proto), declared here so the graph is checked against TensorFlow's schema,
// not Kiln's own.
const TF_GRAPH = protobuf
  .parse(
    `syntax = "proto3";
  message Dim { int64 size = 1; string name = 2; }
  message TensorShapeProto { repeated Dim dim = 2; bool unknown_rank = 3; }
  message ListValue { repeated bytes s = 2; repeated int64 i = 3; repeated TensorShapeProto shape = 7; }
  message AttrValue { oneof value { ListValue list = 1; bytes s = 2; int64 i = 3; float f = 4; bool b = 5; int32 type = 6; TensorShapeProto shape = 7; } }
  message NodeDef { string name = 1; string op = 2; repeated string input = 3; string device = 4; map<string, AttrValue> attr = 5; }
  message GraphDef { repeated NodeDef node = 1; }`,
    { keepCase: true },
  )
  .root.lookupType('GraphDef');

interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { list?: { shape?: { dim?: { size: number }[] }[] } }>;
}

describe('TensorBoard graph and weight histograms', () => {
  it('writes the GraphDef (names, ops, inputs, _output_shapes) and per-epoch histograms equal to the weights', async () => {
    const logdir = mkdtempSync(join(tmpdir(), 'kiln-tbh-'));
    const m = small();
    await m.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0, callbacks: [callbacks.tensorBoard(logdir, { histogramFreq: 2 })] });
    const [file] = readdirSync(join(logdir, 'train')).map((f) => join(logdir, 'train', f));
    const events = readEvents(new Uint8Array(readFileSync(file!)), file!);

    const graphEvents = events.filter((e) => e.graph_def);
    expect(graphEvents).toHaveLength(1);
    const gd = TF_GRAPH.toObject(TF_GRAPH.decode(graphEvents[0]!.graph_def!), { longs: Number, defaults: false }) as { node: TfNode[] };
    const g = m.graph;
    expect(gd.node.map((n) => [n.name, n.op])).toEqual(g.nodes.map((n) => [n.name, n.op]));
    const byName = new Map(gd.node.map((n) => [n.name, n]));
    for (const n of g.nodes) {
      const tf = byName.get(n.name)!;
      expect({ node: n.name, input: tf.input ?? [] }).toEqual({
        node: n.name,
        input: n.inputs.map((i) => (i.index === 0 ? i.node.name : `${i.node.name}:${i.index}`)).concat(n.controlInputs.map((c) => `^${c.name}`)),
      });
      const shapes = (tf.attr?._output_shapes?.list?.shape ?? []).map((s) => (s.dim ?? []).map((d) => d.size));
      expect({ node: n.name, shapes }).toEqual({ node: n.name, shapes: n.outputs.map((o) => o.shape.map((d) => (d === null || d < 0 ? -1 : d))) });
    }
    expect(gd.node.length).toBeGreaterThan(10);

    // histogramFreq 2 over 3 epochs: epochs 0 and 2; epoch 2's equal the final weights.
    const histos = events.flatMap((e) => (e.summary?.value ?? []).filter((v) => v.histo).map((v) => ({ step: Number(e.step ?? 0), tag: v.tag!, h: v.histo! })));
    const names = m.weights.map((w) => w.name);
    expect(names).toEqual([expect.stringMatching(/^dense\w*\/kernel$/), expect.stringMatching(/^dense\w*\/bias$/)]);
    expect(histos.map((h) => [h.step, h.tag])).toEqual([0, 2].flatMap((s) => names.map((n) => [s, n])));
    const finals = m.getWeights();
    for (const [i, name] of names.entries()) {
      const h = histos.find((e) => e.step === 2 && e.tag === name)!.h as Required<NonNullable<SummaryValueMsg['histo']>> & { sum: number; sum_squares: number };
      const v = Array.from(finals[i]!.data as Float32Array);
      expect(h.num).toBe(v.length);
      expect(h.min).toBe(Math.min(...v));
      expect(h.max).toBe(Math.max(...v));
      expect(h.sum).toBeCloseTo(
        v.reduce((a, b) => a + b, 0),
        10,
      );
      expect(h.sum_squares).toBeCloseTo(
        v.reduce((a, b) => a + b * b, 0),
        10,
      );
      expect(h.bucket).toHaveLength(h.bucket_limit.length);
      expect(h.bucket.reduce((a, b) => a + b, 0)).toBe(v.length);
      // Each bucket counts the values in [previous limit, limit); the limits ascend.
      h.bucket_limit.forEach((limit, k) => {
        const lo = k === 0 ? -Infinity : h.bucket_limit[k - 1]!;
        expect(limit).toBeGreaterThan(lo);
        expect({ name, k, count: h.bucket[k] }).toEqual({ name, k, count: v.filter((a) => a >= lo && a < limit).length });
      });
      // TensorFlow's default edges: 1e-12 * 1.1^k (or their negatives), 0 or +-DBL_MAX.
      for (const limit of h.bucket_limit) {
        const a = Math.abs(limit);
        const k = Math.round(Math.log(a / 1e-12) / Math.log(1.1));
        expect(a === 0 || a === Number.MAX_VALUE || Math.abs(a / (1e-12 * 1.1 ** k) - 1) < 1e-9).toBe(true);
      }
    }
    // The bias starts at zero: the epoch-0 histogram of a one-element bias has one value.
    expect(histos.find((e) => e.step === 0 && e.tag === names[1])!.h.num).toBe(1);
  });

  it('histogramFreq must be an integer >= 0', () => {
    expect(() => callbacks.tensorBoard('/tmp/x', { histogramFreq: -1 })).toThrow(/histogramFreq must be an integer >= 0, got -1/);
    expect(() => callbacks.tensorBoard('/tmp/x', { histogramFreq: 1.5 })).toThrow(KilnError);
  });
});
