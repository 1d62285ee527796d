/**
 * Kiln's side-by-side benchmark suite: Kiln, jax-js (wasm), TensorFlow.js (cpu, wasm) and
 * onnxruntime-node in ONE process, on the same seeded weights and inputs, interleaved round by
 * round, medians after warm-up. Prints a markdown report and writes it to bench/results.md
 * (bench/results-partial.md for BENCH_QUICK or filtered runs).
 *
 * Run from the repository root with `npm run bench`. Environment:
 *   BENCH_ONLY=mlp,cnn,matmul   workload groups (default all)
 *   BENCH_FW=kiln,jax-js,...    frameworks (kiln, jax-js, tfjs-wasm, tfjs-cpu, onnxruntime-1t, ...;
 *                               'kiln-unfused', Kiln with fuse: false, runs only when listed)
 *   BENCH_QUICK=1               smoke run: 1 warm-up, at most 3 calls, 0.5 s per cell
 *   BENCH_BUDGET_MS, BENCH_REPS, BENCH_WARMUP   per-cell time budget, measured calls, warm-up calls
 *   BENCH_ORT_THREADS=1,2       onnxruntime intra-op thread counts (one column each)
 *   BENCH_KILN_THREADS=n        passed to kiln.session as `threads` where the backend has it
 */
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { makeBenchData, maxAbsDiff } from './data.js';
import { type Framework, WORKLOADS } from './framework.js';
import { type Cell, callOnce, runRounds } from './harness.js';
import { type CheckRow, renderReport } from './report.js';

const env = process.env;
const quick = env.BENCH_QUICK === '1';
const list = (s: string | undefined) =>
  s
    ? s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : undefined;
const groups = list(env.BENCH_ONLY);
const fwFilter = list(env.BENCH_FW);
const opts = {
  warmup: Number(env.BENCH_WARMUP ?? (quick ? 1 : 2)),
  maxReps: Number(env.BENCH_REPS ?? (quick ? 3 : 15)),
  budgetMs: Number(env.BENCH_BUDGET_MS ?? (quick ? 500 : 3000)),
};
const ortThreads = (list(env.BENCH_ORT_THREADS) ?? ['1', '2']).map(Number);
const workloads = WORKLOADS.filter((w) => !groups || groups.includes(w.group));
const log = (s: string) => process.stderr.write(`${s}\n`);

