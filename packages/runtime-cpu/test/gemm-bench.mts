/**
 * GEMM throughput (not a test): GFLOP/s of GemmEngine for 1024^3 and the MLP shapes, all four
 * transpose combinations, with 1 and 2 threads. Best of several timed runs after a warm-up,
 * with the CPU seconds per wall second of that run (it shows when other processes competed).
 *   node --conditions=source --import tsx packages/runtime-cpu/test/gemm-bench.mts [threads...]
 */
import { GemmEngine } from '../src/compiled/wasm/index.js';

const shapes: [number, number, number][] = [
  [1024, 1024, 1024],
  [128, 784, 512],
  [128, 512, 256],
];

/** Best wall-clock GFLOP/s, and the process's CPU seconds per wall second in that run. */
function bench(e: GemmEngine, m: number, n: number, k: number, ta: boolean, tb: boolean): [number, number] {
  const a = e.alloc(m * k * 4);
  const b = e.alloc(k * n * 4);
  const c = e.alloc(m * n * 4);
  const A = e.f32(a, m * k);
  const B = e.f32(b, k * n);
  for (let i = 0; i < A.length; i++) A[i] = Math.random() - 0.5;
  for (let i = 0; i < B.length; i++) B[i] = Math.random() - 0.5;
  const args = {
    m, n, k, a, b, c, ldc: n,
    aRowStride: ta ? 1 : k, aColStride: ta ? m : 1,
    bRowStride: tb ? 1 : n, bColStride: tb ? k : 1,
  };
  const flops = 2 * m * n * k;
  const reps = Math.max(1, Math.round(3e9 / flops));
  let best = 0;
  let busy = 0;
  for (let r = 0; r < 6; r++) {
    const u0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) e.gemm(args);
    const s = (performance.now() - t0) / 1e3;
    const u = process.cpuUsage(u0);
    const g = (flops * reps) / s / 1e9;
    if (r > 0 && g > best) [best, busy] = [g, (u.user + u.system) / 1e6 / s];
  }
  return [best, busy];
}

const threadCounts = process.argv.slice(2).map(Number);
for (const threads of threadCounts.length ? threadCounts : [1, 2]) {
  const e = await GemmEngine.create({ threads });
  for (const [m, n, k] of shapes) {
    const combos: [boolean, boolean][] =
      m === 1024 ? [[false, false]] : [[false, false], [true, false], [false, true], [true, true]];
    for (const [ta, tb] of combos) {
      const [g, busy] = bench(e, m, n, k, ta, tb);
      const tag = `${ta ? 'At' : 'A'}·${tb ? 'Bt' : 'B'}`;
      // cores busy well below `threads` means other processes held the CPUs during the run
      console.log(`threads=${threads} ${m}x${n}x${k} ${tag}: ${g.toFixed(1)} GFLOP/s (cores busy ${busy.toFixed(2)})`);
    }
  }
  e.dispose();
}
