/**
 * conv2dGemm (im2col row blocks + GemmEngine) against a direct NHWC/HWIO convolution loop in
 * float64: strides 1 and 2, dilation 2, 'same' and 'valid' padding, 1x1 convs (pointwise path
 * and strided), several channel counts, batch 2, small scratch forcing many row blocks, and
 * 2 threads. Tolerance: |out - ref| <= 1e-5 + 1e-4 * |ref|.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KilnError } from '@kiln/graph';
import { GemmEngine, conv2dGemm, conv2dScratchBytes } from '../src/compiled/wasm/index.js';
import { type Shape4, centeredRandom, closeEngines, expectAllClose, fillRandom, openEngines, scratchFor } from './wasm-test-helpers.js';

interface ConvCase {
  x: Shape4;
  f: Shape4;
  s: [number, number];
  d: [number, number];
  padding: 'same' | 'valid';
  scratchRows?: number; // force a small im2col workspace
}

/** TensorFlow's output size and top/left padding for one spatial dim. */
function geometry(size: number, k: number, s: number, d: number, padding: 'same' | 'valid'): [number, number] {
  const ek = (k - 1) * d + 1;
  if (padding === 'valid') return [Math.ceil((size - ek + 1) / s), 0];
  const out = Math.ceil(size / s);
  return [out, Math.floor(Math.max((out - 1) * s + ek - size, 0) / 2)];
}

function reference(X: Float32Array, F: Float32Array, c: ConvCase, o: Shape4, pt: number, pl: number): Float64Array {
  const [n, h, w, ci] = c.x;
  const [fh, fw, , co] = c.f;
  const [, oh, ow] = o;
  const out = new Float64Array(n * oh * ow * co);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++)
        for (let q = 0; q < co; q++) {
          let s = 0;
          for (let kh = 0; kh < fh; kh++) {
            const iy = y * c.s[0] - pt + kh * c.d[0];
            if (iy < 0 || iy >= h) continue;
            for (let kw = 0; kw < fw; kw++) {
              const ix = x * c.s[1] - pl + kw * c.d[1];
              if (ix < 0 || ix >= w) continue;
              for (let i = 0; i < ci; i++) s += X[((b * h + iy) * w + ix) * ci + i]! * F[((kh * fw + kw) * ci + i) * co + q]!;
            }
          }
          out[((b * oh + y) * ow + x) * co + q] = s;
        }
  return out;
}

function check(e: GemmEngine, c: ConvCase, seed: number): void {
  const r = centeredRandom(seed);
  const [oh, pt] = geometry(c.x[1], c.f[0], c.s[0], c.d[0], c.padding);
  const [ow, pl] = geometry(c.x[2], c.f[1], c.s[1], c.d[1], c.padding);
  const o: Shape4 = [c.x[0], oh, ow, c.f[3]];
  const size = (s: Shape4) => s[0] * s[1] * s[2] * s[3];
  const x = e.alloc(size(c.x) * 4);
  const f = e.alloc(size(c.f) * 4);
  const out = e.alloc(size(o) * 4);
  const X = e.f32(x, size(c.x));
  const F = e.f32(f, size(c.f));
  fillRandom(X, r);
  fillRandom(F, r);
  e.f32(out, size(o)).fill(Number.NaN); // every output must be written
  conv2dGemm(e, {
    x,
    xShape: c.x,
    filter: f,
    filterShape: c.f,
    out,
    outShape: o,
    strides: c.s,
    dilations: c.d,
    padTop: pt,
    padLeft: pl,
    ...scratchFor(e, conv2dScratchBytes(c.x, c.f, o, c.s, c.d), c),
  });
  const what = `x[${c.x}] f[${c.f}] s[${c.s}] d[${c.d}] ${c.padding}`;
  expectAllClose(e.f32(out, size(o)), reference(X, F, c, o, pt, pl), 1e-5, 1e-4, what);
}

