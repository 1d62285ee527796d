/**
 * `kiln inspect MODEL|PROGRAM`: what a file holds. A model: inputs, outputs, variables and
 * the parameter count, op counts; --ir prints the text IR; --program compiles it for a
 * backend and prints the program (kernels with their fused ops and reasons, arena plan,
 * stats); --svg FILE draws the graph (with --program: the program's graph, fused kernels as
 * clusters). A compiled program file prints its feeds, fetches, variables and the program.
 */
import { writeFileSync } from 'node:fs';
import type { Program } from '@kiln/compiler';
import { type Graph, type Tensor, fmtShape, printGraph } from '@kiln/graph';
import type { Command } from 'commander';
import { compileModel } from '../compiled-model.js';
import { graphToDot, renderSvg } from './graph-svg.js';
import { type GraphFile, type ProgramFile, loadFile, selectOutputs } from './model-file.js';
import { commaList, collect, feedShapes, parseBackend } from './options.js';
import { runCommand } from './run-command.js';

interface InspectOptions {
  ir?: boolean;
  program?: boolean;
  backend?: string;
  feedShape?: string[];
  fetch?: string[];
  svg?: string;
}

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

function variablesSummary(vars: { name: string; value: Tensor; trainable?: boolean }[]): string[] {
  const count = (list: typeof vars) => list.reduce((n, v) => n + v.value.size, 0).toLocaleString('en-US');
  const trainable = vars.filter((v) => v.trainable !== false);
  const others = vars.filter((v) => v.trainable === false);
  const bytes = vars.reduce((n, v) => n + v.value.data.byteLength, 0);
  const lines = [
    `parameters: ${count(trainable)} trainable${others.length ? `, ${count(others)} in ${others.length} non-trainable variables (optimizer slots, statistics)` : ''}`,
    `variables: ${vars.length} (${fmtBytes(bytes)})`,
  ];
  const type = (v: (typeof vars)[number]) => `${v.value.dtype}${fmtShape(v.value.shape)}`;
  const w1 = Math.max(0, ...vars.map((v) => v.name.length));
  const w2 = Math.max(0, ...vars.map((v) => type(v).length));
  for (const v of vars) {
    const flag = v.trainable === false ? '  (not trainable)' : '';
    lines.push(`  ${v.name.padEnd(w1)}  ${type(v).padEnd(w2)}  ${v.value.size.toLocaleString('en-US').padStart(9)}${flag}`);
  }
  return lines;
}

function opCounts(g: Graph): string {
  const counts = new Map<string, number>();
  for (const n of g.nodes) counts.set(n.op, (counts.get(n.op) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([op, c]) => `${op} ${c}`)
    .join(', ');
}

function graphSummary(f: GraphFile): string {
  const io = (list: GraphFile['inputs']) =>
    list.map((i) => `  ${i.key}  ${i.tensor.dtype}${fmtShape(i.tensor.shape)}${i.key !== i.tensor.name ? `  (${i.tensor.name})` : ''}`);
  const vars = f.graph.variables().map((n) => ({ name: n.name, value: n.attrs.value as Tensor, trainable: n.attrs.trainable as boolean }));
  return [
    `${f.path}: ${f.description}`,
    `inputs:`,
    ...io(f.inputs),
    `outputs:`,
    ...io(f.outputs),
    ...variablesSummary(vars),
    `nodes: ${f.graph.nodes.length} (${opCounts(f.graph)})`,
  ].join('\n');
}

function programStats(p: Program): string {
  const s = p.stats;
  return `stats: ${s.graphNodes} graph nodes, ${s.kernels} kernels, arena ${fmtBytes(s.arenaBytes)} (naive ${fmtBytes(s.naiveBytes)}, live lower bound ${fmtBytes(s.liveLowerBoundBytes)})`;
}

function programSummary(f: ProgramFile): string {
  const p = f.loaded.program;
  const buf = (id: number) => `${p.buffers[id]!.dtype}${fmtShape(p.buffers[id]!.shape)}`;
  const vars = [...f.loaded.variables.entries()].map(([name, value]) => ({ name, value }));
  return [
    `${f.path}: ${f.description}`,
    `feeds:`,
    ...p.feeds.map((x) => `  ${x.name}  ${buf(x.buffer)}`),
    `fetches:`,
    ...p.fetchNames.map((name, i) => `  ${name}  ${p.fetches[i]! < 0 ? 'target' : buf(p.fetches[i]!)}`),
    ...variablesSummary(vars),
    programStats(p),
  ].join('\n');
}

async function compileFor(f: GraphFile, opts: InspectOptions): Promise<Program> {
  const outputs = selectOutputs(f, opts.fetch).map((o) => o.tensor);
  const backend = parseBackend(opts.backend);
  const m = await compileModel(
    f.graph,
    { fetches: outputs, feeds: f.inputs.map((i) => i.tensor), feedShapes: feedShapes(f.inputs, opts.feedShape) },
    { backend, seed: 0 },
  );
  return m.program;
}

async function inspect(path: string, opts: InspectOptions): Promise<void> {
  parseBackend(opts.backend);
  const f = loadFile(path);
  let program: Program | undefined;
  if (f.kind === 'program') {
    program = f.loaded.program;
    process.stdout.write(`${programSummary(f)}\n`);
    if (opts.program || opts.ir) process.stdout.write(`\n${program.toString()}\n`);
  } else {
    process.stdout.write(`${graphSummary(f)}\n`);
    if (opts.ir) process.stdout.write(`\n${printGraph(f.graph)}\n`);
    if (opts.program) {
      program = await compileFor(f, opts);
      process.stdout.write(`\n${program.toString()}\n${programStats(program)}\n`);
    }
  }
  if (opts.svg) {
    const dot =
      program && (opts.program || f.kind === 'program')
        ? graphToDot(program.graph, { kernels: program.kernels, title: `${path}: compiled program (${program.stats.kernels} kernels)` })
        : graphToDot((f as GraphFile).graph, { outputs: selectOutputs(f as GraphFile, opts.fetch).map((o) => o.tensor), title: path });
    writeFileSync(opts.svg, await renderSvg(dot));
    process.stdout.write(`wrote ${opts.svg}\n`);
  }
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show a model or compiled program: inputs, outputs, variables, parameter count')
    .argument('<file>', 'a Kiln model (.kiln), compiled program or ONNX model')
    .option('--ir', 'print the text IR of the graph')
    .option('--program', 'compile the model and print the program (kernels, fused ops, arena plan, stats)')
    .option('--backend <backend>', "backend to compile for with --program: 'cpu' or 'webgpu'", 'cpu')
    .option('--feed-shape <name=dims>', 'concrete shape of an input for --program, e.g. x=1,784 (repeatable)', collect)
    .option('--fetch <names>', 'outputs to compile or draw (comma-separated tensor names)', commaList)
    .option('--svg <file>', 'write a picture of the graph (with --program: kernels as clusters) as SVG')
    .action((file: string, opts: InspectOptions) => runCommand('inspect', () => inspect(file, opts)));
}
