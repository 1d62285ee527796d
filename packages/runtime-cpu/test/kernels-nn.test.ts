/**
 * Reference kernels of the conv, pool, normalization and random families against small
 * hand-computed cases. Tolerance: rtol 1e-4 / atol 1e-5 (toBeCloseTo-style check below),
 * except where a case says 1e-3 (convolutions, long reductions).
 */
import { describe, expect, it } from '@jest/globals';
import {
  Graph,
  type SymbolicTensor,
  Tensor,
  avgPool,
  avgPoolGrad,
  batchNorm,
  conv2d,
  conv2dBackpropInput,
  conv2dTranspose,
  depthwiseConv2d,
  dropout,
  layerNorm,
  logSoftmax,
  maxPool,
  maxPoolGrad,
  softmax,
  tensor,
} from '@kiln/graph';
import { evaluate } from '@kiln/runtime-cpu';

function close(got: Tensor, want: number[], shape: number[], rtol = 1e-4, atol = 1e-5): void {
  expect(got.shape).toEqual(shape);
  expect(got.dtype).toBe('float32');
  const bad = want.findIndex((w, i) => !(Math.abs(got.data[i]! - w) <= atol + rtol * Math.abs(w)));
  if (bad >= 0) throw new Error(`element ${bad}: got ${got.data[bad]}, want ${want[bad]} (all: ${Array.from(got.data).join(', ')})`);
}

function range(n: number, start = 1): number[] {
  return [...Array(n).keys()].map((i) => i + start);
}

/** Evaluates fn on placeholders fed with `inputs` (placeholder shapes may hold null). */
function run(inputs: { value: Tensor; shape?: (number | null)[] }[], fn: (...xs: SymbolicTensor[]) => SymbolicTensor): Tensor {
  const g = new Graph();
  const xs = inputs.map((inp, i) => g.placeholder('float32', inp.shape ?? inp.value.shape, `in${i}`));
  const feeds = Object.fromEntries(inputs.map((inp, i) => [`in${i}`, inp.value]));
  return evaluate([fn(...xs)], feeds)[0]!;
}

const x3 = tensor(range(9), [1, 3, 3, 1]);
const x4 = tensor(range(16), [1, 4, 4, 1]);

