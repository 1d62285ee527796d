/**
 * Fast 2-D pooling over NHWC float32, written straight into the output: maxPool, avgPool,
 * maxPoolGrad, avgPoolGrad and maxPoolGradGrad. Geometry comes from geometry2D (the same
 * function the reference kernel uses), so 'same'/'valid'/explicit padding, dilations and
 * dimRoundingMode agree by construction. Per dim, the window taps that land inside the input
 * form one contiguous range, computed once per output row/column; per output pixel the
 * window's input pixels are listed once, then every channel reduces over them (channels are
 * contiguous in NHWC; full 2x2 windows, the common case, are unrolled).
 * Semantics follow the reference: the first maximum in row-major window order wins (a NaN
 * beats any number), an empty window gives 0, sums are float64. Gradients scatter into the
 * output directly when windows cannot overlap (stride >= window extent) and through a
 * float64 accumulator otherwise, rounded once as the reference does.
 */
import { type Attrs, type Geometry2D, type Tensor, geometry2D } from '@kiln/graph';
import type { CpuKernel } from './cpu-kernel.js';
import { scratch64, scratchI32 } from './scratch.js';

/** For one spatial dim: per output index, the range [start, end) of taps inside the input and the taps inside the padded input. */
interface Taps {
  start: Int32Array;
  end: Int32Array;
  padded: Int32Array;
}

function tapsOf(out: number, inSize: number, k: number, stride: number, dilation: number, before: number, after: number): Taps {
  const t: Taps = { start: new Int32Array(out), end: new Int32Array(out), padded: new Int32Array(out) };
  for (let o = 0; o < out; o++) {
    const base = o * stride - before;
    let first = -1;
    let last = -1;
    let padded = 0;
    for (let kk = 0; kk < k; kk++) {
      const i = base + kk * dilation;
      if (i >= -before && i < inSize + after) padded++;
      if (i >= 0 && i < inSize) {
        if (first < 0) first = kk;
        last = kk;
      }
    }
    t.start[o] = first < 0 ? 0 : first;
    t.end[o] = first < 0 ? 0 : last + 1;
    t.padded[o] = padded;
  }
  return t;
}

interface Pool {
  g: Geometry2D;
  c: number;
  h: Taps;
  w: Taps;
  /** Whether two windows can share an input pixel. */
  overlap: boolean;
  /** Input pixel offsets (times c) of the current window. */
  pix: Int32Array;
}

function setup(x: Tensor, attrs: Readonly<Attrs>, op: string): Pool | null {
  if (x.dtype !== 'float32' || x.rank !== 4) return null;
  const fs = attrs.filterSize as number[];
  let g: Geometry2D;
  try {
    g = geometry2D(x.shape, fs[0]!, fs[1]!, attrs as Attrs, op);
  } catch {
    return null; // the reference kernel reports it
  }
  const h = tapsOf(g.outH, g.inH, g.kH, g.strideH, g.dilationH, g.padTop, g.padBottom);
  const w = tapsOf(g.outW, g.inW, g.kW, g.strideW, g.dilationW, g.padLeft, g.padRight);
  const overlap = g.strideH < (g.kH - 1) * g.dilationH + 1 || g.strideW < (g.kW - 1) * g.dilationW + 1;
  return { g, c: x.shape[3]!, h, w, overlap, pix: scratchI32(0, g.kH * g.kW) };
}

function isPoolOutput(t: Tensor, p: Pool): boolean {
  const s = t.shape;
  return t.dtype === 'float32' && t.rank === 4 && s[0] === p.g.batch && s[1] === p.g.outH && s[2] === p.g.outW && s[3] === p.c;
}

/** Setup shared by maxPool and avgPool: checks x and the output; null when not handled. */
function forwardSetup(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>, op: string): Pool | null {
  const p = setup(inputs[0]!, attrs, op);
  return p && isPoolOutput(outputs[0]!, p) ? p : null;
}

