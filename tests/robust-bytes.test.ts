/**
 * Bytes as users have them (issue 9 item 5): every entry point that reads a file's bytes gives
 * the same result for a plain Uint8Array, a view at byteOffset 3 of a larger buffer padded with
 * other bytes (odd alignment), an ArrayBuffer, a pooled Buffer (Buffer.from, non-zero
 * byteOffset) and the Buffer that fs.readFileSync returns for a temporary file. The oracle is
 * the plain Uint8Array (and, for the ONNX model, hand-computed values). Anything that is not
 * bytes is an INVALID_ARGUMENT naming the entry point.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Graph,
  KilnError,
  add,
  compileModel,
  deserializeGraph,
  importOnnx,
  loadCompiled,
  matMul,
  parseGraph,
  printGraph,
  relu,
  serializeGraph,
  staticInputNames,
  tensor,
} from 'kiln';
import { decodeOnnxTensor } from '@kiln/onnx';
import { evaluate } from '@kiln/runtime-cpu';
import { FLOAT, INT64, modelProto, tensorProto } from '../packages/onnx/test/onnx-builder.js';
import { kilnErrorOf } from './helpers/kiln-error.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-bytes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;

/** The same bytes in every shape a user may hold them. */
function variants(bytes: Uint8Array): [string, Uint8Array | ArrayBuffer][] {
  const padded = new Uint8Array(bytes.length + 11).fill(0xa5);
  padded.set(bytes, 3);
  const file = join(dir, `f${fileNo++}.bin`);
  writeFileSync(file, bytes);
  const exact = new ArrayBuffer(bytes.length);
  new Uint8Array(exact).set(bytes);
  return [
    ['a plain Uint8Array', new Uint8Array(bytes)],
    ['a Uint8Array view at byteOffset 3', padded.subarray(3, 3 + bytes.length)],
    ['an ArrayBuffer', exact],
    ['a pooled Buffer (Buffer.from)', Buffer.from(bytes)],
    ['the Buffer of fs.readFileSync', readFileSync(file)],
  ];
}

/** An MLP with float weights whose raw bytes sit at odd offsets inside the file. */
function mlpGraph(): { g: Graph; x: ReturnType<Graph['placeholder']>; y: ReturnType<typeof relu> } {
  const g = new Graph();
  const x = g.placeholder('float32', [2, 3], 'x');
  const w = g.variable(
    tensor([
      [0.5, -1, 2],
      [1.5, 0.25, -3],
      [4, -0.75, 1],
    ]),
    'w',
  );
  const b = g.variable(tensor([0.125, -0.5, 1]), 'b');
  const y = relu(add(matMul(x, w), b));
  return { g, x, y };
}

const X = tensor([
  [1, 2, 3],
  [-1, 0.5, 2],
]);