describe('conv2d kernel (atol/rtol 1e-3)', () => {
  const f2 = tensor([1, 2, 3, 4], [2, 2, 1, 1]);
  it('valid', () => {
    close(
      run([{ value: x3 }, { value: f2 }], (x, f) => conv2d(x!, f!, 1, 'valid')),
      [37, 47, 67, 77],
      [1, 2, 2, 1],
      1e-3,
      1e-3,
    );
  });
  it('same pads the bottom/right with the extra row (TF)', () => {
    const y = run([{ value: x3, shape: [null, 3, 3, 1] }, { value: f2 }], (x, f) => conv2d(x!, f!, 1, 'same'));
    close(y, [37, 47, 21, 67, 77, 33, 23, 26, 9], [1, 3, 3, 1], 1e-3, 1e-3);
  });
  it('stride 2 same', () => {
    const ones = tensor(Array(9).fill(1), [3, 3, 1, 1]);
    close(
      run([{ value: x4 }, { value: ones }], (x, f) => conv2d(x!, f!, 2, 'same')),
      [54, 45, 72, 54],
      [1, 2, 2, 1],
      1e-3,
      1e-3,
    );
  });
  it('dilation 2', () => {
    const ones = tensor([1, 1, 1, 1], [2, 2, 1, 1]);
    close(
      run([{ value: x3 }, { value: ones }], (x, f) => conv2d(x!, f!, 1, 'valid', 'NHWC', 2)),
      [20],
      [1, 1, 1, 1],
      1e-3,
      1e-3,
    );
  });
  it('explicit padding and several channels', () => {
    const x = tensor([1, 2], [1, 1, 1, 2]);
    const f = tensor([1, 2, 3, 4, 5, 6], [1, 1, 2, 3]);
    const y = run([{ value: x }, { value: f }], (a, b) =>
      conv2d(a!, b!, 1, [
        [0, 0],
        [1, 0],
        [0, 1],
        [0, 0],
      ]),
    );
    close(y, [0, 0, 0, 0, 0, 0, 9, 12, 15, 0, 0, 0], [1, 2, 2, 3], 1e-3, 1e-3);
  });
  it('takes a rank-3 x as one image', () => {
    close(
      run([{ value: x3.reshape([3, 3, 1]) }, { value: f2 }], (x, f) => conv2d(x!, f!, 1, 'valid')),
      [37, 47, 67, 77],
      [2, 2, 1],
      1e-3,
      1e-3,
    );
  });
  it('matches a direct evaluation of the definition (batch 2, channels, stride, dilation, padding)', () => {
    const [n, h, w, c, kh, kw, o] = [2, 6, 5, 3, 3, 2, 4];
    const x = tensor(
      range(n * h * w * c).map((v) => Math.sin(v)),
      [n, h, w, c],
    );
    const f = tensor(
      range(kh * kw * c * o).map((v) => Math.cos(v)),
      [kh, kw, c, o],
    );
    const [sh, sw, dh, dw, pt, pl] = [2, 1, 1, 2, 1, 2];
    const y = run([{ value: x, shape: [null, h, w, c] }, { value: f }], (a, b) =>
      conv2d(
        a!,
        b!,
        [sh, sw],
        [
          [0, 0],
          [pt, 0],
          [pl, 1],
          [0, 0],
        ],
        'NHWC',
        [dh, dw],
      ),
    );
    const [oh, ow] = [Math.floor((h + pt - (kh - 1) * dh - 1) / sh) + 1, Math.floor((w + pl + 1 - (kw - 1) * dw - 1) / sw) + 1];
    const at = (t: Tensor, i: number[]) => {
      const s = t.shape;
      return t.data[((i[0]! * s[1]! + i[1]!) * s[2]! + i[2]!) * s[3]! + i[3]!]!;
    };
    const want: number[] = [];
    for (let b = 0; b < n; b++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++)
          for (let q = 0; q < o; q++) {
            let acc = 0;
            for (let u = 0; u < kh; u++)
              for (let v = 0; v < kw; v++)
                for (let p = 0; p < c; p++) {
                  const [r, col] = [i * sh + u * dh - pt, j * sw + v * dw - pl];
                  if (r >= 0 && r < h && col >= 0 && col < w) acc += at(x, [b, r, col, p]) * at(f, [u, v, p, q]);
                }
            want.push(acc);
          }
    close(y, want, [n, oh, ow, o], 1e-3, 1e-3);
  });
  it('reports a run-time channel mismatch (null channels at build time)', () => {
    expect(() => run([{ value: x3, shape: [null, 3, 3, null] }, { value: tensor([1, 2], [1, 1, 2, 1]) }], (x, f) => conv2d(x!, f!, 1, 'valid'))).toThrow(
      /filter has 2 input channels but x has 1/,
    );
  });
});

