/**
 * The everyday examples (linear regression, spiral MLP, save/restore, Hessian-vector product)
 * run end to end through the public `kiln` API. Oracles: the regression recovers w and b within
 * 0.05 (noise 0.1); the MLP reaches >= 95% train accuracy on the spirals in 200 steps; a restored session
 * continues with exactly the losses of an uninterrupted one; H v equals the analytic
 * A v + exp(x) * v (rtol 1e-5).
 */
import { describe, expect, it } from '@jest/globals';
import { run as hessianVector, A } from '../examples/hessian-vector.js';
import { run as linearRegression, TRUE_B, TRUE_W } from '../examples/linear-regression.js';
import { run as saveRestore } from '../examples/save-restore.js';
import { run as spiralMlp } from '../examples/spiral-mlp.js';

describe('everyday examples', () => {
  it('linear regression recovers w and b', async () => {
    const r = await linearRegression();
    expect(Math.abs(r.w - TRUE_W)).toBeLessThan(0.05);
    expect(Math.abs(r.b - TRUE_B)).toBeLessThan(0.05);
  });

  it('the spiral MLP separates the spirals', async () => {
    const r = await spiralMlp(200);
    expect(r.accuracy).toBeGreaterThanOrEqual(0.95);
  });

  it('a restored session resumes training exactly', async () => {
    const r = await saveRestore();
    expect([...r.saved, ...r.restored]).toEqual(r.uninterrupted);
    expect(r.restored[4]!).toBeLessThan(r.saved[0]!);
  });

  it('the Hessian-vector product matches the analytic one', async () => {
    const x = [0.5, -1, 2];
    const v = [1, 0, -2];
    const want = A.map((row, i) => row.reduce((s, a, j) => s + a * v[j]!, 0) + Math.exp(x[i]!) * v[i]!);
    const got = await hessianVector(x, v);
    got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThanOrEqual(1e-5 * Math.abs(want[i]!) + 1e-5));
  });
});
