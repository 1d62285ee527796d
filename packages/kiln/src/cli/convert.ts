/**
 * `kiln convert model.onnx -o model.kiln` and `kiln convert model.kiln -o model.onnx`: ONNX
 * to a Kiln model (importOnnx; the ONNX inputs and outputs become the 'serving_default'
 * signature) and a Kiln model to ONNX (exportOnnx over the model's inputs and outputs, with
 * its variable values as initializers). The direction follows the output file's extension.
 */
import { writeFileSync } from 'node:fs';
import { serializeGraph } from '@kiln/graph';
import { exportOnnx } from '@kiln/onnx';
import type { Command } from 'commander';
import { CliError } from './errors.js';
import { loadGraphFile, selectOutputs } from './model-file.js';
import { commaList } from './options.js';
import { runCommand } from './run-command.js';

interface ConvertOptions {
  output?: string;
  fetch?: string[];
}

function convert(path: string, opts: ConvertOptions): void {
  if (!opts.output) throw new CliError('missing -o OUTPUT (a .onnx or .kiln file)');
  const toOnnx = opts.output.toLowerCase().endsWith('.onnx');
  const f = loadGraphFile(path, 'convert');
  const outputs = selectOutputs(f, opts.fetch);
  if (outputs.length === 0) throw new CliError(`'${path}' has no outputs to convert; name them with --fetch`);
  if (toOnnx) {
    if (f.kind === 'onnx') throw new CliError(`'${path}' is already ONNX; convert it to a .kiln file, or give -o a .onnx name only for Kiln models`);
    const bytes = exportOnnx(f.graph, { inputs: f.inputs.map((i) => i.tensor), outputs: outputs.map((o) => o.tensor), outputNames: outputs.map((o) => o.key) });
    writeFileSync(opts.output, bytes);
  } else {
    const signature = {
      inputs: Object.fromEntries(f.inputs.map((i) => [i.key, i.tensor])),
      outputs: Object.fromEntries(outputs.map((o) => [o.key, o.tensor])),
      methodName: 'predict',
    };
    writeFileSync(opts.output, serializeGraph(f.graph, { signatures: { serving_default: signature }, producer: 'kiln convert' }));
  }
  process.stdout.write(
    `wrote ${opts.output} (${toOnnx ? 'ONNX, opset 17' : 'Kiln model'}): inputs ${f.inputs.map((i) => i.key).join(', ')}; outputs ${outputs.map((o) => o.key).join(', ')}\n`,
  );
}

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('convert between ONNX and Kiln models (direction from the -o extension: .onnx or anything else for .kiln)')
    .argument('<model>', 'a .onnx or Kiln model file')
    .option('-o, --output <file>', 'the converted model (.onnx for ONNX, else a Kiln model)')
    .option('--fetch <names>', 'outputs to keep (comma-separated; default: the model outputs)', commaList)
    .action((model: string, opts: ConvertOptions) => runCommand('convert', () => convert(model, opts)));
}