describe('depthwise and transposed conv kernels (atol/rtol 1e-3)', () => {
  it('depthwiseConv2d maps channel c, multiplier m to output c*M+m', () => {
    const x = tensor([1, 10, 2, 20], [1, 2, 1, 2]);
    const f = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    close(
      run([{ value: x }, { value: f }], (a, b) => depthwiseConv2d(a!, b!, 1, 'valid')),
      [1, 2, 30, 40, 2, 4, 60, 80],
      [1, 2, 1, 4],
      1e-3,
      1e-3,
    );
  });
  it('conv2dTranspose is the full correlation for stride 1 valid, and equals conv2dBackpropInput', () => {
    const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
    const ones = tensor([1, 1, 1, 1], [2, 2, 1, 1]);
    const y = run([{ value: x, shape: [null, 2, 2, 1] }, { value: ones }], (a, b) => conv2dTranspose(a!, b!, [null, 3, 3, 1], 1, 'valid'));
    close(y, [1, 3, 2, 4, 10, 6, 3, 7, 4], [1, 3, 3, 1], 1e-3, 1e-3);
    const f = tensor([1, -2, 3, 0.5, 2, 1, -1, 4], [2, 2, 2, 1]); // [h, w, out=2, in=1]
    const xs = tensor([0.5, -1, 2, 3, 1, -2, 0, 1, 4], [1, 3, 3, 1]);
    const t = run([{ value: xs }, { value: f }], (a, b) => conv2dTranspose(a!, b!, [1, 6, 6, 2], 2, 'same'));
    const bi = run([{ value: new Tensor('float32', [1, 6, 6, 2]) }, { value: f }, { value: xs }], (s, b, d) => conv2dBackpropInput(s!, b!, d!, 2, 'same'));
    close(t, Array.from(bi.data), [1, 6, 6, 2], 1e-3, 1e-3);
  });
});

describe('pool kernels', () => {
  it('maxPool 2x2 stride 2', () => {
    close(
      run([{ value: x4, shape: [null, 4, 4, 1] }], (x) => maxPool(x!, 2, 2, 'valid')),
      [6, 8, 14, 16],
      [1, 2, 2, 1],
    );
  });
  it('pools a rank-3 x as one image', () => {
    close(
      run([{ value: x4.reshape([4, 4, 1]) }], (x) => avgPool(x!, 2, 2, 'valid')),
      [3.5, 5.5, 11.5, 13.5],
      [2, 2, 1],
    );
  });
  it('maxPool ceil mode and dilations', () => {
    close(
      run([{ value: x3 }], (x) => maxPool(x!, 2, 2, 0, 'ceil')),
      [5, 6, 8, 9],
      [1, 2, 2, 1],
    );
    close(
      run([{ value: x3 }], (x) => maxPool(x!, 2, 2, 0)),
      [5],
      [1, 1, 1, 1],
    );
    const p = tensor([3, 1, 4, 1, 5, 9, 2, 6, 5], [1, 3, 3, 1]);
    close(
      run([{ value: p }], (x) => maxPool(x!, 2, 1, 'valid', undefined, { dilations: 2 })),
      [5],
      [1, 1, 1, 1],
    );
  });
  it('maxPool ignores padding (negative inputs stay negative)', () => {
    const n = tensor([-1, -2, -3, -4], [1, 2, 2, 1]);
    close(
      run([{ value: n }], (x) => maxPool(x!, 2, 1, 'same')),
      [-1, -2, -3, -4],
      [1, 2, 2, 1],
    );
  });
  it('avgPool same counts only input elements', () => {
    const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
    close(
      run([{ value: x }], (a) => avgPool(a!, 2, 1, 'same')),
      [2.5, 3, 3.5, 4],
      [1, 2, 2, 1],
    );
  });
  it('avgPool explicit padding with and without countIncludePad', () => {
    const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
    close(
      run([{ value: x }], (a) => avgPool(a!, 2, 1, 1)),
      [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4],
      [1, 3, 3, 1],
    );
    close(
      run([{ value: x }], (a) => avgPool(a!, 2, 1, 1, undefined, { countIncludePad: true })),
      [0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1],
      [1, 3, 3, 1],
    );
  });
  it('avgPool ceil mode with countIncludePad divides by taps inside the padded input only', () => {
    // x 1x3, window 1x2, stride 2, no padding, ceil: windows [1,2] and [3] (the tap past the input is not padding).
    const x = tensor([1, 2, 3], [1, 1, 3, 1]);
    close(
      run([{ value: x }], (a) => avgPool(a!, [1, 2], 2, 0, 'ceil', { countIncludePad: true })),
      [1.5, 3],
      [1, 1, 2, 1],
    );
  });
  it('maxPoolGrad routes dy to the first maximum of each window', () => {
    const x = tensor([2, 1, 2, 3, 0, 3, 1, 0], [1, 2, 2, 2]);
    const dy = tensor([5, 7], [1, 1, 1, 2]);
    close(
      run([{ value: x }, { value: dy }], (a, d) => maxPoolGrad(a!, d!, 2, 2, 'valid')),
      [5, 0, 0, 7, 0, 0, 0, 0],
      [1, 2, 2, 2],
    );
  });
  it('maxPoolGrad accumulates where windows overlap', () => {
    const x = tensor([1, 9, 2], [1, 1, 3, 1]);
    const dy = tensor([1, 2], [1, 1, 2, 1]);
    close(
      run([{ value: x }, { value: dy }], (a, d) => maxPoolGrad(a!, d!, [1, 2], 1, 'valid')),
      [0, 3, 0],
      [1, 1, 3, 1],
    );
  });
  it('avgPoolGrad spreads dy over the counted elements', () => {
    const x = new Tensor('float32', [1, 2, 2, 1]);
    const dy = tensor([4, 6, 8, 10], [1, 2, 2, 1]);
    close(
      run([{ value: x }, { value: dy }], (a, d) => avgPoolGrad(a!, d!, 2, 1, 'same')),
      [1, 4, 5, 18],
      [1, 2, 2, 1],
    );
  });
});

