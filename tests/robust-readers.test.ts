/**
 * Readers with budgets (issue 15 item 5): nesting in text IR is bounded by a loop, not the
 * stack; ONNX tensors' declared sizes are checked against the bytes present and a total
 * budget before anything is allocated; a model file's one-value fills share one total; an ONNX
 * value written twice is refused. Oracles: the error codes and the values of what still loads.
 */
import { describe, expect, it } from '@jest/globals';
import { Graph, deserializeGraph, importOnnx, parseGraph, printGraph, tensor } from 'kiln';
import { evaluate } from '@kiln/runtime-cpu';
import { protoCodec } from '@kiln/graph';
import { FLOAT, modelProto } from '../packages/onnx/test/onnx-builder.js';
import { kilnErrorOf } from './helpers/kiln-error.js';

describe('text IR nesting', () => {
  it('1,000 nested [ in an attr (or a dense literal) is a PARSE_ERROR with the position, not a stack overflow', () => {
    const attr = `graph {\n  %x = placeholder() {dtype = float32, shape = ${'['.repeat(1000)}${']'.repeat(1000)}}\n}`;
    const e = kilnErrorOf(() => parseGraph(attr));
    expect([e.code, e.message]).toEqual(['PARSE_ERROR', expect.stringMatching(/^line 2, column \d+: brackets nest deeper than 64 levels/)]);
    const dense = `graph {\n  %c = const() {value = dense<float32[1]${'['.repeat(10_000)}1${']'.repeat(10_000)}>}\n}`;
    expect(kilnErrorOf(() => parseGraph(dense)).code).toBe('PARSE_ERROR');
  });

  it('reasonable nesting still round-trips (a rank-8 constant)', () => {
    const g = new Graph();
    const shape = [1, 2, 1, 2, 1, 2, 1, 2];
    const c = g.constant(
      tensor(
        Array.from({ length: 16 }, (_, i) => i - 7.5),
        shape,
      ),
    );
    const g2 = parseGraph(printGraph(g));
    expect(printGraph(g2)).toBe(printGraph(g));
    expect(evaluate([g2.tensorByName(c.name)], {})[0]!.toFlat()).toEqual(Array.from({ length: 16 }, (_, i) => i - 7.5));
  });
});

describe('ONNX declared sizes', () => {
  const withInit = (dims: number[], values: number[], extra: Partial<Parameters<typeof modelProto>[0]> = {}) =>
    modelProto({
      nodes: [{ op: 'Identity', inputs: ['w'], outputs: ['y'] }],
      inputs: [],
      outputs: [{ name: 'y', type: FLOAT, dims }],
      initializers: [{ name: 'w', dims, type: FLOAT, values }],
      ...extra,
    });

  it('dims [100000,100000] or [2147483647,2] with no data are CORRUPT_MODEL before any allocation', () => {
    for (const dims of [
      [100000, 100000],
      [2147483647, 2],
      [2147483647, 2147483647, 2147483647],
    ]) {
      const e = kilnErrorOf(() => importOnnx(withInit(dims, [])));
      expect([dims, e.code, e.message]).toEqual([dims, 'CORRUPT_MODEL', expect.stringMatching(/initializer 'w': shape .* needs \d.* FLOAT values, got 0/)]);
    }
  });

  it('a total budget over all tensor data (maxBytes), RESOURCE_EXHAUSTED when passed', () => {
    const bytes = withInit([2, 3], [1, 2, 3, 4, 5, 6]);
    const e = kilnErrorOf(() => importOnnx(bytes, { maxBytes: 20 }));
    expect([e.code, e.message]).toEqual(['RESOURCE_EXHAUSTED', expect.stringMatching(/24 more bytes .* limit of 20 bytes/)]);
    const g = importOnnx(bytes, { maxBytes: 24 });
    expect(evaluate([g.tensorByName('y')], {})[0]!.toFlat()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(kilnErrorOf(() => importOnnx(bytes, { maxBytes: 0 })).code).toBe('INVALID_ARGUMENT');
  });

  it('two nodes writing one output, or a node overwriting an initializer, are CORRUPT_MODEL', () => {
    const twice = modelProto({
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['y'], name: 'first' },
        { op: 'Neg', inputs: ['x'], outputs: ['y'], name: 'second' },
      ],
      inputs: [{ name: 'x', type: FLOAT, dims: [2] }],
      outputs: [{ name: 'y', type: FLOAT, dims: [2] }],
    });
    expect(kilnErrorOf(() => importOnnx(twice)).message).toMatch(/node 'second' \(Neg\) writes 'y', which node 'first' \(Relu\) already defines/);
    const shadow = withInit([2], [1, 2], {
      nodes: [
        { op: 'Identity', inputs: ['w'], outputs: ['w'], name: 'n' },
        { op: 'Identity', inputs: ['w'], outputs: ['y'] },
      ],
    });
    const e = kilnErrorOf(() => importOnnx(shadow));
    expect([e.code, e.message]).toEqual(['CORRUPT_MODEL', expect.stringMatching(/writes 'w', which initializer 'w' already defines/)]);
  });
});

describe('model files: one budget for every one-value fill', () => {
  /** A ModelProto of `count` variables of [rows, cols], each filled from one float. */
  function fills(count: number, rows: number, cols: number): Uint8Array {
    const names = Array.from({ length: count }, (_, i) => `v${i}`);
    const msg = {
      format_version: 1,
      producer: 'hostile',
      graph: { node: names.map((name) => ({ name, op: 'variable', attr: { trainable: { b: true } } })) },
      variables: names.map((name) => ({ name, value: { dtype: 1, tensor_shape: { dim: [{ size: rows }, { size: cols }] }, float_val: [1] } })),
    };
    const type = protoCodec.protoType('ModelProto');
    return protoCodec.sealModelBytes(type.encode(type.fromObject(msg)).finish());
  }

  it('a sub-kilobyte file of 12 fills of 2^26 floats (3 GiB) is CORRUPT_MODEL before any is allocated', () => {
    const bytes = fills(12, 8192, 8192);
    expect(bytes.length).toBeLessThan(1024);
    const before = process.memoryUsage().rss;
    const e = kilnErrorOf(() => deserializeGraph(bytes));
    expect([e.code, e.message]).toEqual([
      'CORRUPT_MODEL',
      expect.stringMatching(/filled from single numbers would expand to 3221225472 bytes, over the limit of 268435456/),
    ]);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 2 ** 20);
  });

  it('small fills still load with their value', () => {
    const g = deserializeGraph(fills(3, 2, 2));
    expect(evaluate([g.tensorByName('v2')], {})[0]!.toArray()).toEqual([
      [1, 1],
      [1, 1],
    ]);
  });
});