describe('entry points that read bytes accept Buffers, offset views and ArrayBuffers', () => {
  it('importOnnx and staticInputNames read raw_data at any offset (the MNIST-from-Buffer bug)', () => {
    const bytes = modelProto({
      nodes: [
        { op: 'MatMul', inputs: ['x', 'w'], outputs: ['m'] },
        { op: 'Add', inputs: ['m', 'b'], outputs: ['y'] },
        { op: 'Reshape', inputs: ['y', 'shape'], outputs: ['out'] },
      ],
      inputs: [
        { name: 'x', type: FLOAT, dims: [1, 2] },
        { name: 'shape', type: INT64, dims: [1] },
      ],
      outputs: [{ name: 'out', type: FLOAT, dims: [3] }],
      initializers: [
        { name: 'w', dims: [2, 3], type: FLOAT, values: [1, 2, 3, -4, 5.5, 6] },
        { name: 'b', dims: [3], type: FLOAT, values: [0.25, -0.5, 100] },
      ],
    });
    // Hand-computed: [1, 2] @ w + b.
    const want = [1 - 8 + 0.25, 2 + 11 - 0.5, 3 + 12 + 100];
    for (const [label, input] of variants(bytes)) {
      expect([label, staticInputNames(input)]).toEqual([label, ['shape']]);
      const g = importOnnx(input, { inputValues: { shape: tensor([3], [1], 'int32') } });
      const [out] = evaluate([g.tensorByName('out')], { x: tensor([[1, 2]]) });
      expect([label, out!.toFlat()]).toEqual([label, want]);
    }
  });

  it('decodeOnnxTensor reads float, int64 and typed-field tensors at any offset', () => {
    const cases = [
      { bytes: tensorProto({ name: 't', dims: [2, 2], type: FLOAT, values: [1.5, -2, 3.25, 1e-3] }), want: [1.5, -2, 3.25, Math.fround(1e-3)] },
      { bytes: tensorProto({ dims: [3], type: INT64, values: [-7n, 0n, 2147483647n] }), want: [-7, 0, 2147483647] },
      { bytes: tensorProto({ dims: [2], type: FLOAT, values: [0.5, -8], typedFields: true }), want: [0.5, -8] },
    ];
    for (const { bytes, want } of cases) {
      for (const [label, input] of variants(bytes)) {
        expect([label, decodeOnnxTensor(input).tensor.toFlat()]).toEqual([label, want]);
      }
    }
  });

  it('deserializeGraph restores variable values at any offset', () => {
    const { y } = mlpGraph();
    const want = evaluate([y], { x: X })[0]!.toFlat();
    for (const [label, input] of variants(serializeGraph(y.graph))) {
      const g2 = deserializeGraph(input);
      const out = evaluate([g2.tensorByName(y.name)], { x: X })[0]!;
      expect([label, out.toFlat()]).toEqual([label, want]);
    }
  });

  it('loadCompiled runs a program read at any offset', async () => {
    const { g, x, y } = mlpGraph();
    const want = evaluate([y], { x: X })[0]!.toFlat();
    const m = await compileModel(g, { fetches: [y], feeds: [x] }, { backend: 'cpu' });
    for (const [label, input] of variants(m.serialize())) {
      const loaded = await loadCompiled(input, { backend: 'cpu' });
      const [out] = await loaded.run({ x: X });
      expect([label, Array.from(out!.data)]).toEqual([label, want]);
    }
  });

  it('parseGraph reads the UTF-8 bytes of a text IR file as well as a string', () => {
    const { y } = mlpGraph();
    const text = printGraph(y.graph);
    const want = evaluate([y], { x: X })[0]!.toFlat();
    for (const [label, input] of variants(new TextEncoder().encode(text))) {
      const g2 = parseGraph(input);
      expect([label, printGraph(g2)]).toEqual([label, text]);
      expect([label, evaluate([g2.tensorByName(y.name)], { x: X })[0]!.toFlat()]).toEqual([label, want]);
    }
    expect(kilnErrorOf(() => parseGraph(new Uint8Array([0x67, 0xff, 0xfe]))).code).toBe('PARSE_ERROR');
  });

  it('refuses what is not bytes with INVALID_ARGUMENT naming the entry point', async () => {
    const notBytes: unknown[] = [null, undefined, 'abc', 42, [1, 2, 3], { length: 3 }];
    const entries: [string, (v: never) => unknown][] = [
      ['importOnnx', importOnnx],
      ['staticInputNames', staticInputNames],
      ['decodeOnnxTensor', decodeOnnxTensor],
      ['deserializeGraph', deserializeGraph],
    ];
    for (const v of notBytes) {
      for (const [name, f] of entries) {
        const e = kilnErrorOf(() => f(v as never));
        expect([name, e.code, e.message.startsWith(`${name}:`)]).toEqual([name, 'INVALID_ARGUMENT', true]);
      }
      const err = await loadCompiled(v as never, { backend: 'cpu' }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(KilnError);
      expect((err as KilnError).code).toBe('INVALID_ARGUMENT');
      expect((err as KilnError).message).toMatch(/^loadCompiled:/);
    }
    // A number or a plain object is not text either.
    expect(kilnErrorOf(() => parseGraph(42 as never)).code).toBe('INVALID_ARGUMENT');
  });
});