describe('normalization kernels', () => {
  it('softmax rows sum to 1 and match the formula, also for large logits', () => {
    const x = tensor([
      [1, 2, 3],
      [1000, 1001, 1002],
      [-5, 0, 5],
    ]);
    const y = run([{ value: x, shape: [null, 3] }], (a) => softmax(a!));
    const row = (e: number[]) => e.map((v) => v / (e[0]! + e[1]! + e[2]!));
    const r1 = row([Math.exp(-2), Math.exp(-1), 1]);
    close(y, [...r1, ...r1, ...row([Math.exp(-10), Math.exp(-5), 1])], [3, 3]);
    for (let r = 0; r < 3; r++) expect(y.data[3 * r]! + y.data[3 * r + 1]! + y.data[3 * r + 2]!).toBeCloseTo(1, 5);
  });
  it('softmax and logSoftmax along axis 0', () => {
    const x = tensor([
      [0, 1],
      [Math.log(3), 1],
    ]);
    close(
      run([{ value: x }], (a) => softmax(a!, 0)),
      [0.25, 0.5, 0.75, 0.5],
      [2, 2],
    );
    close(
      run([{ value: x }], (a) => logSoftmax(a!, 0)),
      [Math.log(0.25), Math.log(0.5), Math.log(0.75), Math.log(0.5)],
      [2, 2],
    );
  });
  it('logSoftmax is stable for large logits', () => {
    const y = run([{ value: tensor([[1000, 1000]]) }], (a) => logSoftmax(a!));
    close(y, [-Math.LN2, -Math.LN2], [1, 2]);
  });
  it('batchNorm matches (x - mean) / sqrt(var + eps) * scale + offset, broadcasting the last axis', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ]);
    const mean = tensor([2, 3]);
    const variance = tensor([1, 4]);
    const offset = tensor([0.5, -0.5]);
    const scale = tensor([2, 3]);
    const eps = 0.001;
    const want = [
      ((1 - 2) / Math.sqrt(1 + eps)) * 2 + 0.5,
      ((2 - 3) / Math.sqrt(4 + eps)) * 3 - 0.5,
      ((3 - 2) / Math.sqrt(1 + eps)) * 2 + 0.5,
      ((4 - 3) / Math.sqrt(4 + eps)) * 3 - 0.5,
    ];
    const ins = [x, mean, variance, offset, scale].map((value) => ({ value }));
    close(
      run(ins, (a, m, v, o, s) => batchNorm(a!, m!, v!, o!, s!)),
      want,
      [2, 2],
    );
    const noAffine = run(ins.slice(0, 3), (a, m, v) => batchNorm(a!, m!, v!, undefined, undefined, 0));
    close(noAffine, [-1, -0.5, 1, 0.5], [2, 2]);
  });
  it('layerNorm normalizes over the trailing axes with biased variance', () => {
    const x = tensor([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [0, 0],
        [0, 8],
      ],
    ]);
    const inv = (v: number) => 1 / Math.sqrt(v + 1e-3);
    // axis 1 -> axes [1, 2]: group 1 mean 2.5 var 1.25; group 2 mean 2 var 12.
    const want = [1, 2, 3, 4].map((v) => (v - 2.5) * inv(1.25)).concat([0, 0, 0, 8].map((v) => (v - 2) * inv(12)));
    close(
      run([{ value: x, shape: [null, 2, 2] }], (a) => layerNorm(a!, null, null, 1)),
      want,
      [2, 2, 2],
    );
    // last axis only, with scale and offset.
    const scale = tensor([2, 0.5]);
    const offset = tensor([1, -1]);
    const x2 = tensor([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [2, 0],
        [0, 8],
      ],
    ]);
    const last = run([{ value: x2 }, { value: scale }, { value: offset }], (a, s, o) => layerNorm(a!, s!, o!, -1, 0));
    close(last, [-1, -0.5, -1, -0.5, 3, -1.5, -1, -0.5], [2, 2, 2]);
    // an explicit axis list: axis 1 only.
    const mid = run([{ value: x2 }], (a) => layerNorm(a!, null, null, [1], 0));
    close(mid, [-1, -1, 1, 1, 1, -1, -1, 1], [2, 2, 2]);
  });
});

