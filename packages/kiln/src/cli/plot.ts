/**
 * `kiln plot LOGDIR -o curves.svg|png`: training curves from the TensorBoard event files
 * under LOGDIR (one panel per scalar tag, one line per run folder), drawn by curves.ts.
 */
import type { Command } from 'commander';
import { writeCurves } from './curves.js';
import { CliError } from './errors.js';
import { runCommand } from './run-command.js';
import { cliIo } from './io.js';

interface PlotOptions {
  output?: string;
  title?: string;
}

async function plot(logdir: string, opts: PlotOptions): Promise<void> {
  const out = opts.output;
  if (!out) throw new CliError('missing -o FILE (curves.svg or curves.png)');
  const { series, runs } = await writeCurves(logdir, out, opts.title);
  cliIo().out(`wrote ${out}: ${series} series from ${runs.length} run${runs.length === 1 ? '' : 's'} (${runs.join(', ')})\n`);
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
