/**
 * `kiln bench MODEL|PROGRAM --backend cpu`: times one run of the compiled program on seeded
 * random inputs (after warm-up runs) and prints milliseconds per run (median and min), the
 * kernel count and the arena size. A measurement for people, never a test assertion.
 */
import { performance } from 'node:perf_hooks';
import type { Tensor } from '@kiln/graph';
import { makeRandomTensor } from './random-input.js';
import type { Command } from 'commander';
import { type CompiledModel, compileModel, loadCompiled } from '../compiled-model.js';
import { CliError } from './errors.js';
import { loadFile, selectOutputs } from './model-file.js';
import { collect, commaList, feedShapes, parseBackend, positiveInt } from './options.js';
import { runCommand } from './run-command.js';
import { cliIo } from './io.js';

interface BenchOptions {
  backend?: string;
  feedShape?: string[];
  fetch?: string[];
  runs?: string;
  warmup?: string;
}

async function bench(path: string, opts: BenchOptions): Promise<void> {
  const backend = parseBackend(opts.backend);
  const runs = positiveInt(opts.runs, '--runs', 20);
  const warmup = positiveInt(opts.warmup, '--warmup', 3);
  const f = loadFile(path);
  let m: CompiledModel;
  if (f.kind === 'program') {
    if (opts.feedShape || opts.fetch) throw new CliError('--feed-shape and --fetch do not apply to a compiled program (fixed at compile time)');
    m = await loadCompiled(f.bytes, { backend });
  } else {
    const outputs = selectOutputs(f, opts.fetch);
    if (outputs.length === 0) throw new CliError(`'${path}' has no outputs to run; name them with --fetch`);
    const spec = { fetches: outputs.map((o) => o.tensor), feeds: f.inputs.map((i) => i.tensor), feedShapes: feedShapes(f.inputs, opts.feedShape) };
    m = await compileModel(f.graph, spec, { backend, seed: 0 });
  }
  const p = m.program;
  const feeds: Record<string, Tensor> = {};
  p.feeds.forEach((x, i) => {
    const b = p.buffers[x.buffer]!;
    feeds[x.name] = makeRandomTensor(b.dtype, b.shape as number[], 1234 + i);
  });
  for (let i = 0; i < warmup; i++) await m.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await m.run(feeds);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = runs % 2 ? times[(runs - 1) / 2]! : (times[runs / 2 - 1]! + times[runs / 2]!) / 2;
  const s = m.stats;
  cliIo().out(
    [
      `${path} on ${backend}: ${median.toFixed(3)} ms/run median, ${times[0]!.toFixed(3)} ms min (${runs} runs after ${warmup} warm-up)`,
      `kernels: ${s.kernels} (from ${s.graphNodes} graph nodes)`,
      `arena: ${s.arenaBytes} bytes (naive ${s.naiveBytes}, live lower bound ${s.liveLowerBoundBytes})`,
    ].join('\n') + '\n',
  );
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('time a model or compiled program: ms per run (median, min), kernels, arena')
    .argument('<file>', 'a Kiln model (.kiln), compiled program or ONNX model')
    .option('--backend <backend>', "'cpu' or 'webgpu'", 'cpu')
    .option('--feed-shape <name=dims>', 'concrete shape of an input, e.g. x=32,784 (repeatable; unknown dims default to 1)', collect)
    .option('--fetch <names>', 'outputs to compute (comma-separated; default: the model outputs)', commaList)
    .option('--runs <n>', 'timed runs', '20')
    .option('--warmup <n>', 'untimed runs first', '3')
    .action((file: string, opts: BenchOptions) => runCommand('bench', () => bench(file, opts)));
}
