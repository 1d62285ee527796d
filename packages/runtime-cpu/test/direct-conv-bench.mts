/**
 * Direct conv and WASM pooling timings (not a test) on the CNN's inference shapes (batch 64):
 * conv 5x5 'same' x [64,28,28,1] -> 32 (the first layer) and x [64,14,14,32] -> 64, im2col +
 * GEMM (conv2d.ts) vs the direct loop (direct-conv.ts); maxPool 2x2 stride 2 on [64,28,28,32]
 * and [64,14,14,64], the fast JS kernel (fast/pool.ts) vs pool2d (pool.ts). Medians of many
 * runs after a warm-up (the machine is shared).
 *   node --conditions=source --import tsx packages/runtime-cpu/test/direct-conv-bench.mts [threads] [runs]
 */
import { Tensor, geometry2D } from '@kiln/graph';
import { GemmEngine, conv2dGemm, conv2dScratchBytes } from '../src/compiled/wasm/index.js';
import { directConv2d } from '../src/compiled/wasm/direct-conv.js';
import { pool2d } from '../src/compiled/wasm/pool.js';
import { poolKernels } from '../src/compiled/fast/pool.js';

type Shape4 = [number, number, number, number];
const threads = Number(process.argv[2] ?? 2);
const runs = Number(process.argv[3] ?? 41);
const e = await GemmEngine.create({ threads });

function randInto(at: number, n: number): void {
  const v = e.f32(at, n);
  for (let i = 0; i < n; i++) v[i] = Math.random() - 0.5;
}

/** [median, min] milliseconds; the two variants alternate run by run, so load spikes hit both. */
function timeBoth(a: () => void, b: () => void): [number, number][] {
  for (let i = 0; i < 3; i++) (a(), b());
  const ts: number[][] = [[], []];
  for (let i = 0; i < runs; i++) {
    [a, b].forEach((fn, j) => {
      const t = performance.now();
      fn();
      ts[j]!.push(performance.now() - t);
    });
  }
  return ts.map((t) => {
    t.sort((u, v) => u - v);
    return [t[t.length >> 1]!, t[0]!] as [number, number];
  });
}

const ms = ([med, min]: [number, number]) => `${med.toFixed(2).padStart(7)} ms (min ${min.toFixed(2).padStart(6)})`;
function row(name: string, before: () => void, after: () => void, flop?: number): void {
  const [b, a] = timeBoth(before, after);
  console.log(
    `${name.padEnd(40)} before ${ms(b!)}   after ${ms(a!)}   x${(b![0] / a![0]).toFixed(1)}` +
      (flop ? `   ${(flop / a![0] / 1e6).toFixed(1)} GFLOP/s` : ''),
  );
}

console.log(`threads ${threads}, median of ${runs}`);
/** The CNN's two convs and an RGB stem; with argument 'more', wider convs (for the direct-vs-GEMM threshold). */
const CNN: [Shape4, Shape4][] = [[[64, 28, 28, 1], [5, 5, 1, 32]], [[64, 14, 14, 32], [5, 5, 32, 64]], [[64, 28, 28, 3], [3, 3, 3, 16]]];
const MORE: [Shape4, Shape4][] = [
  [[8, 56, 56, 8], [3, 3, 8, 32]], [[8, 56, 56, 16], [3, 3, 16, 32]], [[64, 14, 14, 64], [3, 3, 64, 64]], [[16, 7, 7, 128], [3, 3, 128, 128]],
];
const attrs = { strides: [1, 1], dilations: [1, 1], pad: 'same', explicitPaddings: [] };
for (const [xs, fs] of (process.argv[4] === 'more' ? MORE : CNN) as [Shape4, Shape4][]) {
  const g = geometry2D(xs, fs[0], fs[1], attrs, 'bench');
  const ys: Shape4 = [xs[0], g.outH, g.outW, fs[3]];
  const xo = e.alloc(xs.reduce((a, b) => a * b) * 4);
  const fo = e.alloc(fs.reduce((a, b) => a * b) * 4);
  const out = e.alloc(ys.reduce((a, b) => a * b) * 4);
  randInto(xo, xs.reduce((a, b) => a * b));
  randInto(fo, fs.reduce((a, b) => a * b));
  const w = { strides: [1, 1] as [number, number], dilations: [1, 1] as [number, number], padTop: g.padTop, padLeft: g.padLeft };
  const scratchBytes = conv2dScratchBytes(xs, fs, ys, w.strides, w.dilations);
  const scratch = e.alloc(scratchBytes);
  const p = { x: xo, xShape: xs, filter: fo, filterShape: fs, out, outShape: ys, ...w };
  const flop = 2 * ys[0] * ys[1] * ys[2] * ys[3] * fs[0] * fs[1] * fs[2];
  row(`conv2d x[${xs}] f[${fs}]`, () => conv2dGemm(e, { ...p, scratch, scratchBytes }), () => directConv2d(e, p), flop);
}

const fastMax = poolKernels.maxPool!;
for (const xs of [[64, 28, 28, 32], [64, 14, 14, 64]] as Shape4[]) {
  const pattrs = { filterSize: [2, 2], strides: [2, 2], dilations: [1, 1], pad: 'valid', explicitPaddings: [] };
  const g = geometry2D(xs, 2, 2, pattrs, 'bench');
  const n = xs.reduce((a, b) => a * b);
  const ys = [xs[0], g.outH, g.outW, xs[3]];
  const xo = e.alloc(n * 4);
  randInto(xo, n);
  const out = e.alloc(ys.reduce((a, b) => a * b) * 4);
  const x = new Tensor('float32', xs, e.f32(xo, n));
  const y = new Tensor('float32', ys, new Float32Array(ys.reduce((a, b) => a * b)));
  row(
    `maxPool 2x2/2 x[${xs}]`,
    () => fastMax([x], [y], pattrs),
    () => pool2d(e, { mode: 'max', x: xo, out, c: xs[3], geometry: g }),
  );
}
e.dispose();
