/**
 * The `kiln` binary (the built bin, run with plain node) on real files: an MNIST CNN trained and saved here (a Kiln model with a
 * 'serving_default' signature), .npy inputs, the compiled program and the ONNX file the CLI
 * itself writes. Outputs are compared with the training session's own predictions (atol
 * 1e-5, rtol 1e-3); the ONNX file is also run in onnxruntime-node. Bad arguments and bad
 * files must give one line on stderr and a non-zero exit, without a stack trace.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, deserializeGraph, printGraph, serializeGraph } from '@kiln/graph';
import { compileModel, session } from 'kiln';
import { readNpy, writeNpy } from '../packages/kiln/src/cli/npy.js';
import { type CliResult, buildKiln, kilnCli } from './helpers/kiln-cli.js';
import { buildMnistCnn, mnistBatch } from './helpers/mnist-cnn.js';
import { OnnxRuntime } from './helpers/onnx-runtime.js';
import { expectClose } from './helpers/reference-compare.js';

let dir: string;
let model: string;
let want: Tensor;
let trainable: number;
let modelBytes: Uint8Array;

const p = (name: string) => join(dir, name);
const npy = (file: string) => readNpy(new Uint8Array(readFileSync(file)), file);

function expectOk(r: CliResult): void {
  if (r.code !== 0) throw new Error(`kiln failed (${r.code}): ${r.stderr}`);
}

beforeAll(async () => {
  buildKiln();
  dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
  const m = buildMnistCnn(5);
  const sess = await session(m.g);
  const train = mnistBatch(2);
  for (let i = 0; i < 4; i++) await sess.run([m.trainOp], { x: train.x, labels: train.labels });
  const vars = new Map(m.g.variables().map((n) => [n, sess.getVariable(n.name)] as const));
  modelBytes = serializeGraph(m.g, { variables: vars, signatures: { serving_default: { inputs: { x: m.x }, outputs: { probs: m.probs } } } });
  model = p('cnn.kiln');
  writeFileSync(model, modelBytes);
  const test = mnistBatch(1, 50);
  writeFileSync(p('x.npy'), writeNpy(test.x));
  want = (await sess.run([m.probs], { x: test.x }))[0]!;
  trainable = m.g
    .variables()
    .filter((n) => n.attrs.trainable)
    .reduce((s, n) => s + (n.attrs.value as Tensor).size, 0);
  sess.dispose();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kiln CLI on a trained model', () => {
  let inspectOut = '';

  it('inspect: inputs, outputs, parameter count; --ir prints the text IR', async () => {
    const r = await kilnCli(['inspect', model, '--ir']);
    inspectOut = r.stdout;
    expectOk(r);
    expect(r.stdout).toMatch(/inputs:\n {2}x {2}float32\[\?,28,28,1\]/);
    expect(r.stdout).toMatch(/outputs:\n {2}probs {2}float32\[\?,10\]/);
    expect(r.stdout).toContain(`parameters: ${trainable.toLocaleString('en-US')} trainable`);
    expect(r.stdout).toContain(printGraph(deserializeGraph(modelBytes)));
  });

  it('inspect --program --svg: the compiled program, its stats, and a picture with kernels as clusters', async () => {
    const r = await kilnCli(['inspect', model, '--program', '--feed-shape', 'x=2,28,28,1', '--svg', p('program.svg')]);
    expectOk(r);
    const g = deserializeGraph(modelBytes);
    const ref = await compileModel(
      g,
      { fetches: [g.tensorByName('softmax')], feeds: [g.tensorByName('x')], feedShapes: { x: [2, 28, 28, 1] } },
      { backend: 'cpu' },
    );
    expect(r.stdout).toContain(ref.program.toString());
    expect(r.stdout).toContain(`${ref.stats.kernels} kernels`);
    const svg = readFileSync(p('program.svg'), 'utf8');
    expect(svg).toContain('<svg');
    expect((svg.match(/class="cluster"/g) ?? []).length).toBe(ref.program.kernels.length);
    expect(svg).toContain('conv2d');
  });

  it("compile, then run the program and the model on .npy inputs: the session's predictions", async () => {
    expectOk(await kilnCli(['compile', model, '--backend', 'cpu', '--feed-shape', 'x=10,28,28,1', '-o', p('cnn.program')]));
    const [fromProgram, fromModel] = await Promise.all([
      kilnCli(['run', p('cnn.program'), '--input', `x=${p('x.npy')}`, '--output-dir', p('out-program')]),
      kilnCli(['run', model, '--input', `x=${p('x.npy')}`, '--output-dir', p('out-model')]),
    ]);
    expectOk(fromProgram);
    expectOk(fromModel);
    expectClose(npy(p('out-program/softmax.npy')), want, 'kiln run PROGRAM', 1e-5, 1e-3);
    expectClose(npy(p('out-model/probs.npy')), want, 'kiln run MODEL', 1e-5, 1e-3);
  });

  it('convert to ONNX (runs in onnxruntime) and back to a Kiln model (runs in kiln run)', async () => {
    expectOk(await kilnCli(['convert', model, '-o', p('cnn.onnx')]));
    const ort = new OnnxRuntime();
    try {
      const x = npy(p('x.npy'));
      const [got] = await ort.run(new Uint8Array(readFileSync(p('cnn.onnx'))), { x }, ['x']);
      expectClose(got, want, 'onnxruntime on the converted model', 1e-5, 1e-3);
    } finally {
      ort.close();
    }
    expectOk(await kilnCli(['convert', p('cnn.onnx'), '-o', p('back.kiln')]));
    expectOk(await kilnCli(['run', p('back.kiln'), '--input', `x=${p('x.npy')}`, '--output-dir', p('out-back')]));
    expectClose(npy(p('out-back/probs.npy')), want, 'kiln run on ONNX converted back', 1e-5, 1e-3);
  });

  it('runs from the TypeScript sources too (npm run kiln), with the same output', async () => {
    const source = await kilnCli(['inspect', model, '--ir'], { source: true });
    expectOk(source);
    expect(source.stdout).toBe(inspectOut);
  });

  it('bad arguments and bad files: one line on stderr, a non-zero exit, no stack trace', async () => {
    writeFileSync(p('garbage.kiln'), 'not a model at all');
    writeFileSync(p('ints.npy'), writeNpy(new Tensor('int32', [1, 28, 28, 1])));
    const cases: [string[], RegExp][] = [
      [['inspect', p('missing.kiln')], /kiln inspect: model '.*missing\.kiln' does not exist/],
      [['inspect', p('garbage.kiln')], /kiln inspect: model '.*garbage\.kiln' is not a Kiln model, a compiled program or an ONNX model/],
      [['run', model, '--output-dir', p('o')], /kiln run: missing --input for 'x' \(float32\)/],
      [
        ['run', model, '--input', `x=${p('ints.npy')}`, '--output-dir', p('o')],
        /kiln run: input 'x' must be float32, but '.*ints\.npy' holds int32\[1,28,28,1\]/,
      ],
      [['compile', model, '--feed-shape', 'y=1,2', '-o', p('x.program')], /--feed-shape names 'y', which is not an input \(inputs: x\)/],
      [['inspect', model, '--frobnicate'], /unknown option '--frobnicate'/],
    ];
    const results = await Promise.all(cases.map(([args]) => kilnCli(args)));
    results.forEach((r, i) => {
      expect({ args: cases[i]![0], code: r.code === 0 ? 0 : 'non-zero' }).toEqual({ args: cases[i]![0], code: 'non-zero' });
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(cases[i]![1]);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  });
});
