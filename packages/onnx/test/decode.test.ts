import { describe, expect, it } from '@jest/globals';
import { KilnError } from '@kiln/graph';
import { decodeOnnxTensor } from '@kiln/onnx';
import { onnxType } from '../src/export/onnx-schema.js';
import { BOOL, DOUBLE, FLOAT, INT32, INT64, tensorProto } from './onnx-builder.js';

describe('decodeOnnxTensor', () => {
  it('reads float32, int32, int64 (as int32) and bool from raw_data', () => {
    const f = decodeOnnxTensor(tensorProto({ name: 'x', dims: [2, 2], type: FLOAT, values: [1, -2.5, 3, 4] }));
    expect(f.name).toBe('x');
    expect(f.onnxDType).toBe('FLOAT');
    expect(f.tensor.toArray()).toEqual([
      [1, -2.5],
      [3, 4],
    ]);
    const i = decodeOnnxTensor(tensorProto({ dims: [3], type: INT32, values: [7, -8, 9] }));
    expect(i.tensor.dtype).toBe('int32');
    expect(i.tensor.toFlat()).toEqual([7, -8, 9]);
    const l = decodeOnnxTensor(tensorProto({ dims: [2], type: INT64, values: [-5n, 2147483647n] }));
    expect(l.onnxDType).toBe('INT64');
    expect(l.tensor.dtype).toBe('int32');
    expect(l.tensor.toFlat()).toEqual([-5, 2147483647]);
    const b = decodeOnnxTensor(tensorProto({ dims: [3], type: BOOL, values: [true, false, true] }));
    expect(b.tensor.dtype).toBe('bool');
    expect(b.tensor.toArray()).toEqual([true, false, true]);
  });

  it('reads the typed fields (float_data, int64_data, int32_data) when raw_data is absent', () => {
    expect(decodeOnnxTensor(tensorProto({ dims: [2], type: FLOAT, values: [0.5, 1.5], typedFields: true })).tensor.toFlat()).toEqual([0.5, 1.5]);
    expect(decodeOnnxTensor(tensorProto({ dims: [2], type: INT64, values: [-3n, 4n], typedFields: true })).tensor.toFlat()).toEqual([-3, 4]);
    expect(decodeOnnxTensor(tensorProto({ dims: [2], type: BOOL, values: [true, false], typedFields: true })).tensor.toFlat()).toEqual([1, 0]);
  });

  it('decodes scalars and empty tensors', () => {
    const s = decodeOnnxTensor(tensorProto({ dims: [], type: FLOAT, values: [3] }));
    expect(s.tensor.shape).toEqual([]);
    expect(s.tensor.toArray()).toBe(3);
    const e = decodeOnnxTensor(tensorProto({ dims: [2, 0], type: FLOAT, values: [] }));
    expect(e.tensor.shape).toEqual([2, 0]);
  });

  it('rejects an int64 value past int32 with a clear message, or saturates on request', () => {
    const bytes = tensorProto({ name: 'big', dims: [1], type: INT64, values: [9223372036854775807n] });
    let err: unknown;
    try {
      decodeOnnxTensor(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).code).toBe('UNSUPPORTED');
    expect((err as KilnError).message).toMatch(/'big'.*9223372036854775807.*does not fit in int32/);
    expect(decodeOnnxTensor(bytes, { saturate: true }).tensor.toFlat()).toEqual([2147483647]);
  });

  it('rejects element types without a Kiln dtype', () => {
    expect(() => decodeOnnxTensor(tensorProto({ dims: [1], type: DOUBLE, values: [1] }))).toThrow(/DOUBLE has no Kiln dtype/);
  });

  it('reports a data length that disagrees with dims as CORRUPT_MODEL', () => {
    const bytes = tensorProto({ dims: [3], type: FLOAT, values: [1, 2] });
    expect(() => decodeOnnxTensor(bytes)).toThrow(expect.objectContaining({ code: 'CORRUPT_MODEL' }) as unknown as Error);
  });
});

describe('decodeOnnxTensor on non-tensor values and damaged bytes', () => {
  it('a SequenceProto or OptionalProto value is UNSUPPORTED, naming sequence/optional', () => {
    const el = onnxType('TensorProto').create({ dims: [2], data_type: FLOAT, float_data: [1, 2] });
    const seq = onnxType('SequenceProto')
      .encode(onnxType('SequenceProto').create({ name: 'seq', elem_type: 1, tensor_values: [el] }))
      .finish();
    const opt = onnxType('OptionalProto')
      .encode(onnxType('OptionalProto').create({ name: 'opt', elem_type: 1, tensor_value: el }))
      .finish();
    const empty = onnxType('OptionalProto')
      .encode(onnxType('OptionalProto').create({ name: 'x', elem_type: 1 }))
      .finish();
    for (const [label, bytes] of [
      ['sequence', seq],
      ['optional', opt],
      ['empty optional', empty],
    ] as const) {
      let err: unknown;
      try {
        decodeOnnxTensor(bytes);
      } catch (e) {
        err = e;
      }
      expect([label, (err as KilnError).code, (err as KilnError).message]).toEqual([label, 'UNSUPPORTED', expect.stringMatching(/sequence or optional/)]);
    }
  });

  it('truncated bytes are CORRUPT_MODEL naming the protobuf message', () => {
    const bytes = tensorProto({ name: 'x', dims: [4], type: FLOAT, values: [1, 2, 3, 4] });
    let err: unknown;
    try {
      decodeOnnxTensor(bytes.subarray(0, bytes.length - 3));
    } catch (e) {
      err = e;
    }
    expect([(err as KilnError).code, (err as KilnError).message]).toEqual(['CORRUPT_MODEL', expect.stringMatching(/^ONNX TensorProto at byte \d+: /)]);
  });
});