describe('conv2dGemm', () => {
  let e1: GemmEngine;
  let e2: GemmEngine;
  beforeAll(async () => ([e1, e2] = await openEngines()));
  afterAll(() => closeEngines(e1, e2));

  it('matches the direct loop for 3x3 filters: strides 1/2, dilation 2, same/valid, batch 2', () => {
    let seed = 1;
    for (const [ci, co] of [
      [1, 4],
      [3, 8],
      [8, 17],
      [17, 33],
    ] as const) {
      for (const padding of ['same', 'valid'] as const) {
        for (const [s, d] of [
          [
            [1, 1],
            [1, 1],
          ],
          [
            [2, 2],
            [1, 1],
          ],
          [
            [1, 1],
            [2, 2],
          ],
          [
            [2, 1],
            [1, 2],
          ],
        ] as const) {
          check(e1, { x: [2, 9, 11, ci], f: [3, 3, ci, co], s: [...s], d: [...d], padding }, seed++);
        }
      }
    }
  });

  it('handles 1x1 convs (no im2col at stride 1) and non-square filters', () => {
    check(e1, { x: [2, 7, 5, 16], f: [1, 1, 16, 24], s: [1, 1], d: [1, 1], padding: 'same' }, 3);
    expect(conv2dScratchBytes([2, 7, 5, 16], [1, 1, 16, 24], [2, 7, 5, 24], [1, 1], [1, 1])).toBe(0);
    check(e1, { x: [2, 8, 8, 5], f: [1, 1, 5, 7], s: [2, 2], d: [1, 1], padding: 'valid' }, 4);
    check(e1, { x: [2, 10, 6, 4], f: [5, 2, 4, 6], s: [1, 2], d: [1, 1], padding: 'same' }, 5);
    check(e1, { x: [1, 4, 4, 2], f: [5, 5, 2, 3], s: [1, 1], d: [1, 1], padding: 'same' }, 6); // filter > input
  });

  it('splits im2col into row blocks when scratch is small, on 1 and 2 threads', () => {
    check(e1, { x: [2, 9, 11, 6], f: [3, 3, 6, 10], s: [1, 1], d: [1, 1], padding: 'same', scratchRows: 7 }, 7);
    check(e2, { x: [2, 9, 11, 6], f: [3, 3, 6, 10], s: [1, 1], d: [1, 1], padding: 'same', scratchRows: 1 }, 8);
    check(e2, { x: [2, 28, 28, 16], f: [3, 3, 16, 32], s: [1, 1], d: [1, 1], padding: 'same' }, 9);
    check(e2, { x: [2, 14, 14, 32], f: [3, 3, 32, 64], s: [2, 2], d: [1, 1], padding: 'valid' }, 10);
  });

  it('bounds the scratch request by 4 MiB', () => {
    const bytes = conv2dScratchBytes([8, 64, 64, 64], [3, 3, 64, 64], [8, 64, 64, 64], [1, 1], [1, 1]);
    expect(bytes).toBeLessThanOrEqual(4 << 20);
    expect(bytes % (3 * 3 * 64 * 4)).toBe(0);
  });

  it('rejects mismatched channels and a scratch smaller than one row', () => {
    const p = {
      x: e1.alloc(4 * 16),
      xShape: [1, 2, 2, 4] as Shape4,
      filter: e1.alloc(4 * 36),
      filterShape: [3, 3, 4, 1] as Shape4,
      out: e1.alloc(16),
      outShape: [1, 2, 2, 1] as Shape4,
      strides: [1, 1] as [number, number],
      dilations: [1, 1] as [number, number],
      padTop: 1,
      padLeft: 1,
      scratch: e1.alloc(64),
      scratchBytes: 64,
    };
    expect(() => conv2dGemm(e1, { ...p, filterShape: [3, 3, 3, 1] })).toThrow(/input channels 4 != filter input channels 3/);
    expect(() => conv2dGemm(e1, p)).toThrow(KilnError);
    expect(() => conv2dGemm(e1, p)).toThrow(/at least 144 bytes \(one im2col row\), got offset \d+ with 64 bytes/);
    expect(() => conv2dGemm(e1, { ...p, scratch: e1.memory.buffer.byteLength - 64, scratchBytes: 1 << 20 })).toThrow(
      /conv2dGemm: scratch: bytes \[\d+, \d+\) must be 4-aligned and inside/,
    );
    expect(() => conv2dGemm(e1, { ...p, x: 0, scratchBytes: 144 })).toThrow(/conv2dGemm: x: bytes \[0, 64\)/);
  });
});
