/**
 * Losses (graph/src/ops/losses.ts) against values computed by hand in float64; compared with
 * rtol 1e-4 / atol 1e-5. Also their stability on large logits, weights and reductions, and
 * the gradient of the cross entropies (softmax - labels).
 */
import { describe, expect, it } from '@jest/globals';
import {
  Graph,
  KilnError,
  Reduction,
  type SymbolicTensor,
  type Tensor,
  absoluteDifference,
  huberLoss,
  l1,
  l2,
  losses,
  meanSquaredError,
  sigmoidCrossEntropy,
  softmaxCrossEntropy,
  sparseSoftmaxCrossEntropy,
  tensor,
} from '@kiln/graph';
import { evaluate } from '@kiln/runtime-cpu';
import { gradients } from '@kiln/compiler';

function expectClose(got: Tensor, want: number | number[], rtol = 1e-4, atol = 1e-5): void {
  const w = Array.isArray(want) ? want : [want];
  const v = got.toFlat();
  expect(v.length).toBe(w.length);
  v.forEach((x, i) => {
    if (!(Math.abs(x - w[i]!) <= atol + rtol * Math.abs(w[i]!))) throw new Error(`element ${i}: got ${x}, want ${w[i]} (${JSON.stringify(v)})`);
  });
}

function run(t: SymbolicTensor, feeds: Record<string, Tensor> = {}): Tensor {
  return evaluate([t], feeds)[0]!;
}

const logsumexp = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};

describe('regression losses', () => {
  const labels = [1, 2, 3];
  const preds = [1.5, 2, 2];
  it('meanSquaredError and absoluteDifference are means over all elements', () => {
    const g = new Graph();
    const l = g.constant(tensor(labels));
    const p = g.placeholder('float32', [null], 'p');
    expectClose(run(meanSquaredError(l, p), { p: tensor(preds) }), (0.25 + 0 + 1) / 3);
    expectClose(run(absoluteDifference(l, p), { p: tensor(preds) }), (0.5 + 0 + 1) / 3);
    // 2-D: mean over everything
    const l2d = g.constant(
      tensor([
        [0, 1],
        [2, 3],
      ]),
    );
    const p2d = g.constant(
      tensor([
        [1, 1],
        [0, 3],
      ]),
    );
    expectClose(run(meanSquaredError(l2d, p2d)), (1 + 0 + 4 + 0) / 4);
  });

  it('applies weights and every reduction as tf.losses', () => {
    const g = new Graph();
    const l = g.constant(tensor(labels));
    const p = g.constant(tensor(preds));
    const w = g.constant(tensor([1, 0, 2]));
    // squared errors 0.25, 0, 1 -> weighted 0.25, 0, 2
    expectClose(run(meanSquaredError(l, p, w)), 2.25 / 2);
    expectClose(run(meanSquaredError(l, p, w, Reduction.MEAN)), 2.25 / 3);
    expectClose(run(meanSquaredError(l, p, w, Reduction.SUM)), 2.25);
    expectClose(run(meanSquaredError(l, p, w, Reduction.NONE)), [0.25, 0, 2]);
    expectClose(run(meanSquaredError(l, p, 3)), ((0.25 + 0 + 1) * 3) / 3);
    expectClose(run(meanSquaredError(l, p, g.constant(tensor([0, 0, 0])))), 0);
    expectClose(
      run(
        losses.computeWeightedLoss(
          g.constant(
            tensor([
              [1, 2],
              [3, 4],
            ]),
          ),
          g.constant(tensor([[1], [0]])),
        ),
      ),
      3 / 2,
    );
  });

  it('huberLoss is quadratic inside delta and linear outside', () => {
    const g = new Graph();
    const l = g.constant(tensor([0, 0, 0]));
    const p = g.constant(tensor([0.5, 2, -3]));
    expectClose(run(huberLoss(l, p)), (0.125 + 1.5 + 2.5) / 3);
    expectClose(run(huberLoss(l, p, null, 2)), (0.125 + 2 + 4) / 3);
  });

  it('l1 and l2 penalties', () => {
    const g = new Graph();
    const x = g.constant(
      tensor([
        [1, -2],
        [3, -0.5],
      ]),
    );
    expectClose(run(l1(x, 0.1)), 0.1 * 6.5);
    expectClose(run(l2(x, 0.1)), 0.1 * (1 + 4 + 9 + 0.25));
    expectClose(run(l2(x)), 0.01 * 14.25);
  });

  it('reports mismatched shapes and dtypes', () => {
    const g = new Graph();
    const a = g.placeholder('float32', [2, 3], 'a');
    const b = g.placeholder('float32', [3, 2], 'b');
    const i = g.placeholder('int32', [2, 3], 'i');
    try {
      meanSquaredError(a, b);
      throw new Error('no error');
    } catch (e) {
      expect((e as KilnError).code).toBe('SHAPE_MISMATCH');
      expect((e as Error).message).toMatch(/meanSquaredError.*\[2,3\].*\[3,2\]/);
    }
    expect(() => absoluteDifference(i, a)).toThrow(/labels must be float32, got int32/);
    expect(() => huberLoss(a, a, null, 0)).toThrow(KilnError);
  });
});

