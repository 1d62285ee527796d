/**
 * `kiln compile MODEL --backend cpu --feed-shape x=1,784 -o PROGRAM`: compiles a model's
 * outputs (or --fetch) for concrete input shapes and writes the ProgramProto, which
 * `kiln run`, `kiln bench` and loadCompiled() run without the graph and without recompiling.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { compileModel } from '../compiled-model.js';
import { CliError } from './errors.js';
import { loadGraphFile, selectOutputs } from './model-file.js';
import { collect, commaList, feedShapes, parseBackend } from './options.js';
import { runCommand } from './run-command.js';

interface CompileOptions {
  backend?: string;
  feedShape?: string[];
  fetch?: string[];
  output?: string;
  fuse?: boolean;
}

async function compileCommand(path: string, opts: CompileOptions): Promise<void> {
  if (!opts.output) throw new CliError('missing -o PROGRAM (where to write the compiled program)');
  const f = loadGraphFile(path, 'compile');
  const outputs = selectOutputs(f, opts.fetch);
  if (outputs.length === 0) throw new CliError(`'${path}' has no outputs to compile; name them with --fetch`);
  const m = await compileModel(
    f.graph,
    { fetches: outputs.map((o) => o.tensor), feeds: f.inputs.map((i) => i.tensor), feedShapes: feedShapes(f.inputs, opts.feedShape) },
    { backend: parseBackend(opts.backend), fuse: opts.fuse !== false, seed: 0 },
  );
  writeFileSync(opts.output, m.serialize());
  const s = m.stats;
  process.stdout.write(
    `wrote ${opts.output}: ${s.kernels} kernels for ${outputs.map((o) => o.key).join(', ')}; arena ${s.arenaBytes} bytes (naive ${s.naiveBytes})\n`,
  );
}

export function registerCompile(program: Command): void {
  program
    .command('compile')
    .description('compile a model for fixed input shapes and write the compiled program (ProgramProto)')
    .argument('<model>', 'a Kiln model (.kiln) or ONNX model')
    .option('--backend <backend>', "'cpu' or 'webgpu'", 'cpu')
    .option('--feed-shape <name=dims>', 'concrete shape of an input, e.g. x=1,784 (repeatable; unknown dims default to 1)', collect)
    .option('--fetch <names>', 'outputs to compile (comma-separated; default: the model outputs)', commaList)
    .option('--no-fuse', 'do not fuse kernels')
    .option('-o, --output <program>', 'where to write the compiled program')
    .action((model: string, opts: CompileOptions) => runCommand('compile', () => compileCommand(model, opts)));
}