describe('dropout kernel', () => {
  const ones = new Tensor('float32', [20, 50], new Float32Array(1000).fill(1));
  it('keeps about 1 - rate of the elements, scaled by 1 / (1 - rate), and outputs the mask', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 50], 'x');
    const y = dropout(x, 0.25);
    const [yv, mask] = evaluate(y.node.outputs, { x: ones });
    const kept = Array.from(yv!.data).filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
    expect(kept.length).toBeGreaterThan(650);
    expect(kept.length).toBeLessThan(850);
    expect(Array.from(mask!.data)).toEqual(Array.from(yv!.data));
  });
  it('masks x exactly, also where x is 0', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [4, 4], 'x');
    const y = dropout(x, 0.5);
    const xv = tensor([0, 1, -2, 3, 0, 5, 6, -7, 8, 0, 1, 2, 3, 4, 5, 6], [4, 4]);
    const [yv, mask] = evaluate(y.node.outputs, { x: xv });
    for (let i = 0; i < 16; i++) expect(yv!.data[i]).toBe(Math.fround(xv.data[i]! * mask!.data[i]!));
    expect(Array.from(mask!.data).every((m) => m === 0 || m === 2)).toBe(true);
  });
  it('an explicit seed gives the same mask in every graph and run; a noiseShape of 1 shares draws', () => {
    const masks = [0, 1].map(() => {
      const g = new Graph();
      g.placeholder('float32', [1], 'unused');
      const x = g.placeholder('float32', [null, 50], 'x');
      return evaluate([dropout(x, 0.5, [null, 1], 42).node.outputs[1]!], { x: ones })[0]!;
    });
    expect(masks[0]!.shape).toEqual([20, 1]);
    expect(Array.from(masks[0]!.data)).toEqual(Array.from(masks[1]!.data));
    const g = new Graph();
    const x = g.placeholder('float32', [null, 50], 'x');
    const yv = evaluate([dropout(x, 0.5, [null, 1], 42)], { x: ones })[0]!;
    for (let r = 0; r < 20; r++) {
      const row = Array.from(yv.data.slice(r * 50, r * 50 + 50));
      expect(new Set(row).size).toBe(1);
      expect(row[0]).toBe(masks[0]!.data[r]);
    }
  });
  it('rate 0 keeps everything', () => {
    const y = run([{ value: ones }], (x) => dropout(x!, 0));
    expect(Array.from(y.data).every((v) => v === 1)).toBe(true);
  });
});
