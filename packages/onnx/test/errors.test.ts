import { describe, expect, it } from '@jest/globals';
import { importOnnx } from '@kiln/onnx';
import { FLOAT, INT64, modelProto } from './onnx-builder.js';
import { kilnErrorOf } from '../../../tests/helpers/kiln-error.js';

const valid = modelProto({
  nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
  inputs: [{ name: 'x', type: FLOAT, dims: [2] }],
  outputs: [{ name: 'y', type: FLOAT, dims: [2] }],
});

describe('importOnnx errors', () => {
  it('lists every unsupported operator and attribute in one UNSUPPORTED error', () => {
    const bytes = modelProto({
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['a'] },
        { op: 'FancyOp', inputs: ['a'], outputs: ['b'], name: 'fancy_1' },
        { op: 'Gelu', inputs: ['a'], outputs: ['c'], name: 'gelu_odd', attrs: { approximate: { s: 'erfc' } } },
        { op: 'Mystery', inputs: ['b'], outputs: ['d'], name: 'mystery_2', domain: 'com.example' },
        { op: 'LSTM', inputs: ['x'], outputs: ['e'], name: 'lstm_3' },
      ],
      inputs: [{ name: 'x', type: FLOAT, dims: [2] }],
      outputs: [
        { name: 'c', type: FLOAT, dims: [2] },
        { name: 'd', type: FLOAT, dims: [2] },
        { name: 'e', type: FLOAT, dims: [2] },
      ],
    });
    const e = kilnErrorOf(() => importOnnx(bytes));
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(/4 unsupported features/);
    expect(e.message).toMatch(/node 'fancy_1' \(FancyOp\): operator is not supported/);
    expect(e.message).toMatch(/node 'mystery_2' \(Mystery\): operator in domain 'com.example' is not supported/);
    expect(e.message).toMatch(/node 'lstm_3' \(LSTM\)/);
    expect(e.message).toMatch(/node 'gelu_odd' \(Gelu\): approximate='erfc'/);
  });

  it('reports graph inputs of unsupported types', () => {
    const bytes = modelProto({
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
      inputs: [{ name: 'x', type: 11, dims: [2] }],
      outputs: [{ name: 'y', type: 11, dims: [2] }],
    });
    expect(kilnErrorOf(() => importOnnx(bytes)).message).toMatch(/graph input 'x': element type DOUBLE has no Kiln dtype/);
  });

  it('rejects an int64 constant past int32 used as data', () => {
    const bytes = modelProto({
      nodes: [
        { op: 'Constant', inputs: [], outputs: ['k'], attrs: { value: { t: { dims: [1], type: INT64, values: [1n << 40n] } } } },
        { op: 'Add', inputs: ['x', 'k'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', type: INT64, dims: [1] }],
      outputs: [{ name: 'y', type: INT64, dims: [1] }],
    });
    const e = kilnErrorOf(() => importOnnx(bytes));
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(/1099511627776 .*does not fit in int32/);
  });

  it('reports corrupt or truncated bytes as CORRUPT_MODEL, never a crash', () => {
    expect(kilnErrorOf(() => importOnnx(new Uint8Array(0))).code).toBe('CORRUPT_MODEL');
    expect(kilnErrorOf(() => importOnnx(valid.subarray(0, valid.length - 7))).code).toBe('CORRUPT_MODEL');
    expect(kilnErrorOf(() => importOnnx(new TextEncoder().encode('this is not an onnx model'))).code).toBe('CORRUPT_MODEL');
    // Deterministic pseudo-random garbage.
    let s = 12345;
    for (let trial = 0; trial < 50; trial++) {
      const junk = new Uint8Array(64).map(() => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
      const err = kilnErrorOf(() => importOnnx(junk));
      expect(['CORRUPT_MODEL', 'UNSUPPORTED']).toContain(err.code);
    }
  });

  it('reports a node input that nothing produces as CORRUPT_MODEL', () => {
    const bytes = modelProto({
      nodes: [{ op: 'Relu', inputs: ['ghost'], outputs: ['y'] }],
      inputs: [{ name: 'x', type: FLOAT, dims: [2] }],
      outputs: [{ name: 'y', type: FLOAT, dims: [2] }],
    });
    const e = kilnErrorOf(() => importOnnx(bytes));
    expect(e.code).toBe('CORRUPT_MODEL');
    expect(e.message).toMatch(/input 'ghost' is not produced/);
  });
});
