/**
 * A quick timing of Kiln alone (no other frameworks): the MLP training step and the CNN
 * forward pass of the benchmark, median of N runs after warm-up, with kernel counts. For
 * before/after comparisons of compiler changes: `node --conditions=source --import tsx bench/kiln-timing.ts [runs]`.
 */
import { kilnFramework } from './frameworks/kiln.js';
import { makeBenchData } from './data.js';

const runs = Number(process.argv[2] ?? 20);
const d = makeBenchData();
const fw = await kilnFramework(d, 'timing');
for (const w of ['mlp-train', 'cnn-fwd'] as const) {
  const c = await fw.setup(w);
  if (typeof c === 'string') throw new Error(c);
  for (let i = 0; i < 3; i++) await c.run();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await c.run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const check = c.check ? Array.from((await c.check()).slice(0, 2)).map((v) => v.toFixed(5)) : [];
  console.log(`${w}: median ${times[runs >> 1]!.toFixed(2)} ms (min ${times[0]!.toFixed(2)}), kernels ${c.stats?.kernels}, check ${check.join(' ')}`);
  c.dispose?.();
}
process.exit(0);