describe('cross entropies from logits', () => {
  it('sigmoidCrossEntropy matches log(1 + e^-x) + (1 - z) x and is stable', () => {
    const g = new Graph();
    const x = [0.5, -1.2, 3, -100, 100];
    const z = [1, 0, 0.3, 1, 0];
    const want = x.map((xi, i) => (Math.abs(xi) > 50 ? Math.abs(xi) : Math.log1p(Math.exp(-xi)) + (1 - z[i]!) * xi));
    const lossNone = sigmoidCrossEntropy(g.constant(tensor(z)), g.constant(tensor(x)), null, 0, Reduction.NONE);
    expectClose(run(lossNone), want);
    const mean = want.reduce((s, v) => s + v, 0) / want.length;
    expectClose(run(losses.sigmoidCrossEntropy(g.constant(tensor(z)), g.constant(tensor(x)))), mean);
    // label smoothing 0.2: z -> z*0.8 + 0.1
    const zs = z.map((v) => v * 0.8 + 0.1);
    const wantS = x.map((xi, i) => Math.max(xi, 0) - xi * zs[i]! + Math.log1p(Math.exp(-Math.abs(xi))));
    expectClose(run(sigmoidCrossEntropy(g.constant(tensor(z)), g.constant(tensor(x)), null, 0.2, Reduction.NONE)), wantS);
  });

  it('softmaxCrossEntropy is -sum(labels * logSoftmax) per example, stable for large logits', () => {
    const g = new Graph();
    const logits = [
      [1, 2, 3],
      [1000, 0, -1000],
    ];
    const labels = [
      [0, 0, 1],
      [0.5, 0.5, 0],
    ];
    const per = logits.map((row, b) => row.reduce((s, v, c) => s - labels[b]![c]! * (v - logsumexp(row)), 0));
    const x = g.placeholder('float32', [null, 3], 'x');
    expectClose(run(softmaxCrossEntropy(g.constant(tensor(labels)), x, null, 0, Reduction.NONE), { x: tensor(logits) }), per);
    expectClose(run(softmaxCrossEntropy(g.constant(tensor(labels)), x), { x: tensor(logits) }), (per[0]! + per[1]!) / 2);
    // label smoothing 0.3 over 3 classes: labels*0.7 + 0.1
    const sm = labels.map((r) => r.map((v) => v * 0.7 + 0.1));
    const perS = logits.map((row, b) => row.reduce((s, v, c) => s - sm[b]![c]! * (v - logsumexp(row)), 0));
    expectClose(run(softmaxCrossEntropy(g.constant(tensor(labels)), x, null, 0.3, Reduction.NONE), { x: tensor(logits) }), perS);
  });

  it('sparseSoftmaxCrossEntropy equals softmaxCrossEntropy with one-hot labels', () => {
    const g = new Graph();
    const logits = [
      [0.2, -1, 2, 0.5],
      [3, 1, 0, -2],
      [0, 0, 0, 0],
    ];
    const cls = [2, 0, 3];
    const want = logits.map((row, b) => logsumexp(row) - row[cls[b]!]!);
    const x = g.placeholder('float32', [null, 4], 'x');
    const y = g.placeholder('int32', [null], 'y');
    const feeds = { x: tensor(logits), y: tensor(cls, [3], 'int32') };
    expectClose(run(sparseSoftmaxCrossEntropy(y, x, null, Reduction.NONE), feeds), want);
    expectClose(run(sparseSoftmaxCrossEntropy(y, x), feeds), want.reduce((s, v) => s + v, 0) / 3);
    expect(() => sparseSoftmaxCrossEntropy(x, x)).toThrow(/labels must be int32/);
    expect(() => sparseSoftmaxCrossEntropy(g.placeholder('int32', [null, 4]), x)).toThrow(/labels must have shape \[\?\]/);
  });

  it('has the gradient (softmax - labels) / batch', () => {
    const g = new Graph();
    const logits = [
      [1, 2, 3],
      [0.5, 0.5, -1],
    ];
    const labels = [
      [0, 1, 0],
      [1, 0, 0],
    ];
    const x = g.placeholder('float32', [2, 3], 'x');
    const [dx] = gradients(softmaxCrossEntropy(g.constant(tensor(labels)), x), [x]);
    const want = logits.flatMap((row, b) => row.map((v, c) => (Math.exp(v - logsumexp(row)) - labels[b]![c]!) / 2));
    expectClose(run(dx!, { x: tensor(logits) }), want);
    // sigmoid: (sigmoid(x) - z) / n
    const z = [1, 0, 1];
    const xv = [0.3, -2, 4];
    const s = g.placeholder('float32', [3], 's');
    const [ds] = gradients(sigmoidCrossEntropy(g.constant(tensor(z)), s), [s]);
    expectClose(
      run(ds!, { s: tensor(xv) }),
      xv.map((v, i) => (1 / (1 + Math.exp(-v)) - z[i]!) / 3),
    );
  });
});
