/**
 * `kiln plot LOGDIR -o curves.svg|png`: training curves from the TensorBoard event files
 * under LOGDIR (one panel per scalar tag, one line per run folder), written as SVG, or as
 * PNG through resvg (a Rust SVG rasterizer compiled for Node).
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { curvesSvg } from './chart-svg.js';
import { CliError } from './errors.js';
import { readScalars } from './event-file.js';
import { runCommand } from './run-command.js';

interface PlotOptions {
  output?: string;
  title?: string;
}

async function plot(logdir: string, opts: PlotOptions): Promise<void> {
  const out = opts.output;
  if (!out) throw new CliError('missing -o FILE (curves.svg or curves.png)');
  const lower = out.toLowerCase();
  if (!lower.endsWith('.svg') && !lower.endsWith('.png')) throw new CliError(`-o '${out}' must end in .svg or .png`);
  const series = readScalars(logdir);
  const count = [...series.values()].reduce((n, tags) => n + tags.size, 0);
  if (count === 0) throw new CliError(`the event files under '${logdir}' hold no scalar summaries`);
  const svg = curvesSvg(series, opts.title ?? `training curves: ${logdir}`);
  if (lower.endsWith('.svg')) {
    writeFileSync(out, svg);
  } else {
    const { Resvg } = await import('@resvg/resvg-js');
    writeFileSync(out, new Resvg(svg, { background: '#ffffff', font: { loadSystemFonts: true } }).render().asPng());
  }
  process.stdout.write(`wrote ${out}: ${count} series from ${series.size} run${series.size === 1 ? '' : 's'} (${[...series.keys()].join(', ')})\n`);
}

export function registerPlot(program: Command): void {
  program
    .command('plot')
    .description('draw the loss and metric curves of TensorBoard event files as SVG or PNG')
    .argument('<logdir>', 'a log dir holding event files (e.g. written by the TensorBoard callback)')
    .option('-o, --output <file>', 'curves.svg or curves.png')
    .option('--title <text>', 'chart title')
    .action((logdir: string, opts: PlotOptions) => runCommand('plot', () => plot(logdir, opts)));
}