function pkgVersion(path: string): string {
  try {
    return (JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function kilnVersion(): string {
  let rev = '';
  try {
    rev = execSync('git rev-parse --short HEAD', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execSync('git status --porcelain --untracked-files=no', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (dirty) rev += ' + uncommitted changes';
  } catch {
    rev = 'no git';
  }
  return `kiln ${pkgVersion('../packages/kiln/package.json')} (${rev})`;
}

const nm = (pkg: string) => `${pkg} ${pkgVersion(`./node_modules/${pkg}/package.json`)}`;

/** Frameworks are imported on demand, so one that fails to load is reported, not fatal. */
async function frameworks(d: ReturnType<typeof makeBenchData>): Promise<{ fws: Framework[]; failed: string[] }> {
  const want = (name: string) => !fwFilter || fwFilter.includes(name);
  const fws: Framework[] = [];
  const failed: string[] = [];
  const add = async (name: string, make: () => Promise<Framework>) => {
    if (!want(name)) return;
    try {
      fws.push(await make());
    } catch (e) {
      failed.push(`${name}: failed to load: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  };
  await add('kiln', async () => (await import('./frameworks/kiln.js')).kilnFramework(d, kilnVersion()));
  if (fwFilter?.includes('kiln-unfused')) await add('kiln-unfused', async () => (await import('./frameworks/kiln.js')).kilnFramework(d, kilnVersion(), false));
  await add('jax-js', async () => (await import('./frameworks/jax.js')).jaxFramework(d, nm('@jax-js/jax')));
  for (const b of ['wasm', 'cpu'] as const)
    await add(`tfjs-${b}`, async () =>
      (await import('./frameworks/tfjs.js')).tfjsFramework(
        d,
        b,
        b === 'wasm' ? `${nm('@tensorflow/tfjs')}, ${nm('@tensorflow/tfjs-backend-wasm')}` : nm('@tensorflow/tfjs'),
      ),
    );
  for (const t of ortThreads)
    await add(`onnxruntime-${t}t`, async () => (await import('./frameworks/ort.js')).ortFramework(d, t, `${nm('onnxruntime-node')} (intraOpNumThreads ${t})`));
  return { fws, failed };
}

async function checks(cells: Cell[]): Promise<CheckRow[]> {
  const out: CheckRow[] = [];
  for (const w of workloads) {
    const mine = cells.filter((c) => c.w.id === w.id && typeof c.c !== 'string' && !c.error && c.c.check);
    if (mine.length < 2) continue;
    const values: { name: string; v?: Float32Array; err?: string }[] = [];
    for (const c of mine) {
      try {
        await c.fw.activate?.();
        values.push({ name: c.fw.name, v: await (c.c as Exclude<Cell['c'], string>).check!() });
      } catch (e) {
        values.push({ name: c.fw.name, err: e instanceof Error ? e.message.split('\n')[0] : String(e) });
      }
    }
    const ref = values.find((v) => v.v);
    if (!ref) continue;
    const scale = ref.v!.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    out.push({
      workload: w,
      reference: ref.name,
      scale,
      rows: values.filter((v) => v !== ref).map((v) => ({ framework: v.name, maxAbsDiff: v.v ? maxAbsDiff(ref.v!, v.v) : NaN, note: v.err })),
    });
  }
  return out;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const load = os.loadavg()[0]!.toFixed(2);
  const d = makeBenchData(1);
  const { fws, failed } = await frameworks(d);
  const header = [
    '# Kiln benchmarks',
    '',
    `- machine: ${os.cpus()[0]?.model ?? '?'}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; load average ${load} at start`,
    `- node ${process.version} (V8 ${process.versions.v8}), ${os.platform()} ${os.release()}`,
    ...fws.map((f) => `- ${f.name}: ${f.version}`),
    ...failed.map((f) => `- ${f}`),
    `- ${new Date().toISOString()}; ${quick ? 'QUICK run; ' : ''}warm-up ${opts.warmup}, at most ${opts.maxReps} measured calls or ${opts.budgetMs} ms per cell, rounds interleave all cells`,
  ];
  log(header.join('\n'));

  // First-call workloads go first, each making its cold call right after its setup: the
  // framework has compiled nothing yet, so no kernel cache or warmed-up V8 code helps it.
  const cells: Cell[] = [];
  const setupOrder = [...workloads.filter((w) => w.fresh), ...workloads.filter((w) => !w.fresh)];
  for (const w of setupOrder)
    for (const fw of fws) {
      const s = performance.now();
      let c: Cell['c'];
      try {
        await fw.activate?.();
        c = await fw.setup(w.id);
      } catch (e) {
        c = `setup failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
      }
      const setupMs = performance.now() - s;
      log(`setup ${w.id} / ${fw.name}: ${typeof c === 'string' ? c : `${setupMs.toFixed(0)} ms`}`);
      const cell: Cell = { fw, w, c, setupMs, times: [], calls: 0, spentMs: 0 };
      if (w.fresh && typeof c !== 'string') await callOnce(cell, opts);
      cells.push(cell);
    }
  cells.sort((a, b) => workloads.indexOf(a.w) - workloads.indexOf(b.w));

  await runRounds(cells, { ...opts, onRound: (r, n) => log(`round ${r}: ${n} cells`) });
  for (const c of cells) if (c.error) log(`error ${c.w.id} / ${c.fw.name}: ${c.error}`);
  const checked = await checks(cells);
  for (const c of cells) if (typeof c.c !== 'string') await c.c.dispose?.();

  const total = (performance.now() - t0) / 1000;
  const footer = [
    `Suite wall time: ${total.toFixed(0)} s. Ratio = peer median / Kiln median (> 1: Kiln is faster).`,
    'First call = build the model (Kiln: graph + minimize; jax-js: jit trace; tfjs: variables + optimizer) + compile + first training step. "cold" is one call made before the framework has compiled or run anything else in this process; "repeated" is the median of later calls, each in a fresh session / jit, which may profit from caches kept across sessions (jax-js keeps compiled kernels) and from V8 having optimized the framework code.',
    "tfjs's Adam adds epsilon after the bias correction (the others use TensorFlow's lr_t form), so its second-step loss differs by ~1e-3 at epsilon 1e-7; with epsilon 1e-14 all agree to ~5e-6 (checked by hand).",
    'jax-js convolutions on its wasm device run far below its matmul speed (lax.conv is its only convolution API), so its CNN row measures that.',
  ];
  const report = renderReport(header, cells, workloads, checked, footer);
  process.stdout.write(report);
  // Smoke and filtered runs do not overwrite the full suite's results.
  const partial = quick || groups || fwFilter;
  const file = partial ? 'results-partial.md' : 'results.md';
  writeFileSync(new URL(`./${file}`, import.meta.url), report);
  log(`wrote bench/${file}`);
}

await main();
