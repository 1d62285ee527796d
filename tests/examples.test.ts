/**
 * Runs the training examples end to end (public API: kiln.session, train.*, losses) and
 * checks that they reach their targets. Thresholds: linear regression recovers w and b within
 * 0.05 of the truth (noise 0.1, 100 points); logistic regression separates setosa perfectly;
 * the MLP on two moons reaches >= 97% train accuracy and loss < 0.1.
 */
import { describe, expect, it } from '@jest/globals';
import { run as linearRegression, TRUE_B, TRUE_W } from '../examples/linear-regression.js';
import { run as logisticRegression } from '../examples/logistic-regression.js';
import { run as mlp } from '../examples/mlp.js';

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
});
