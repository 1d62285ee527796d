/**
 * The float64 opt-in of importOnnx (UNSUPPORTED by default; `float64: 'float32'` computes in
 * float32 with one warning) and the composed importers (Mod, GatherElements, ScatterElements,
 * Trilu, DepthToSpace, Hardmax, NegativeLogLikelihoodLoss) against hand-computed values.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { tensor } from '@kiln/graph';
import { decodeOnnxTensor, importOnnxModel } from '@kiln/onnx';
import { evaluate } from '@kiln/runtime-cpu';
import { DOUBLE, FLOAT, INT32, INT64, type ModelSpec, modelProto, tensorProto } from './onnx-builder.js';
import { kilnErrorOf } from '../../../tests/helpers/kiln-error.js';

afterEach(() => {
  jest.restoreAllMocks();
});

describe('float64 models', () => {
  const spec: ModelSpec = {
    nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
    inputs: [{ name: 'x', type: DOUBLE, dims: [2] }],
    outputs: [{ name: 'y', type: DOUBLE, dims: [2] }],
    initializers: [{ name: 'w', dims: [2], type: DOUBLE, values: [0.25, -1] }],
  };

  it('are UNSUPPORTED by default, naming DOUBLE', () => {
    const e = kilnErrorOf(() => importOnnxModel(modelProto(spec)));
    expect([e.code, e.message]).toEqual(['UNSUPPORTED', expect.stringMatching(/DOUBLE/)]);
  });

  it("run in float32 with one warning when float64: 'float32' is passed", () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const m = importOnnxModel(modelProto(spec), { float64: 'float32' });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/float64 .* computed in float32/);
    expect(evaluate(m.outputs, { x: tensor([1, 2]) })[0]!.toFlat()).toEqual([1.25, 1]);
    const d = decodeOnnxTensor(tensorProto({ dims: [2], type: DOUBLE, values: [0.5, 3] }), { float64: 'float32' });
    expect([d.onnxDType, d.tensor.dtype, d.tensor.toFlat()]).toEqual(['DOUBLE', 'float32', [0.5, 3]]);
  });

  it('an unknown float64 option is INVALID_ARGUMENT', () => {
    expect(kilnErrorOf(() => importOnnxModel(modelProto(spec), { float64: 'float16' as 'float32' })).code).toBe('INVALID_ARGUMENT');
  });
});

/** Imports a one-node model and runs it on the reference executor. */
function run1(
  op: string,
  ins: { name: string; type: number; dims: number[] }[],
  feeds: Record<string, ReturnType<typeof tensor>>,
  attrs: ModelSpec['nodes'][0]['attrs'] = {},
  outDims: number[] = [],
  outType = FLOAT,
  opset = 18,
): number[] {
  const m = importOnnxModel(
    modelProto({
      nodes: [{ op, inputs: ins.map((i) => i.name), outputs: ['y'], attrs }],
      inputs: ins,
      outputs: [{ name: 'y', type: outType, dims: outDims }],
      opset,
    }),
  );
  return evaluate(m.outputs, feeds)[0]!.toFlat() as number[];
}

