/**
 * Every Keras layer's forward pass (model.predict on the compiled CPU backend) against a
 * hand-computed result in plain JS loops, with rtol 1e-4 / atol 1e-5 (1e-3 for convolutions
 * and recurrent layers); the training-mode behaviour of dropout and batch normalization; and
 * gradient flow through each layer type: every trainable weight gets a finite, non-zero
 * gradient, and the gradient's directional derivative matches central differences of the
 * loss (rtol 2e-2, float32).
 */
import { describe, expect, it } from '@jest/globals';
import { type Layer, type LayersModel, type SymbolicTensor, Tensor, gradients, input, layers, makeRandom, model, sequential, tensor } from 'kiln';

function randomTensor(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  const r = makeRandom(seed);
  const t = new Tensor('float32', shape);
  for (let i = 0; i < t.size; i++) t.data[i] = lo + (hi - lo) * r();
  return t;
}

function expectClose(got: Tensor, want: ArrayLike<number>, rtol = 1e-4, atol = 1e-5): void {
  expect(got.data.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (Math.abs(got.data[i]! - w) > atol + rtol * Math.abs(w)) throw new Error(`element ${i}: got ${got.data[i]}, want ${w}`);
  }
}

/** A one-layer functional model on input shape `shape` (without batch). */
function oneLayer(layer: Layer, shape: number[], dtype: 'float32' | 'int32' = 'float32'): LayersModel {
  const x = input({ shape, dtype });
  return model({ inputs: x, outputs: layer.apply(x) });
}

/** Sets every weight of `m` to seeded random values (so biases and statistics are not trivial). */
function randomizeWeights(m: LayersModel, seed: number, lo = -0.5, hi = 0.5): Tensor[] {
  const ws = m.weights.map((w, i) => randomTensor(w.shape, seed + i, lo, hi));
  m.setWeights(ws);
  return ws;
}

function dense(x: Tensor, k: Tensor, b: Tensor | null): Float32Array {
  const [n, d] = [x.shape[0]!, x.shape[1]!];
  const u = k.shape[1]!;
  const y = new Float32Array(n * u);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < u; j++) {
      let s = b ? b.data[j]! : 0;
      for (let t = 0; t < d; t++) s += x.data[i * d + t]! * k.data[t * u + j]!;
      y[i * u + j] = s;
    }
  return y;
}

const sig = (v: number) => 1 / (1 + Math.exp(-v));

