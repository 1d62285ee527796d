/**
 * Keras models end to end: the seed's example (fit reduces the loss), the functional API,
 * validationSplit / validationData, a ragged last batch, classWeight, seeded shuffling,
 * regularizers in the loss, shape errors naming the layer, summary, and the exposed graph
 * (printGraph and the compiled program's stats one call away). Oracles: hand-computed losses
 * and the reference backend.
 */
import { describe, expect, it } from '@jest/globals';
import { KilnError, type LayersModel, Tensor, input, layers, makeRandom, model, printGraph, regularizers, sequential, tensor } from 'kiln';
import { summaryLines } from '@kiln/keras-api';

function randomTensor(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  const r = makeRandom(seed);
  const t = new Tensor('float32', shape);
  for (let i = 0; i < t.size; i++) t.data[i] = lo + (hi - lo) * r();
  return t;
}

function regressionData(n: number, seed: number): { x: Tensor; y: Tensor } {
  const x = randomTensor([n, 8], seed);
  const y = new Tensor('float32', [n, 1]);
  for (let i = 0; i < n; i++) for (let j = 0; j < 8; j++) y.data[i] = y.data[i]! + x.data[i * 8 + j]! * (j - 3.5) * 0.3;
  return { x, y };
}

function seedModel(seed = 1, units = 10): LayersModel {
  return sequential({
    layers: [
      layers.dense({ units, activation: 'relu', inputShape: [8], kernelInitializer: { className: 'GlorotUniform', config: { seed } } }),
      layers.dense({ units: 1, kernelInitializer: { className: 'GlorotUniform', config: { seed: seed + 1 } } }),
    ],
  });
}

