/**
 * Runs the training examples end to end (public API: kiln.session, train.*, losses) and
 * checks that they reach their targets. Thresholds: linear regression recovers w and b within
 * 0.05 of the truth (noise 0.1, 100 points); logistic regression separates setosa perfectly;
 * the MLP on two moons reaches >= 97% train accuracy and loss < 0.1. The Keras examples: the
 * seed's regression cuts its training loss at least tenfold; the Iris classifier reaches >= 90%
 * on its held-out fifth; the main job (MNIST CNN) in a short configuration (320 digits, one
 * epoch) learns (>= 60% test accuracy; chance is 10%), saves, reloads and predicts
 * bit-identically, and writes TensorBoard event files.
 */
import { describe, expect, it } from '@jest/globals';
import { run as linearRegression, TRUE_B, TRUE_W } from '../examples/linear-regression.js';
import { run as logisticRegression } from '../examples/logistic-regression.js';
import { run as mlp } from '../examples/mlp.js';
import { run as kerasRegression } from '../examples/keras-regression.js';
import { run as iris } from '../examples/iris.js';
import { run as mainJob } from '../examples/main.js';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEventFile } from '@kiln/keras-api';

describe('training examples', () => {
  it('linear regression recovers w and b', async () => {
    const r = await linearRegression();
    expect(Math.abs(r.w - TRUE_W)).toBeLessThan(0.05);
    expect(Math.abs(r.b - TRUE_B)).toBeLessThan(0.05);
    expect(r.loss).toBeLessThan(0.02);
  });

  it('logistic regression reaches 100% train accuracy on Iris setosa vs others', async () => {
    const r = await logisticRegression();
    expect(r.accuracy).toBe(1);
    expect(r.loss).toBeLessThan(0.1);
  });

  it('a 2-layer MLP trained with Adam separates two moons', async () => {
    const r = await mlp();
    expect(r.accuracy).toBeGreaterThanOrEqual(0.97);
    expect(r.loss).toBeLessThan(0.1);
  });

  it("the seed's Keras regression (Dense 10 relu -> Dense 1, adam, mse, mae) learns", async () => {
    const r = await kerasRegression();
    expect(r.history.loss!.at(-1)!).toBeLessThan(0.1 * r.initialLoss);
    expect(r.test[0]!).toBeLessThan(0.1 * r.initialLoss);
    expect(r.history.mae).toHaveLength(r.history.loss!.length);
  });

  it('the Keras Iris classifier reaches >= 90% on held-out flowers', async () => {
    const r = await iris();
    expect(r.valAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(r.trainAccuracy).toBeGreaterThanOrEqual(0.9);
  });

  it('the main job (MNIST CNN, short configuration) learns, saves, reloads identically and logs to TensorBoard', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'kiln-main-'));
    const lines: string[] = [];
    const r = await mainJob({ train: 320, test: 100, epochs: 1, batchSize: 16, outDir, verbose: 0, log: (l) => lines.push(l) });
    expect(r.testAccuracy).toBeGreaterThanOrEqual(0.6);
    expect(r.identical).toBe(true);
    expect(r.reloadedAccuracy).toBe(r.testAccuracy);
    expect(r.kernels).toBeLessThan(r.graphNodes);
    expect(lines.join('\n')).toMatch(/graph nodes -> \d+ kernels, arena/);
    const files = readdirSync(join(r.logDir, 'train'));
    const events = readEventFile(join(r.logDir, 'train', files[0]!));
    expect(events.flatMap((e) => e.scalars.map((s) => s.tag))).toContain('epoch_loss');
    // The training-curve chart next to the logs: an SVG with a loss panel whose train curve
    // ends at the logged epoch loss (one epoch: a single point).
    expect(lines).toContain(`training curves: ${r.curvesPath}`);
    const svg = readFileSync(r.curvesPath, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toMatch(/<text[^>]*>epoch_loss<\/text>/);
    expect(svg).toMatch(/<path d="M[\d.]+,[\d.]+" [^>]*><title>train\/epoch_loss<\/title>/);
    expect(svg).toContain('<title>validation/epoch_loss</title>');
  });
});