describe('layer forward passes against hand-computed values', () => {
  it('dense: relu(x . kernel + bias)', async () => {
    const m = oneLayer(layers.dense({ units: 3, activation: 'relu', name: 'd' }), [4]);
    const [k, b] = randomizeWeights(m, 1);
    const x = randomTensor([5, 4], 2);
    expectClose(
      await m.predict(x),
      dense(x, k!, b!).map((v) => Math.max(v, 0)),
    );
  });

  it('dense on rank 3 inputs applies to the last axis', async () => {
    const m = oneLayer(layers.dense({ units: 2, name: 'd3' }), [3, 4]);
    const [k, b] = randomizeWeights(m, 3);
    const x = randomTensor([2, 3, 4], 4);
    const y = await m.predict(x);
    expect(y.shape).toEqual([2, 3, 2]);
    expectClose(y, dense(x.reshape([6, 4]), k!, b!));
  });

  it('conv2d (valid and same padding, strides) matches a direct convolution', async () => {
    for (const [padding, stride] of [
      ['valid', 1],
      ['same', 2],
    ] as const) {
      const m = oneLayer(layers.conv2d({ filters: 3, kernelSize: 3, strides: stride, padding, name: `c_${padding}` }), [5, 6, 2]);
      const [k, b] = randomizeWeights(m, 5);
      const x = randomTensor([2, 5, 6, 2], 6);
      const y = await m.predict(x);
      const [oh, ow] = padding === 'valid' ? [3, 4] : [3, 3];
      expect(y.shape).toEqual([2, oh, ow, 3]);
      // TensorFlow's 'same': total padding max((out-1)*s + k - in, 0), the smaller half before.
      const padT = padding === 'same' ? Math.floor(Math.max((oh - 1) * stride + 3 - 5, 0) / 2) : 0;
      const padL = padding === 'same' ? Math.floor(Math.max((ow - 1) * stride + 3 - 6, 0) / 2) : 0;
      const want: number[] = [];
      for (let n = 0; n < 2; n++)
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++)
            for (let f = 0; f < 3; f++) {
              let s = b!.data[f]!;
              for (let di = 0; di < 3; di++)
                for (let dj = 0; dj < 3; dj++)
                  for (let c = 0; c < 2; c++) {
                    const [r, q] = [i * stride + di - padT, j * stride + dj - padL];
                    if (r < 0 || r >= 5 || q < 0 || q >= 6) continue;
                    s += x.data[((n * 5 + r) * 6 + q) * 2 + c]! * k!.data[((di * 3 + dj) * 2 + c) * 3 + f]!;
                  }
              want.push(s);
            }
      expectClose(y, want, 1e-3, 1e-4);
    }
  });

  it('maxPooling2d, averagePooling2d and globalAveragePooling2d', async () => {
    const x = randomTensor([2, 4, 4, 3], 7);
    const at = (n: number, i: number, j: number, c: number) => x.data[((n * 4 + i) * 4 + j) * 3 + c]!;
    const maxWant: number[] = [];
    const avgWant: number[] = [];
    for (let n = 0; n < 2; n++)
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 2; j++)
          for (let c = 0; c < 3; c++) {
            const v = [at(n, 2 * i, 2 * j, c), at(n, 2 * i + 1, 2 * j, c), at(n, 2 * i, 2 * j + 1, c), at(n, 2 * i + 1, 2 * j + 1, c)];
            maxWant.push(Math.max(...v));
            avgWant.push(v.reduce((a, b) => a + b) / 4);
          }
    expectClose(await oneLayer(layers.maxPooling2d({ poolSize: 2, name: 'mp' }), [4, 4, 3]).predict(x), maxWant);
    expectClose(await oneLayer(layers.averagePooling2d({ poolSize: 2, name: 'ap' }), [4, 4, 3]).predict(x), avgWant);
    const gap: number[] = [];
    for (let n = 0; n < 2; n++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) s += at(n, i, j, c);
        gap.push(s / 16);
      }
    expectClose(await oneLayer(layers.globalAveragePooling2d({ name: 'gap' }), [4, 4, 3]).predict(x), gap);
  });

  it('flatten and reshape keep the values in row-major order', async () => {
    const x = randomTensor([2, 3, 4], 8);
    const f = await oneLayer(layers.flatten({ name: 'fl' }), [3, 4]).predict(x);
    expect(f.shape).toEqual([2, 12]);
    expectClose(f, x.data, 0, 0);
    const r = await oneLayer(layers.reshape({ targetShape: [2, -1], name: 'rs' }), [3, 4]).predict(x);
    expect(r.shape).toEqual([2, 2, 6]);
    expectClose(r, x.data, 0, 0);
  });

  it('activation layers: relu, sigmoid, tanh, softmax', async () => {
    const x = randomTensor([3, 4], 9, -3, 3);
    const v = Array.from(x.data);
    expectClose(
      await oneLayer(layers.activation({ activation: 'relu', name: 'a1' }), [4]).predict(x),
      v.map((t) => Math.max(t, 0)),
    );
    expectClose(await oneLayer(layers.activation({ activation: 'sigmoid', name: 'a2' }), [4]).predict(x), v.map(sig));
    expectClose(await oneLayer(layers.activation({ activation: 'tanh', name: 'a3' }), [4]).predict(x), v.map(Math.tanh));
    const sm: number[] = [];
    for (let i = 0; i < 3; i++) {
      const row = v.slice(i * 4, i * 4 + 4);
      const mx = Math.max(...row);
      const e = row.map((t) => Math.exp(t - mx));
      const s = e.reduce((a, b) => a + b);
      sm.push(...e.map((t) => t / s));
    }
    expectClose(await oneLayer(layers.activation({ activation: 'softmax', name: 'a4' }), [4]).predict(x), sm);
  });

  it('dropout is the identity in inference and drops in training', async () => {
    const m = sequential({ layers: [layers.dropout({ rate: 0.5, inputShape: [50], name: 'dr' })] });
    const x = randomTensor([4, 50], 10, 1, 2);
    expectClose(await m.predict(x), x.data, 0, 0);
    const d = sequential({
      layers: [layers.dense({ units: 50, inputShape: [50], name: 'dd', kernelInitializer: 'identity' }), layers.dropout({ rate: 0.5, name: 'dr2' })],
    });
    d.compile({ optimizer: 'sgd', loss: 'mse', seed: 1 });
    // Training loss against zero targets: mean(y^2) where each y is 0 or x / (1 - rate).
    const t = d.modelGraph.training!;
    const [loss] = await d.session.run([t.loss], {
      [d.modelGraph.inputs[0]!.name]: x,
      [t.target.name]: new Tensor('float32', [4, 50]),
      [t.sampleWeight.name]: tensor([1, 1, 1, 1]),
    });
    const full = Array.from(x.data).reduce((s, v) => s + (2 * v) ** 2, 0) / x.size;
    expect(loss!.data[0]!).toBeGreaterThan(0.2 * full);
    expect(loss!.data[0]!).toBeLessThan(0.8 * full);
  });

  it('batchNormalization: moving statistics in inference, batch statistics (and moving-average updates) in training', async () => {
    const m = sequential({ layers: [layers.batchNormalization({ inputShape: [3], name: 'bn', momentum: 0.9, epsilon: 1e-3 })] });
    const [gamma, beta, mm, mv] = randomizeWeights(m, 11, 0.5, 1.5);
    const x = randomTensor([6, 3], 12, -2, 2);
    const want = Array.from(x.data).map((v, i) => {
      const c = i % 3;
      return ((v - mm!.data[c]!) / Math.sqrt(mv!.data[c]! + 1e-3)) * gamma!.data[c]! + beta!.data[c]!;
    });
    expectClose(await m.predict(x), want);

    m.compile({ optimizer: 'sgd', loss: 'mse', seed: 1 });
    const mean = [0, 1, 2].map((c) => [0, 1, 2, 3, 4, 5].reduce((s, i) => s + x.data[i * 3 + c]!, 0) / 6);
    const vari = [0, 1, 2].map((c) => [0, 1, 2, 3, 4, 5].reduce((s, i) => s + (x.data[i * 3 + c]! - mean[c]!) ** 2, 0) / 6);
    // One step: the loss uses batch statistics; the moving averages move 10% toward them.
    const t = m.modelGraph.training!;
    const target = new Tensor('float32', [6, 3]);
    const [loss] = await m.session
      .run([t.step, t.loss], { [m.modelGraph.inputs[0]!.name]: x, [t.target.name]: target, [t.sampleWeight.name]: tensor([1, 1, 1, 1, 1, 1]) })
      .then((r) => r.slice(1));
    const y = Array.from(x.data).map((v, i) => ((v - mean[i % 3]!) / Math.sqrt(vari[i % 3]! + 1e-3)) * gamma!.data[i % 3]! + beta!.data[i % 3]!);
    expect(loss!.data[0]!).toBeCloseTo(y.reduce((s, v) => s + v * v, 0) / 18, 4);
    const [, , mm2, mv2] = m.getWeights();
    expectClose(
      mm2!,
      [0, 1, 2].map((c) => 0.9 * mm!.data[c]! + 0.1 * mean[c]!),
    );
    expectClose(
      mv2!,
      [0, 1, 2].map((c) => 0.9 * mv!.data[c]! + 0.1 * vari[c]!),
    );
  });

  it('layerNormalization normalizes each example over its last axis', async () => {
    const m = oneLayer(layers.layerNormalization({ name: 'ln', epsilon: 1e-3 }), [5]);
    const [gamma, beta] = randomizeWeights(m, 13, 0.5, 1.5);
    const x = randomTensor([3, 5], 14, -2, 2);
    const want: number[] = [];
    for (let i = 0; i < 3; i++) {
      const row = Array.from(x.data.slice(i * 5, i * 5 + 5));
      const mu = row.reduce((a, b) => a + b) / 5;
      const v = row.reduce((a, b) => a + (b - mu) ** 2, 0) / 5;
      want.push(...row.map((t, j) => ((t - mu) / Math.sqrt(v + 1e-3)) * gamma!.data[j]! + beta!.data[j]!));
    }
    expectClose(await m.predict(x), want);
  });

  it('embedding looks up rows of its table', async () => {
    const m = oneLayer(layers.embedding({ inputDim: 6, outputDim: 3, name: 'emb' }), [4], 'int32');
    const [table] = m.getWeights();
    const ids = tensor(new Int32Array([0, 5, 2, 2, 1, 3, 4, 0]), [2, 4]);
    const y = await m.predict(ids);
    expect(y.shape).toEqual([2, 4, 3]);
    expectClose(
      y,
      Array.from(ids.data).flatMap((id) => Array.from(table!.data.slice(id * 3, id * 3 + 3))),
      0,
      0,
    );
  });

  it('concatenate and add merge several inputs', async () => {
    const a = input({ shape: [2] });
    const b = input({ shape: [3] });
    const c = input({ shape: [2] });
    const m = model({ inputs: [a, b, c], outputs: [layers.concatenate({ name: 'cat' }).apply([a, b]), layers.add({ name: 'sum' }).apply([a, c])] });
    const xa = randomTensor([2, 2], 15);
    const xb = randomTensor([2, 3], 16);
    const xc = randomTensor([2, 2], 17);
    const [cat, sum] = (await m.predict([xa, xb, xc])) as unknown as Tensor[];
    expectClose(cat!, [...xa.data.slice(0, 2), ...xb.data.slice(0, 3), ...xa.data.slice(2, 4), ...xb.data.slice(3, 6)], 0, 0);
    expectClose(
      sum!,
      Array.from(xa.data).map((v, i) => v + xc.data[i]!),
    );
  });

  it('lstm and gru match step-by-step recurrences', async () => {
    const [T, F, U, N] = [3, 2, 4, 2];
    const x = randomTensor([N, T, F], 18);
    const step = (xt: number[], w: Tensor, uk: Tensor, b: Tensor, h: number[], gates: number) =>
      [...Array(gates * U).keys()].map((j) => {
        let s = b.data[j]!;
        for (let f = 0; f < F; f++) s += xt[f]! * w.data[f * gates * U + j]!;
        for (let k = 0; k < U; k++) s += h[k]! * uk.data[k * gates * U + j]!;
        return s;
      });
    const lstm = oneLayer(layers.lstm({ units: U, name: 'lstm', returnSequences: true }), [T, F]);
    const [w, uk, b] = randomizeWeights(lstm, 19);
    const want: number[] = [];
    for (let n = 0; n < N; n++) {
      let h = new Array<number>(U).fill(0);
      let c = new Array<number>(U).fill(0);
      for (let t = 0; t < T; t++) {
        const z = step(Array.from(x.data.slice((n * T + t) * F, (n * T + t + 1) * F)), w!, uk!, b!, h, 4);
        c = c.map((cv, k) => sig(z[U + k]!) * cv + sig(z[k]!) * Math.tanh(z[2 * U + k]!));
        h = c.map((cv, k) => sig(z[3 * U + k]!) * Math.tanh(cv));
        want.push(...h);
      }
    }
    expectClose(await lstm.predict(x), want, 1e-3, 1e-4);

    const gru = oneLayer(layers.gru({ units: U, name: 'gru' }), [T, F]);
    const [gw, gu, gb] = randomizeWeights(gru, 20);
    const gWant: number[] = [];
    for (let n = 0; n < N; n++) {
      let h = new Array<number>(U).fill(0);
      for (let t = 0; t < T; t++) {
        const xt = Array.from(x.data.slice((n * T + t) * F, (n * T + t + 1) * F));
        const xw = step(xt, gw!, new Tensor('float32', [U, 3 * U]), gb!, h, 3);
        const hu = [...Array(3 * U).keys()].map((j) => h.reduce((s, hv, k) => s + hv * gu!.data[k * 3 * U + j]!, 0));
        const z = h.map((_, k) => sig(xw[k]! + hu[k]!));
        const r = h.map((_, k) => sig(xw[U + k]! + hu[U + k]!));
        const rh = h.map((hv, k) => r[k]! * hv);
        const hh = h.map((_, k) => Math.tanh(xw[2 * U + k]! + rh.reduce((s, v, q) => s + v * gu!.data[q * 3 * U + 2 * U + k]!, 0)));
        h = h.map((hv, k) => z[k]! * hv + (1 - z[k]!) * hh[k]!);
      }
      gWant.push(...h);
    }
    expectClose(await gru.predict(x), gWant, 1e-3, 1e-4);
  });
});