/** Lists the window's input pixel offsets (times c) into p.pix, row-major; returns how many. */
function windowPixels(p: Pool, n: number, oh: number, ow: number): number {
  const { g, c, pix } = p;
  const h0 = p.h.start[oh]!;
  const h1 = p.h.end[oh]!;
  const w0 = p.w.start[ow]!;
  const w1 = p.w.end[ow]!;
  const ihBase = oh * g.strideH - g.padTop;
  const iwBase = ow * g.strideW - g.padLeft;
  let cnt = 0;
  for (let kh = h0; kh < h1; kh++) {
    const row = (n * g.inH + ihBase + kh * g.dilationH) * g.inW + iwBase;
    for (let kw = w0; kw < w1; kw++) pix[cnt++] = (row + kw * g.dilationW) * c;
  }
  return cnt;
}

/** Per channel, the x index of the window's first maximum into `best` (cnt > 0). */
function argMaxWindow(X: Float32Array, pix: Int32Array, cnt: number, c: number, best: Int32Array, bestV: Float64Array): void {
  const p0 = pix[0]!;
  for (let ch = 0; ch < c; ch++) {
    bestV[ch] = X[p0 + ch]!;
    best[ch] = p0 + ch;
  }
  for (let t = 1; t < cnt; t++) {
    const p = pix[t]!;
    for (let ch = 0; ch < c; ch++) {
      const v = X[p + ch]!;
      const m = bestV[ch]!;
      if (v > m || (v !== v && m === m)) {
        bestV[ch] = v;
        best[ch] = p + ch;
      }
    }
  }
}

function maxPool(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>): boolean {
  const p = forwardSetup(inputs, outputs, attrs, 'maxPool');
  if (!p) return false;
  const X = inputs[0]!.data as Float32Array;
  const Y = outputs[0]!.data as Float32Array;
  const { g, c, pix } = p;
  let yo = 0;
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++, yo += c) {
        const cnt = windowPixels(p, n, oh, ow);
        if (cnt === 0) {
          Y.fill(0, yo, yo + c);
          continue;
        }
        if (cnt === 4) {
          // 2x2 windows (the common case) with the taps held in locals.
          const p0 = pix[0]!;
          const p1 = pix[1]!;
          const p2 = pix[2]!;
          const p3 = pix[3]!;
          for (let ch = 0; ch < c; ch++) {
            let m = X[p0 + ch]!;
            let v = X[p1 + ch]!;
            if (v > m || (v !== v && m === m)) m = v;
            v = X[p2 + ch]!;
            if (v > m || (v !== v && m === m)) m = v;
            v = X[p3 + ch]!;
            if (v > m || (v !== v && m === m)) m = v;
            Y[yo + ch] = m;
          }
          continue;
        }
        for (let ch = 0; ch < c; ch++) {
          let m = X[pix[0]! + ch]!;
          for (let t = 1; t < cnt; t++) {
            const v = X[pix[t]! + ch]!;
            if (v > m || (v !== v && m === m)) m = v;
          }
          Y[yo + ch] = m;
        }
      }
    }
  }
  return true;
}

/** The divisor of avgPool for the window at (oh, ow) with cnt input pixels. */
function divisor(p: Pool, attrs: Readonly<Attrs>, cnt: number, oh: number, ow: number): number {
  return attrs.countIncludePad === true ? p.h.padded[oh]! * p.w.padded[ow]! : cnt;
}

function avgPool(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>): boolean {
  const p = forwardSetup(inputs, outputs, attrs, 'avgPool');
  if (!p) return false;
  const X = inputs[0]!.data as Float32Array;
  const Y = outputs[0]!.data as Float32Array;
  const { g, c, pix } = p;
  const acc = scratch64(0, c);
  let yo = 0;
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++, yo += c) {
        const cnt = windowPixels(p, n, oh, ow);
        const count = divisor(p, attrs, cnt, oh, ow);
        if (count === 0) {
          Y.fill(0, yo, yo + c);
          continue;
        }
        acc.fill(0, 0, c);
        for (let t = 0; t < cnt; t++) {
          const q = pix[t]!;
          for (let ch = 0; ch < c; ch++) acc[ch]! += X[q + ch]!;
        }
        for (let ch = 0; ch < c; ch++) Y[yo + ch] = acc[ch]! / count;
      }
    }
  }
  return true;
}

