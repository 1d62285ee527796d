/**
 * model.save / loadModel: one protobuf file with architecture, weights, optimizer state and
 * training config. Predictions of the reloaded model are bit-identical; training resumed from
 * the file continues the exact loss curve of an uninterrupted run (optimizer slots, batch-norm
 * statistics, dropout streams and the shuffle all restored); damaged files are
 * KilnError('CORRUPT_MODEL'); saving leaves no temporary file behind.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { KilnError, type LayersModel, Tensor, input, layers, loadModel, makeRandom, model, sequential } from 'kiln';

function randomTensor(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  const r = makeRandom(seed);
  const t = new Tensor('float32', shape);
  for (let i = 0; i < t.size; i++) t.data[i] = lo + (hi - lo) * r();
  return t;
}

function build(): LayersModel {
  const init = (seed: number) => ({ className: 'GlorotUniform', config: { seed } });
  return sequential({
    name: 'saved_seq',
    layers: [
      layers.dense({ units: 12, activation: 'relu', inputShape: [6], name: 's_d1', kernelInitializer: init(1) }),
      layers.batchNormalization({ name: 's_bn' }),
      layers.dropout({ rate: 0.25, name: 's_drop' }),
      layers.dense({ units: 3, activation: 'softmax', name: 's_out', kernelInitializer: init(2) }),
    ],
  });
}

const x = randomTensor([40, 6], 1);
const y = new Tensor(
  'int32',
  [40],
  Int32Array.from({ length: 40 }, (_, i) => (x.data[i * 6]! > 0 ? 1 : 0) + (x.data[i * 6 + 1]! > 0.5 ? 1 : 0)),
);

describe('save and load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-keras-save-'));

  it('round-trips a trained model: same architecture, bit-identical predictions, same evaluation', async () => {
    const m = build();
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'], seed: 5 });
    await m.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
    const path = join(dir, 'model.kiln.pb');
    await m.save(path);
    expect(readdirSync(dir)).toEqual(['model.kiln.pb']);
    const r = await loadModel(path);
    expect(r.name).toBe('saved_seq');
    expect(r.layers.map((l) => `${l.name}:${l.className}`)).toEqual(m.layers.map((l) => `${l.name}:${l.className}`));
    const [a, b] = [await m.predict(x), await r.predict(x)];
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    expect(await r.evaluate(x, y)).toEqual(await m.evaluate(x, y));
    r.getWeights().forEach((w, i) => expect(Array.from(w.data)).toEqual(Array.from(m.getWeights()[i]!.data)));
  });

  it('resumed training continues the same loss curve as an uninterrupted run', async () => {
    const straight = build();
    straight.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', seed: 9 });
    const full = (await straight.fit(x, y, { epochs: 4, batchSize: 8, verbose: 0 })).history.loss!;

    const first = build();
    first.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', seed: 9 });
    const head = (await first.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 })).history.loss!;
    const path = join(dir, 'resume.kiln.pb');
    await first.save(path);
    const resumed = await loadModel(path);
    const tail = (await resumed.fit(x, y, { epochs: 4, initialEpoch: 2, batchSize: 8, verbose: 0 })).history.loss!;
    expect([...head, ...tail]).toEqual(full);
  });

  it('a functional model round-trips too', async () => {
    const a = input({ shape: [6], name: 'fa' });
    const h1 = layers.dense({ units: 4, name: 'fd1' }).apply(a);
    const h2 = layers.dense({ units: 4, name: 'fd2' }).apply(a);
    const out = layers.dense({ units: 2, name: 'fout' }).apply(layers.add({ name: 'fadd' }).apply([h1, h2]));
    const m = model({ inputs: a, outputs: out, name: 'func' });
    const path = join(dir, 'func.kiln.pb');
    await m.save(path);
    const r = await loadModel(path);
    expect(Array.from((await r.predict(x)).data)).toEqual(Array.from((await m.predict(x)).data));
    expect(r.isCompiled).toBe(false);
  });

  it('corrupt or truncated files are CORRUPT_MODEL, never a half-loaded model', async () => {
    const m = build();
    m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const path = join(dir, 'good.kiln.pb');
    await m.save(path);
    const bytes = readFileSync(path);
    const cases: [string, Uint8Array][] = [
      ['truncated', bytes.subarray(0, Math.floor(bytes.length / 2))],
      ['flipped byte', Uint8Array.from(bytes, (v, i) => (i === Math.floor(bytes.length / 3) ? v ^ 0xff : v))],
      ['empty', new Uint8Array(0)],
    ];
    for (const [name, b] of cases) {
      const p = join(dir, `${name.replace(' ', '_')}.kiln.pb`);
      writeFileSync(p, b);
      const err = await loadModel(p).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KilnError);
      expect([name, (err as KilnError).code]).toEqual([name, 'CORRUPT_MODEL']);
    }
  });

  it('saving over an existing file replaces it whole (written to a temporary file, then renamed)', async () => {
    const path = join(dir, 'over.kiln.pb');
    const m = build();
    await m.save(path);
    m.setWeights(
      m.getWeights().map(
        (w) =>
          new Tensor(
            'float32',
            w.shape,
            w.data.map((v) => v + 1),
          ),
      ),
    );
    await m.save(path);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const r = await loadModel(path);
    expect(Array.from((await r.predict(x)).data)).toEqual(Array.from((await m.predict(x)).data));
  });
});