describe('Keras models', () => {
  it("the seed's example: fit reduces the loss; evaluate returns [loss, mae] matching a hand computation", async () => {
    const { x, y } = regressionData(128, 1);
    const m = seedModel();
    m.compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae'], seed: 1 });
    const before = await m.evaluate(x, y);
    const h = await m.fit(x, y, { epochs: 10, batchSize: 4, verbose: 0 });
    expect(h.history.loss).toHaveLength(10);
    expect(h.history.mae).toHaveLength(10);
    expect(h.history.loss![9]!).toBeLessThan(0.5 * h.history.loss![0]!);
    const after = await m.evaluate(x, y);
    expect(after[0]!).toBeLessThan(0.5 * before[0]!);
    const p = await m.predict(x);
    let mse = 0;
    let mae = 0;
    for (let i = 0; i < 128; i++) {
      mse += (p.data[i]! - y.data[i]!) ** 2 / 128;
      mae += Math.abs(p.data[i]! - y.data[i]!) / 128;
    }
    expect(after[0]!).toBeCloseTo(mse, 5);
    expect(after[1]!).toBeCloseTo(mae, 5);
  });

  it('runs the same on the reference backend (the oracle) as on the compiled CPU backend', async () => {
    const { x, y } = regressionData(40, 2);
    const losses: number[][] = [];
    for (const backend of ['cpu', 'reference'] as const) {
      const m = seedModel(3);
      m.compile({ optimizer: 'sgd', loss: 'mse', backend, seed: 2 });
      losses.push((await m.fit(x, y, { epochs: 3, batchSize: 16, verbose: 0 })).history.loss!);
    }
    losses[0]!.forEach((v, i) => expect(Math.abs(v - losses[1]![i]!)).toBeLessThan(1e-4 * Math.abs(v) + 1e-6));
  });

  it('a ragged last batch: the epoch loss is the example-weighted mean of the batch losses', async () => {
    const { x, y } = regressionData(37, 3);
    const m = seedModel(5);
    m.compile({ optimizer: 'sgd', loss: 'mse', seed: 3 });
    const batches: { size: number; loss: number }[] = [];
    const h = await m.fit(x, y, {
      epochs: 1,
      batchSize: 16,
      verbose: 0,
      shuffle: false,
      callbacks: { onBatchEnd: (_b, logs) => void batches.push({ size: logs!.size!, loss: logs!.loss! }) },
    });
    expect(batches.map((b) => b.size)).toEqual([16, 16, 5]);
    expect(h.history.loss![0]!).toBeCloseTo(batches.reduce((s, b) => s + b.size * b.loss, 0) / 37, 6);
  });

  it('validationSplit holds out the last examples; validationData is reported as val_*', async () => {
    const { x, y } = regressionData(50, 4);
    const m = seedModel(7);
    m.compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae'], seed: 4 });
    const h = await m.fit(x, y, { epochs: 2, batchSize: 8, validationSplit: 0.2, verbose: 0 });
    expect(Object.keys(h.history).sort()).toEqual(['loss', 'mae', 'val_loss', 'val_mae']);
    const held = { x: new Tensor('float32', [10, 8], x.data.slice(40 * 8)), y: new Tensor('float32', [10, 1], y.data.slice(40)) };
    const [vl, vm] = await m.evaluate(held.x, held.y);
    expect(h.history.val_loss![1]!).toBeCloseTo(vl!, 6);
    expect(h.history.val_mae![1]!).toBeCloseTo(vm!, 6);
    const h2 = await m.fit(x, y, { epochs: 1, validationData: [held.x, held.y], verbose: 0 });
    expect(h2.history.val_loss![0]!).toBeCloseTo((await m.evaluate(held.x, held.y))[0]!, 6);
  });

  it('shuffle is seeded: the same seed gives the same loss curve, another seed a different one', async () => {
    const { x, y } = regressionData(64, 5);
    const curve = async (seed: number) => {
      const m = seedModel(9);
      m.compile({ optimizer: 'sgd', loss: 'mse', seed: 1 });
      return (await m.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0, seed })).history.loss!;
    };
    const a = await curve(11);
    expect(await curve(11)).toEqual(a);
    expect(await curve(12)).not.toEqual(a);
  });

  it('classWeight scales each example of a class in the loss', async () => {
    const x = randomTensor([6, 8], 6);
    const y = tensor(new Int32Array([0, 1, 2, 0, 1, 2]), [6]);
    const m = sequential({ layers: [layers.dense({ units: 3, activation: 'softmax', inputShape: [8], name: 'cw_dense' })] });
    m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', seed: 1 });
    const p = await m.predict(x);
    const ce = [0, 1, 2, 3, 4, 5].map((i) => -Math.log(p.data[i * 3 + y.data[i]!]!));
    const weights = { 0: 2, 1: 0, 2: 1 };
    let batchLoss = -1;
    await m.fit(x, y, { epochs: 1, batchSize: 6, verbose: 0, classWeight: weights, callbacks: { onBatchEnd: (_b, l) => void (batchLoss = l!.loss!) } });
    const want = ce.reduce((s, c, i) => s + c * weights[y.data[i] as 0 | 1 | 2], 0) / 6;
    expect(batchLoss).toBeCloseTo(want, 5);
  });

  it('regularizers add their penalties to the loss', async () => {
    const { x, y } = regressionData(16, 7);
    const m = sequential({
      layers: [layers.dense({ units: 1, inputShape: [8], name: 'reg_dense', kernelRegularizer: regularizers.l1l2({ l1: 0.1, l2: 0.2 }) })],
    });
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    const [k] = m.getWeights();
    const p = await m.predict(x);
    const mse = Array.from(p.data).reduce((s, v, i) => s + (v - y.data[i]!) ** 2, 0) / 16;
    const penalty = Array.from(k!.data).reduce((s, v) => s + 0.1 * Math.abs(v) + 0.2 * v * v, 0);
    expect((await m.evaluate(x, y))[0]!).toBeCloseTo(mse + penalty, 5);
  });

  it('categorical and binary cross entropies on probabilities equal their hand-computed values', async () => {
    const x = randomTensor([4, 8], 8);
    const cat = sequential({ layers: [layers.dense({ units: 3, activation: 'softmax', inputShape: [8], name: 'cat_d' })] });
    cat.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const y = tensor([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [0, 1, 0],
    ]);
    const p = await cat.predict(x);
    const cls = [0, 1, 2, 1];
    const ce = cls.reduce((s, c, i) => s - Math.log(p.data[i * 3 + c]!), 0) / 4;
    const acc = cls.filter((c, i) => [0, 1, 2].reduce((b, j) => (p.data[i * 3 + j]! > p.data[i * 3 + b]! ? j : b), 0) === c).length / 4;
    const [l, a] = await cat.evaluate(x, y);
    expect(l!).toBeCloseTo(ce, 5);
    expect(a!).toBeCloseTo(acc, 6);

    const bin = sequential({ layers: [layers.dense({ units: 1, activation: 'sigmoid', inputShape: [8], name: 'bin_d' })] });
    bin.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const yb = tensor([[1], [0], [0], [1]]);
    const pb = await bin.predict(x);
    const bce = [1, 0, 0, 1].reduce((s, t, i) => s - (t ? Math.log(pb.data[i]!) : Math.log(1 - pb.data[i]!)), 0) / 4;
    const bacc = [1, 0, 0, 1].filter((t, i) => (pb.data[i]! > 0.5 ? 1 : 0) === t).length / 4;
    const [bl, ba] = await bin.evaluate(x, yb);
    expect(bl!).toBeCloseTo(bce, 5);
    expect(ba!).toBeCloseTo(bacc, 6);
  });

  it('wrong input shapes are KilnErrors naming the layer with expected vs got', async () => {
    const m = sequential({ layers: [layers.dense({ units: 2, inputShape: [8], name: 'first_dense' })] });
    const err = await m.predict(randomTensor([4, 5], 9)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).code).toBe('SHAPE_MISMATCH');
    expect((err as KilnError).message).toContain("Dense 'first_dense'");
    expect((err as KilnError).message).toContain('[?,8]');
    expect((err as KilnError).message).toContain('[4,5]');
    const conv = () =>
      sequential({ layers: [layers.dense({ units: 4, inputShape: [8], name: 'flat_in' }), layers.conv2d({ filters: 2, kernelSize: 3, name: 'bad_conv' })] });
    expect(conv).toThrow(KilnError);
    expect(conv).toThrow(/Conv2D 'bad_conv'.*rank 4.*\(None, 4\)/);
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    await expect(m.fit(randomTensor([4, 8], 1), randomTensor([4, 3], 2), { verbose: 0 })).rejects.toThrow(
      /Dense 'first_dense' must have shape \[\?,2\], got \[4,3\]/,
    );
    const twice = () => sequential({ layers: [layers.dense({ units: 4, inputShape: [8], name: 'same' }), layers.dense({ units: 4, name: 'same' })] });
    expect(twice).toThrow(/two layers are named 'same'/);
  });

  it('summary prints the layer table and totals; the graph is exposed for printGraph and compiled stats', () => {
    const m = seedModel(1);
    const lines = summaryLines(m);
    const text = lines.join('\n');
    expect(text).toContain('(None, 10)');
    expect(text).toMatch(/Dense\)\s+\(None, 1\)\s+11/);
    expect(text).toContain('Total params: 101');
    expect(text).toContain('Trainable params: 101');
    m.compile({ optimizer: 'adam', loss: 'mse' });
    const ir = printGraph(m.graph);
    expect(ir).toContain('training/');
    expect(ir).toContain('Adam/');
    const st = m.compiledProgram('train', 16).stats;
    expect(st.kernels).toBeGreaterThan(0);
    expect(st.kernels).toBeLessThan(st.graphNodes);
    expect(st.arenaBytes).toBeLessThanOrEqual(st.naiveBytes);
  });

  it('a functional model with a batch-normalized, dropped-out branch trains and predicts deterministically', async () => {
    const inp = input({ shape: [8], name: 'fx' });
    const a = layers.dense({ units: 8, activation: 'relu', name: 'f_a' }).apply(inp);
    const b = layers.batchNormalization({ name: 'f_bn' }).apply(layers.dense({ units: 8, name: 'f_b' }).apply(inp));
    const merged = layers.dropout({ rate: 0.2, name: 'f_drop' }).apply(layers.concatenate({ name: 'f_cat' }).apply([a, b]));
    const m = model({ inputs: inp, outputs: layers.dense({ units: 1, name: 'f_out' }).apply(merged) });
    m.compile({ optimizer: 'adam', loss: 'mse', seed: 3 });
    const { x, y } = regressionData(64, 10);
    const h = await m.fit(x, y, { epochs: 5, batchSize: 16, verbose: 0 });
    expect(h.history.loss![4]!).toBeLessThan(h.history.loss![0]!);
    const p1 = await m.predict(x);
    const p2 = await m.predict(x, { batchSize: 7 });
    expect(Array.from(p2.data)).toEqual(Array.from(p1.data));
  });

  it('compiling again (another optimizer) keeps the trained weights and builds a fresh training graph', async () => {
    const { x, y } = regressionData(32, 11);
    const m = seedModel(13);
    m.compile({ optimizer: 'adam', loss: 'mse', seed: 1 });
    await m.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
    const before = await m.predict(x);
    const g1 = m.graph;
    m.compile({ optimizer: 'rmsprop', loss: 'mae' });
    expect(m.graph).not.toBe(g1);
    expect(Array.from((await m.predict(x)).data)).toEqual(Array.from(before.data));
    expect(m.graph.nodes.some((n) => n.name.startsWith('RMSProp/'))).toBe(true);
    expect(m.graph.nodes.some((n) => n.name.startsWith('Adam/'))).toBe(false);
  });
});