/** Setup shared by the gradients: checks x, the second operand's shape and the output; null when not handled. */
function gradSetup(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>, op: string, secondIsDy: boolean): Pool | null {
  const [x, second] = inputs as [Tensor, Tensor];
  const p = setup(x, attrs, op);
  if (!p) return null;
  const out = outputs[0]!;
  if (secondIsDy) {
    if (!isPoolOutput(second, p) || out.dtype !== 'float32' || out.size !== x.size) return null;
  } else {
    const same = second.dtype === 'float32' && second.rank === 4 && second.shape.every((d, i) => d === x.shape[i]);
    if (!same || !isPoolOutput(out, p)) return null;
  }
  return p;
}

/**
 * Where a gradient scatters: dx itself (zeroed) when windows cannot overlap, so each element
 * gets at most one contribution; else a zeroed float64 accumulator that finishGrad rounds into dx.
 */
function gradAccumulator(p: Pool, DX: Float32Array): Float32Array | Float64Array {
  if (!p.overlap) return DX.fill(0);
  return scratch64(1, DX.length).fill(0, 0, DX.length);
}

function finishGrad(acc: Float32Array | Float64Array, DX: Float32Array): void {
  if (acc !== DX) DX.set(acc.subarray(0, DX.length));
}

/**
 * maxPoolGrad (dy scattered to each window's first maximum in x) and maxPoolGradGrad (the
 * incoming gradient g, shaped like x, gathered from there): the same windows and argmax.
 */
function maxPoolArgGrad(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>, op: 'maxPoolGrad' | 'maxPoolGradGrad'): boolean {
  const scatter = op === 'maxPoolGrad';
  const p = gradSetup(inputs, outputs, attrs, op, scatter);
  if (!p) return false;
  const X = inputs[0]!.data as Float32Array;
  const V = inputs[1]!.data as Float32Array; // dy (scatter) or g (gather)
  const OUT = outputs[0]!.data as Float32Array;
  const { g, c, pix } = p;
  const best = scratchI32(1, c);
  const bestV = scratch64(0, c);
  const acc = scatter ? gradAccumulator(p, OUT) : OUT;
  let yo = 0;
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++, yo += c) {
        const cnt = windowPixels(p, n, oh, ow);
        if (cnt === 0) {
          if (!scatter) OUT.fill(0, yo, yo + c);
          continue;
        }
        argMaxWindow(X, pix, cnt, c, best, bestV);
        if (scatter) for (let ch = 0; ch < c; ch++) acc[best[ch]!]! += V[yo + ch]!;
        else for (let ch = 0; ch < c; ch++) OUT[yo + ch] = V[best[ch]!]!;
      }
    }
  }
  if (scatter) finishGrad(acc, OUT);
  return true;
}

function avgPoolGrad(inputs: Tensor[], outputs: Tensor[], attrs: Readonly<Attrs>): boolean {
  const p = gradSetup(inputs, outputs, attrs, 'avgPoolGrad', true);
  if (!p) return false;
  const DY = inputs[1]!.data as Float32Array;
  const DX = outputs[0]!.data as Float32Array;
  const { g, c, pix } = p;
  const share = scratch64(0, c);
  const acc = gradAccumulator(p, DX);
  let yo = 0;
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++, yo += c) {
        const cnt = windowPixels(p, n, oh, ow);
        const count = divisor(p, attrs, cnt, oh, ow);
        if (count === 0) continue;
        for (let ch = 0; ch < c; ch++) share[ch] = DY[yo + ch]! / count;
        for (let t = 0; t < cnt; t++) {
          const q = pix[t]!;
          for (let ch = 0; ch < c; ch++) acc[q + ch]! += share[ch]!;
        }
      }
    }
  }
  finishGrad(acc, DX);
  return true;
}

export const poolKernels: Readonly<Record<string, CpuKernel>> = {
  maxPool,
  avgPool,
  maxPoolGrad: (inputs, outputs, attrs) => maxPoolArgGrad(inputs, outputs, attrs, 'maxPoolGrad'),
  avgPoolGrad,
  maxPoolGradGrad: (inputs, outputs, attrs) => maxPoolArgGrad(inputs, outputs, attrs, 'maxPoolGradGrad'),
};