/** Gradient check on a model's training loss: every trainable weight gets a gradient, whose directional derivative matches central differences. */
async function checkGradientFlow(m: LayersModel, x: Tensor | Tensor[], y: Tensor): Promise<void> {
  m.compile({ optimizer: 'sgd', loss: 'mse', seed: 3 });
  const mg = m.modelGraph;
  const t = mg.training!;
  const xs = Array.isArray(x) ? x : [x];
  const feeds: Record<string, Tensor> = {
    [t.target.name]: y,
    [t.sampleWeight.name]: new Tensor('float32', [y.shape[0]!], new Float32Array(y.shape[0]!).fill(1)),
  };
  mg.inputs.forEach((p, i) => (feeds[p.name] = xs[i]!));
  const trainable = m.trainableWeights;
  const vars: SymbolicTensor[] = trainable.map((w) => mg.variables.get(w)!);
  // Seeded weights (the layers' default initializers are unseeded), so that the finite
  // difference below is the same on every run (max pooling has kinks).
  m.session.setVariables(
    trainable.map((w, i) => {
      const v = mg.variables.get(w)!;
      const init = m.session.getVariable(v);
      const seeded = randomTensor(init.shape, 200 + i, -0.5, 0.5);
      return [v, init.data.every((x) => x === init.data[0]) ? init : seeded] as const;
    }),
  );
  const grads = gradients(t.loss, vars);
  const gs = (await m.session.run(grads, feeds)) as Tensor[];
  gs.forEach((g, i) => {
    expect(g.data.every(Number.isFinite)).toBe(true);
    if (!g.data.some((v) => v !== 0)) throw new Error(`weight '${trainable[i]!.name}' gets no gradient`);
  });
  const base = trainable.map((w) => m.session.getVariable(mg.variables.get(w)!));
  const dirs = base.map((b, i) => randomTensor(b.shape, 100 + i));
  const lossAt = async (eps: number) => {
    m.session.setVariables(
      trainable.map(
        (w, i) =>
          [
            mg.variables.get(w)!,
            new Tensor(
              'float32',
              base[i]!.shape,
              base[i]!.data.map((v, j) => v + eps * dirs[i]!.data[j]!),
            ),
          ] as const,
      ),
    );
    return (await m.session.run([t.loss], feeds))[0]!.data[0]!;
  };
  // Small enough not to cross max pooling's kinks from the seeded weights; float32 losses keep
  // the difference quotient's rounding error near 1e-4.
  const eps = 1e-3;
  const numeric = ((await lossAt(eps)) - (await lossAt(-eps))) / (2 * eps);
  const analytic = gs.reduce((s, g, i) => s + Array.from(g.data).reduce((a, v, j) => a + v * dirs[i]!.data[j]!, 0), 0);
  expect(Math.abs(numeric - analytic)).toBeLessThan(2e-2 * Math.abs(analytic) + 1e-3);
}

