/**
 * `kiln plot` and its TensorBoard event-file reader, on event files written here by a tiny
 * independent writer (helpers/event-writer.ts: protobuf encoded by hand, TFRecord framing
 * with a bitwise CRC32C). Scalars come both TF1 style (simple_value) and TF2 style (a scalar
 * tensor).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readScalars, readTfRecords } from '../packages/kiln/src/cli/event-file.js';
import { fixed, scalarEvent, stringField, tfRecords } from './helpers/event-writer.js';
import { buildKiln, kilnCli } from './helpers/kiln-cli.js';

// ---- the log dir: train and validation runs, 3 epochs --------------------------------------
const LOSS = { train: [1.25, 0.75, 0.5], validation: [1.5, 1.0, 0.875] };
const ACC = { train: [0.5, 0.75, 0.875], validation: [0.25, 0.5, 0.625] };
let dir: string;

beforeAll(() => {
  buildKiln();
  dir = mkdtempSync(join(tmpdir(), 'kiln-plot-'));
  for (const run of ['train', 'validation'] as const) {
    mkdirSync(join(dir, 'logs', run), { recursive: true });
    const version = [...fixed(1, 1700000000, 8), ...stringField(3, 'brain.Event:2')];
    const events = [
      version,
      ...[0, 1, 2].flatMap((e) => [scalarEvent(e, 'epoch_loss', LOSS[run][e]!, false), scalarEvent(e, 'epoch_accuracy', ACC[run][e]!, true)]),
    ];
    writeFileSync(join(dir, 'logs', run, 'events.out.tfevents.1700000000.host.1.v2'), tfRecords(events));
  }
  mkdirSync(join(dir, 'empty'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TensorBoard event files', () => {
  it('reads every scalar of every run, TF1 and TF2 style, checking the CRCs', () => {
    const s = readScalars(join(dir, 'logs'));
    expect([...s.keys()].sort()).toEqual(['train', 'validation']);
    for (const run of ['train', 'validation'] as const) {
      expect(
        s
          .get(run)!
          .get('epoch_loss')!
          .map((p) => [p.step, p.value]),
      ).toEqual(LOSS[run].map((v, i) => [i, v]));
      expect(
        s
          .get(run)!
          .get('epoch_accuracy')!
          .map((p) => [p.step, p.value]),
      ).toEqual(ACC[run].map((v, i) => [i, v]));
    }
  });

  it('names the record whose length or data CRC does not match', () => {
    const good = readFileSync(join(dir, 'logs', 'train', 'events.out.tfevents.1700000000.host.1.v2'));
    expect(readTfRecords(new Uint8Array(good), 'f')).toHaveLength(7);
    const badData = new Uint8Array(good);
    badData[badData.length - 6]! ^= 0xff; // inside the last record's data
    expect(() => readTfRecords(badData, "'f'")).toThrow(/'f': record 6 \(byte \d+\): data CRC mismatch/);
    const badLength = new Uint8Array(good);
    badLength[0]! ^= 0x01;
    expect(() => readTfRecords(badLength, "'f'")).toThrow("'f': record 0 (byte 0): length CRC mismatch");
    expect(() => readTfRecords(new Uint8Array(good).subarray(0, good.length - 2), "'f'")).toThrow(/record 6 .*truncated data/);
  });
});

describe('kiln plot', () => {
  it('draws one panel per metric and one line per run, as SVG and PNG', async () => {
    const [svg, png, empty] = await Promise.all([
      kilnCli(['plot', join(dir, 'logs'), '-o', join(dir, 'curves.svg')]),
      kilnCli(['plot', join(dir, 'logs'), '-o', join(dir, 'curves.png')]),
      kilnCli(['plot', join(dir, 'empty'), '-o', join(dir, 'x.svg')]),
    ]);
    expect(svg.stderr).toBe('');
    expect(svg.stdout).toContain('4 series from 2 runs (train, validation)');
    const text = readFileSync(join(dir, 'curves.svg'), 'utf8');
    expect(text.startsWith('<svg')).toBe(true);
    expect(text.match(/<g class="panel">/g)).toHaveLength(2);
    for (const run of ['train', 'validation']) for (const t of ['epoch_loss', 'epoch_accuracy']) expect(text).toContain(`<title>${run}/${t}</title>`);
    expect(text.match(/<circle /g)).toHaveLength(12); // 4 lines x 3 epochs
    expect(png.code).toBe(0);
    expect([...readFileSync(join(dir, 'curves.png')).subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(empty.code).not.toBe(0);
    expect(empty.stderr.trim()).toMatch(/^kiln plot: log dir '.*empty' holds no event files \(\*tfevents\*\)$/);
  });
});