describe('composed importers', () => {
  it('Mod: Python remainder by default, C fmod with fmod=1, on int and float', () => {
    const a = tensor([-7, 7, -7, 7], undefined, 'int32');
    const b = tensor([3, -3, -3, 3], undefined, 'int32');
    const ins = [
      { name: 'a', type: INT32, dims: [4] },
      { name: 'b', type: INT32, dims: [4] },
    ];
    expect(run1('Mod', ins, { a, b }, {}, [4], INT32)).toEqual([2, -2, -1, 1]);
    expect(run1('Mod', ins, { a, b }, { fmod: { i: 1 } }, [4], INT32)).toEqual([-1, 1, -1, 1]);
    const fins = [
      { name: 'a', type: FLOAT, dims: [2] },
      { name: 'b', type: FLOAT, dims: [2] },
    ];
    const got = run1('Mod', fins, { a: tensor([-7.5, 7.5]), b: tensor([2, -2]) }, { fmod: { i: 1 } }, [2]);
    expect(got).toEqual([-1.5, 1.5]);
    expect(run1('Mod', fins, { a: tensor([-7.5, 7.5]), b: tensor([2, -2]) }, {}, [2])).toEqual([0.5, -0.5]);
  });

  it('GatherElements and ScatterElements along axis 1 (negative indices wrap)', () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const idx = tensor(
      [
        [2, 0],
        [-1, 1],
      ],
      undefined,
      'int32',
    );
    const gins = [
      { name: 'x', type: FLOAT, dims: [2, 3] },
      { name: 'i', type: INT64, dims: [2, 2] },
    ];
    expect(run1('GatherElements', gins, { x, i: idx }, { axis: { i: 1 } }, [2, 2])).toEqual([3, 1, 6, 5]);
    const sins = [...gins, { name: 'u', type: FLOAT, dims: [2, 2] }];
    const u = tensor([
      [10, 20],
      [30, 40],
    ]);
    expect(run1('ScatterElements', sins, { x, i: idx, u }, { axis: { i: 1 } }, [2, 3])).toEqual([20, 2, 10, 4, 40, 30]);
    expect(run1('ScatterElements', sins, { x, i: idx, u }, { axis: { i: 1 }, reduction: { s: 'add' } }, [2, 3])).toEqual([21, 2, 13, 4, 45, 36]);
  });

  it('Trilu keeps the upper or lower triangle from diagonal k', () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const ins = [{ name: 'x', type: FLOAT, dims: [2, 3] }];
    expect(run1('Trilu', ins, { x }, {}, [2, 3])).toEqual([1, 2, 3, 0, 5, 6]);
    expect(run1('Trilu', ins, { x }, { upper: { i: 0 } }, [2, 3])).toEqual([1, 0, 0, 4, 5, 0]);
  });

  it('DepthToSpace (DCR) then SpaceToDepth is the identity; Hardmax marks the first maximum', () => {
    const x = tensor([...Array(16).keys()].map((i) => i)).reshape([1, 4, 2, 2]);
    const d2s = run1('DepthToSpace', [{ name: 'x', type: FLOAT, dims: [1, 4, 2, 2] }], { x }, { blocksize: { i: 2 } }, [1, 1, 4, 4]);
    // out[0,0,h*2+i,w*2+j] = x[0, i*2+j, h, w]
    expect(d2s.slice(0, 4)).toEqual([0, 4, 1, 5]);
    const back = run1(
      'SpaceToDepth',
      [{ name: 'x', type: FLOAT, dims: [1, 1, 4, 4] }],
      { x: tensor(d2s).reshape([1, 1, 4, 4]) },
      { blocksize: { i: 2 } },
      [1, 4, 2, 2],
    );
    expect(back).toEqual(x.toFlat());
    expect(
      run1(
        'Hardmax',
        [{ name: 'x', type: FLOAT, dims: [2, 3] }],
        {
          x: tensor([
            [1, 3, 3],
            [5, 0, 1],
          ]),
        },
        {},
        [2, 3],
      ),
    ).toEqual([0, 1, 0, 1, 0, 0]);
  });

  it('NegativeLogLikelihoodLoss: mean over the weights of the non-ignored targets', () => {
    const logp = tensor([
      [-1, -2, -3],
      [-0.5, -1.5, -2.5],
      [-3, -2, -1],
    ]);
    const t = tensor([0, 2, 1], undefined, 'int32');
    const w = tensor([1, 2, 4]);
    const ins = [
      { name: 'p', type: FLOAT, dims: [3, 3] },
      { name: 't', type: INT64, dims: [3] },
      { name: 'w', type: FLOAT, dims: [3] },
    ];
    // Target 1 (row 2) is ignored: (1*1 + 4*2.5) / (1 + 4).
    const [loss] = run1('NegativeLogLikelihoodLoss', ins, { p: logp, t, w }, { ignore_index: { i: 1 } }, []);
    expect(loss).toBeCloseTo(11 / 5, 6);
  });
});
