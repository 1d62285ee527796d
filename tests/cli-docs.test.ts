/**
 * The doc test of docs/CLI.md: every `kiln ...` line of its sh examples runs, section by
 * section in document order (lines in parallel unless one reads another's -o file), with the built bin in a
 * folder holding what the examples name: mnist-cnn.kiln (the MNIST CNN with a signature),
 * images.npy (ten digits) and logs/ (train and validation event files). Each must exit 0
 * and write nothing on stderr but the note about defaulted unknown dims; bench must print
 * its three lines (ms per run, kernels, arena).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serializeGraph } from '@kiln/graph';
import { writeNpy } from '../packages/kiln/src/cli/npy.js';
import { writeScalarLogs } from './helpers/event-writer.js';
import { buildKiln, kilnCli } from './helpers/kiln-cli.js';
import { buildMnistCnn, mnistBatch } from './helpers/mnist-cnn.js';

const DOC = readFileSync(fileURLToPath(new URL('../docs/CLI.md', import.meta.url)), 'utf8');

/** Splits a shell line into words (double quotes group; a trailing # comment is dropped). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(#.*$)|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    if (m[2] !== undefined) break;
    out.push(m[1] ?? m[3]!);
  }
  return out;
}

/** The `kiln` lines of each section's sh blocks, in order. */
function sections(): { title: string; commands: string[][] }[] {
  const out: { title: string; commands: string[][] }[] = [];
  let inSh = false;
  for (const line of DOC.split('\n')) {
    if (line.startsWith('## ')) out.push({ title: line.slice(3), commands: [] });
    else if (line.startsWith('```')) inSh = !inSh && line.trim() === '```sh';
    else if (inSh && line.startsWith('kiln ') && out.length > 0) out[out.length - 1]!.commands.push(words(line).slice(1));
  }
  return out.filter((s) => s.commands.length > 0);
}

/** Groups commands to run in parallel; a command reading an earlier one's -o output starts a new group. */
function batches(commands: string[][]): string[][][] {
  const out: string[][][] = [];
  let written = new Set<string>();
  for (const args of commands) {
    if (out.length === 0 || args.some((a) => written.has(a))) {
      out.push([]);
      written = new Set();
    }
    out[out.length - 1]!.push(args);
    args.forEach((a, i) => {
      if (a === '-o' && args[i + 1]) written.add(args[i + 1]!);
    });
  }
  return out;
}

let dir: string;
beforeAll(() => {
  buildKiln();
  dir = mkdtempSync(join(tmpdir(), 'kiln-docs-'));
  const m = buildMnistCnn(2);
  writeFileSync(join(dir, 'mnist-cnn.kiln'), serializeGraph(m.g, { signatures: { serving_default: { inputs: { x: m.x }, outputs: { probs: m.probs } } } }));
  writeFileSync(join(dir, 'images.npy'), writeNpy(mnistBatch(1).x));
  writeScalarLogs(join(dir, 'logs'), {
    train: { epoch_loss: [1.2, 0.6, 0.4], epoch_accuracy: [0.6, 0.8, 0.9] },
    validation: { epoch_loss: [1.3, 0.8, 0.7], epoch_accuracy: [0.5, 0.7, 0.8] },
  });
  mkdirSync(join(dir, 'docs'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/CLI.md examples', () => {
  const all = sections();

  it('documents every command with at least one example', () => {
    expect(all.map((s) => s.title)).toEqual(['kiln inspect', 'kiln compile', 'kiln convert', 'kiln run', 'kiln bench', 'kiln plot']);
  });

  it('runs every example', async () => {
    for (const s of all) {
      for (const batch of batches(s.commands)) {
        const results = await Promise.all(batch.map((args) => kilnCli(args, { cwd: dir })));
        results.forEach((r, i) => {
          const what = `kiln ${batch[i]!.join(' ')}`;
          expect({ what, code: r.code, stderr: r.stderr.replace(/^kiln: unknown dims set to 1 .*\n/, '') }).toEqual({ what, code: 0, stderr: '' });
          if (batch[i]![0] === 'bench') {
            expect(r.stdout).toMatch(
              /on cpu: \d+\.\d+ ms\/run median, \d+\.\d+ ms min \(\d+ runs after \d+ warm-up\)\nkernels: \d+ \(from \d+ graph nodes\)\narena: \d+ bytes/,
            );
          }
        });
      }
    }
    for (const f of [
      'docs/mnist-cnn-graph.svg',
      'docs/mnist-cnn-program.svg',
      'mnist-cnn.program',
      'mnist-cnn.onnx',
      'from-onnx.kiln',
      'out/probs.npy',
      'out/softmax.npy',
      'curves.svg',
      'curves.png',
    ]) {
      expect({ f, exists: existsSync(join(dir, f)) }).toEqual({ f, exists: true });
    }
  });
});