describe('gradient flow through each layer type', () => {
  const head = (name: string) => layers.dense({ units: 2, name, kernelInitializer: 'glorotUniform' });
  it('dense, activation, layerNormalization, batchNormalization, dropout (seeded), reshape', async () => {
    const m = sequential({
      layers: [
        layers.dense({ units: 6, activation: 'tanh', inputShape: [4], name: 'g_d1' }),
        layers.layerNormalization({ name: 'g_ln' }),
        layers.batchNormalization({ name: 'g_bn' }),
        layers.activation({ activation: 'sigmoid', name: 'g_act' }),
        layers.dropout({ rate: 0.3, seed: 4, name: 'g_drop' }),
        layers.reshape({ targetShape: [3, 2], name: 'g_rs' }),
        layers.flatten({ name: 'g_fl' }),
        head('g_head1'),
      ],
    });
    await checkGradientFlow(m, randomTensor([8, 4], 30), randomTensor([8, 2], 31));
  });

  it('conv2d, maxPooling2d, averagePooling2d, globalAveragePooling2d', async () => {
    const m = sequential({
      layers: [
        layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh', inputShape: [6, 6, 2], name: 'g_c1' }),
        layers.maxPooling2d({ poolSize: 2, name: 'g_mp' }),
        layers.conv2d({ filters: 4, kernelSize: 2, name: 'g_c2' }),
        layers.averagePooling2d({ poolSize: 1, name: 'g_ap' }),
        layers.globalAveragePooling2d({ name: 'g_gap' }),
        head('g_head2'),
      ],
    });
    await checkGradientFlow(m, randomTensor([3, 6, 6, 2], 32), randomTensor([3, 2], 33));
  });

  it('embedding, lstm, gru', async () => {
    const ids = input({ shape: [4], dtype: 'int32' });
    const e = layers.embedding({ inputDim: 5, outputDim: 3, name: 'g_emb' }).apply(ids);
    const l = layers.lstm({ units: 3, returnSequences: true, name: 'g_lstm' }).apply(e);
    const gr = layers.gru({ units: 3, name: 'g_gru' }).apply(l);
    const m = model({ inputs: ids, outputs: head('g_head3').apply(gr) });
    await checkGradientFlow(m, tensor(new Int32Array([0, 1, 2, 3, 4, 4, 3, 1]), [2, 4]), randomTensor([2, 2], 34));
  });

  it('concatenate and add', async () => {
    const a = input({ shape: [3] });
    const b = input({ shape: [3] });
    const da = layers.dense({ units: 3, name: 'g_da' }).apply(a);
    const db = layers.dense({ units: 3, name: 'g_db' }).apply(b);
    const merged = layers.concatenate({ name: 'g_cat' }).apply([layers.add({ name: 'g_add' }).apply([da, db]), da]);
    const m = model({ inputs: [a, b], outputs: head('g_head4').apply(merged) });
    await checkGradientFlow(m, [randomTensor([4, 3], 35), randomTensor([4, 3], 36)], randomTensor([4, 2], 37));
  });
});
