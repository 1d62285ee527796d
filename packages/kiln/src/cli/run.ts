/**
 * `kiln run MODEL|PROGRAM --input name=file.npy ... --output-dir D`: runs a model (compiled
 * for the shapes of the given inputs) or a compiled program on NumPy .npy inputs and writes
 * one .npy file per output into D, named after the output.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DType, type Tensor, fmtShape } from '@kiln/graph';
import type { Command } from 'commander';
import { compileModel, loadCompiled } from '../compiled-model.js';
import { CliError } from './errors.js';
import { type NamedTensor, loadFile, readBytes, selectOutputs } from './model-file.js';
import { readNpy, writeNpy } from './npy.js';
import { collect, commaList, fileSafe, namedPairs, parseBackend } from './options.js';
import { runCommand } from './run-command.js';

interface RunOptions {
  input?: string[];
  outputDir?: string;
  backend?: string;
  fetch?: string[];
}

/** The .npy inputs by name; each must be an expected input and have its dtype. */
function readInputs(given: string[] | undefined, expected: readonly { name: string; dtype: DType; aliases: string[] }[]): Map<string, Tensor> {
  const pairs = namedPairs(given, '--input', 'name=file.npy');
  const out = new Map<string, Tensor>();
  for (const [name, file] of pairs) {
    const want = expected.find((e) => e.name === name || e.aliases.includes(name));
    if (!want) throw new CliError(`--input '${name}' is not an input (inputs: ${expected.map((e) => e.name).join(', ') || 'none'})`);
    const t = readNpy(readBytes(file, `input file for '${name}'`), `'${file}'`);
    if (t.dtype !== want.dtype) throw new CliError(`input '${name}' must be ${want.dtype}, but '${file}' holds ${t.dtype}${fmtShape(t.shape)}`);
    out.set(want.name, t);
  }
  const missing = expected.filter((e) => !out.has(e.name));
  if (missing.length > 0) throw new CliError(`missing --input for ${missing.map((m) => `'${m.name}' (${m.dtype})`).join(', ')}`);
  return out;
}

function writeOutputs(dir: string, outputs: { key: string; value: Tensor }[]): void {
  mkdirSync(dir, { recursive: true });
  for (const o of outputs) {
    const file = join(dir, `${fileSafe(o.key)}.npy`);
    writeFileSync(file, writeNpy(o.value));
    process.stdout.write(`${o.key}  ${o.value.dtype}${fmtShape(o.value.shape)}  -> ${file}\n`);
  }
}

async function runModel(path: string, opts: RunOptions): Promise<void> {
  if (!opts.outputDir) throw new CliError('missing --output-dir D (where to write the output .npy files)');
  const f = loadFile(path);
  const backend = parseBackend(opts.backend);
  if (f.kind === 'program') {
    if (opts.fetch) throw new CliError('--fetch does not apply to a compiled program (its fetches are fixed at compile time)');
    const m = await loadCompiled(f.bytes, { backend });
    const p = m.program;
    const expected = p.feeds.map((x) => ({ name: x.name, dtype: p.buffers[x.buffer]!.dtype, aliases: [] }));
    const feeds = readInputs(opts.input, expected);
    const values = await m.run(Object.fromEntries(feeds));
    writeOutputs(
      opts.outputDir,
      p.fetchNames.flatMap((key, i) => (p.fetches[i]! < 0 ? [] : [{ key, value: values[i]! }])),
    );
    return;
  }
  const outputs: NamedTensor[] = selectOutputs(f, opts.fetch);
  if (outputs.length === 0) throw new CliError(`'${path}' has no outputs to run; name them with --fetch`);
  const expected = f.inputs.map((i) => ({ name: i.tensor.node.name, dtype: i.tensor.dtype, aliases: [i.key, i.tensor.name] }));
  const feeds = readInputs(opts.input, expected);
  const shapes = Object.fromEntries([...feeds].map(([name, t]) => [name, t.shape]));
  const m = await compileModel(
    f.graph,
    { fetches: outputs.map((o) => o.tensor), feeds: f.inputs.map((i) => i.tensor), feedShapes: shapes },
    { backend, seed: 0 },
  );
  const values = await m.run(Object.fromEntries(feeds));
  writeOutputs(
    opts.outputDir,
    outputs.map((o, i) => ({ key: o.key, value: values[i]! })),
  );
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a model or compiled program on .npy inputs; write one .npy per output')
    .argument('<file>', 'a Kiln model (.kiln), compiled program or ONNX model')
    .option('--input <name=file.npy>', 'an input as a NumPy .npy file (repeatable)', collect)
    .option('--output-dir <dir>', 'where to write the outputs (<output name>.npy)')
    .option('--backend <backend>', "'cpu' or 'webgpu'", 'cpu')
    .option('--fetch <names>', 'outputs to compute (comma-separated; default: the model outputs)', commaList)
    .action((file: string, opts: RunOptions) => runCommand('run', () => runModel(file, opts)));
}
