/**
 * maxPool and avgPool forward (NHWC float32) as SIMD loops on GemmEngine: the kernel's
 * `pool2d` export (gemm.wat) reduces, per output pixel, the window's in-bounds taps four
 * channels at a time (channels are contiguous), with a scalar tail for C % 4. Semantics match
 * the reference kernels bit for bit: max keeps the first maximum (or first NaN) in row-major
 * window order (a compare + select, not f32x4.max); avg sums in float64 in window order and
 * divides once by the in-bounds taps, or, with countIncludePad, by the taps inside the padded
 * input; a window with no in-bounds tap gives 0. Output rows (n, oh) are split across the
 * engine's threads.
 */
import { type Geometry2D, KilnError, fmtShape } from '@kiln/graph';
import type { GemmEngine } from './gemm-engine.js';

export type PoolMode = 'max' | 'avg';

export interface Pool2dParams {
  mode: PoolMode;
  /** avgPool only: divide by the taps inside the padded input (ONNX count_include_pad). */
  countIncludePad?: boolean;
  /** Byte offsets in engine.memory of x [batch, inH, inW, c] and the output [batch, outH, outW, c] (overwritten). */
  x: number;
  out: number;
  /** Channels. */
  c: number;
  /** The window (geometry2D of the op's input shape, filterSize and attrs). */
  geometry: Geometry2D;
  /** At most this many threads (default: all of the engine's). */
  threads?: number;
}

const MODE_MAX = 0;
const MODE_AVG = 1;
const MODE_AVG_INCLUDE_PAD = 2;

function check(p: Pool2dParams): void {
  const g = p.geometry;
  const ints: [string, number, number][] = [
    ['c', p.c, 0],
    ['batch', g.batch, 0],
    ['inH', g.inH, 0],
    ['inW', g.inW, 0],
    ['kH', g.kH, 1],
    ['kW', g.kW, 1],
    ['outH', g.outH, 0],
    ['outW', g.outW, 0],
    ['strideH', g.strideH, 1],
    ['strideW', g.strideW, 1],
    ['dilationH', g.dilationH, 1],
    ['dilationW', g.dilationW, 1],
    ['padTop', g.padTop, 0],
    ['padBottom', g.padBottom, 0],
    ['padLeft', g.padLeft, 0],
    ['padRight', g.padRight, 0],
  ];
  for (const [name, v, min] of ints) {
    if (!Number.isInteger(v) || v < min) {
      throw new KilnError(
        'INVALID_ARGUMENT',
        `pool2d: ${name} must be an integer >= ${min}, got ${String(v)} (x ${fmtShape([g.batch, g.inH, g.inW, p.c])}, window ${g.kH}x${g.kW})`,
      );
    }
  }
  if (p.mode !== 'max' && p.mode !== 'avg') throw new KilnError('INVALID_ARGUMENT', `pool2d: mode must be 'max' or 'avg', got ${String(p.mode)}`);
}

/** out = maxPool(x) or avgPool(x) over the window `geometry` describes. */
export function pool2d(engine: GemmEngine, p: Pool2dParams): void {
  check(p);
  const g = p.geometry;
  const n = g.batch * g.outH * g.outW * p.c;
  if (n === 0) return;
  engine.checkRange('pool2d: out', p.out, n * 4);
  engine.checkRange('pool2d: x', p.x, g.batch * g.inH * g.inW * p.c * 4);
  const mode = p.mode === 'max' ? MODE_MAX : p.countIncludePad === true ? MODE_AVG_INCLUDE_PAD : MODE_AVG;
  const args = [
    mode,
    p.x,
    p.out,
    g.inH,
    g.inW,
    p.c,
    g.kH,
    g.kW,
    g.strideH,
    g.strideW,
    g.dilationH,
    g.dilationW,
    g.padTop,
    g.padLeft,
    g.padBottom,
    g.padRight,
    g.outH,
    g.outW,
  ];
  engine.runRows('pool2d', g.batch * g.outH, args, { work: n * g.kH * g.kW, threads: p.threads });
}
