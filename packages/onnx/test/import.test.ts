import { describe, expect, it } from '@jest/globals';
import { tensor } from '@kiln/graph';
import { importOnnx, importOnnxModel, staticInputNames } from '@kiln/onnx';
import { evaluate } from '@kiln/runtime-cpu';
import { FLOAT, INT64, modelProto } from './onnx-builder.js';

describe('importOnnx', () => {
  it('maps graph inputs to placeholders (dim_param -> null) and outputs to named tensors', () => {
    const bytes = modelProto({
      nodes: [
        { op: 'Add', inputs: ['x', 'y'], outputs: ['s'] },
        { op: 'Relu', inputs: ['s'], outputs: ['out'], name: 'relu_node' },
      ],
      inputs: [
        { name: 'x', type: FLOAT, dims: ['batch', 3] },
        { name: 'y', type: FLOAT, dims: [3] },
      ],
      outputs: [{ name: 'out', type: FLOAT, dims: ['batch', 3] }],
    });
    const g = importOnnx(bytes);
    const x = g.tensorByName('x');
    expect(x.shape).toEqual([null, 3]);
    expect(g.tensorByName('y').shape).toEqual([3]);
    const out = g.tensorByName('out');
    expect(out.shape).toEqual([null, 3]);
    const [v] = evaluate([out], {
      x: tensor([
        [1, -2, 3],
        [-4, 5, -6],
      ]),
      y: tensor([1, 1, 1]),
    });
    expect(v!.toArray()).toEqual([
      [2, 0, 4],
      [0, 6, 0],
    ]);
  });

  it('turns initializers into constants, or variables on request', () => {
    const spec = {
      nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
      inputs: [{ name: 'x', type: FLOAT, dims: [1, 2] }],
      outputs: [{ name: 'y', type: FLOAT, dims: [1, 2] }],
      initializers: [{ name: 'w', dims: [2, 2], type: FLOAT, values: [1, 2, 3, 4] }],
    };
    const m = importOnnxModel(modelProto(spec));
    expect(m.inputNames).toEqual(['x']);
    expect(m.graph.nodes.filter((n) => n.op === 'const')).toHaveLength(1);
    expect(evaluate(m.outputs, { x: tensor([[1, 1]]) })[0]!.toArray()).toEqual([[4, 6]]);
    const mv = importOnnxModel(modelProto(spec), { initializersAsVariables: true });
    expect(mv.graph.variables()).toHaveLength(1);
    expect(evaluate(mv.outputs, { x: tensor([[1, 0]]) })[0]!.toArray()).toEqual([[1, 2]]);
  });

  it('folds shape arithmetic at import time into static reshape attrs', () => {
    // y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): the usual "flatten but the batch".
    const bytes = modelProto({
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['shp'] },
        { op: 'Constant', inputs: [], outputs: ['zero'], attrs: { value: { t: { dims: [], type: INT64, values: [0n] } } } },
        { op: 'Gather', inputs: ['shp', 'zero'], outputs: ['n'] },
        { op: 'Constant', inputs: [], outputs: ['ax'], attrs: { value: { t: { dims: [1], type: INT64, values: [0n] } } } },
        { op: 'Unsqueeze', inputs: ['n', 'ax'], outputs: ['n1'] },
        { op: 'Constant', inputs: [], outputs: ['m1'], attrs: { value_ints: { ints: [-1] } } },
        { op: 'Concat', inputs: ['n1', 'm1'], outputs: ['target'], attrs: { axis: { i: 0 } } },
        { op: 'Reshape', inputs: ['x', 'target'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', type: FLOAT, dims: [2, 3, 4] }],
      outputs: [{ name: 'y', type: FLOAT, dims: [2, 12] }],
    });
    const g = importOnnx(bytes);
    const ops = g.nodes.map((n) => n.op);
    expect(ops).toEqual(['placeholder', 'reshape', 'identity']);
    expect(g.nodes[1]!.attrs.shape).toEqual([2, -1]);
    expect(g.tensorByName('y').shape).toEqual([2, 12]);
  });

  it('handles empty-string optional inputs (Clip without min)', () => {
    const bytes = modelProto({
      nodes: [{ op: 'Clip', inputs: ['x', '', 'hi'], outputs: ['y'] }],
      inputs: [
        { name: 'x', type: FLOAT, dims: [3] },
        { name: 'hi', type: FLOAT, dims: [] },
      ],
      outputs: [{ name: 'y', type: FLOAT, dims: [3] }],
    });
    const g = importOnnx(bytes);
    const [v] = evaluate([g.tensorByName('y')], { x: tensor([-5, 1, 9]), hi: tensor(2) });
    expect(v!.toFlat()).toEqual([-5, 1, 2]);
  });

  it('binds shape-like graph inputs given in inputValues and lists them with staticInputNames', () => {
    const bytes = modelProto({
      nodes: [{ op: 'Reshape', inputs: ['data', 'shape'], outputs: ['y'] }],
      inputs: [
        { name: 'data', type: FLOAT, dims: [2, 3] },
        { name: 'shape', type: INT64, dims: [2] },
      ],
      outputs: [{ name: 'y', type: FLOAT, dims: [3, 2] }],
    });
    expect(staticInputNames(bytes)).toEqual(['shape']);
    expect(() => importOnnx(bytes)).toThrow(/Reshape.*input 1 \(shape, 'shape'\) must be a constant.*inputValues/s);
    const m = importOnnxModel(bytes, { inputValues: { shape: tensor([3, -1], [2], 'int32') } });
    expect(m.inputNames).toEqual(['data']);
    expect(m.outputs[0]!.shape).toEqual([3, 2]);
  });

  it('saturates an INT64_MAX Slice end (the usual "to the end")', () => {
    const i64 = (v: bigint) => ({ t: { dims: [1], type: INT64, values: [v] } });
    const bytes = modelProto({
      nodes: [
        { op: 'Constant', inputs: [], outputs: ['st'], attrs: { value: i64(1n) } },
        { op: 'Constant', inputs: [], outputs: ['en'], attrs: { value: i64(9223372036854775807n) } },
        { op: 'Slice', inputs: ['x', 'st', 'en'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', type: FLOAT, dims: [4] }],
      outputs: [{ name: 'y', type: FLOAT, dims: [3] }],
    });
    const g = importOnnx(bytes);
    expect(evaluate([g.tensorByName('y')], { x: tensor([1, 2, 3, 4]) })[0]!.toFlat()).toEqual([2, 3, 4]);
  });

  it('truncates integer Div toward zero and supports Split with uneven num_outputs', () => {
    const bytes = modelProto({
      nodes: [
        { op: 'Div', inputs: ['a', 'b'], outputs: ['q'] },
        { op: 'Split', inputs: ['a'], outputs: ['p0', 'p1', 'p2'], attrs: { num_outputs: { i: 3 } } },
      ],
      inputs: [
        { name: 'a', type: INT64, dims: [5] },
        { name: 'b', type: INT64, dims: [5] },
      ],
      outputs: [
        { name: 'q', type: INT64, dims: [5] },
        { name: 'p0', type: INT64, dims: [2] },
        { name: 'p1', type: INT64, dims: [2] },
        { name: 'p2', type: INT64, dims: [1] },
      ],
    });
    const m = importOnnxModel(bytes);
    const [q, p0, p1, p2] = evaluate(m.outputs, { a: tensor([7, -7, 7, -7, 6], [5], 'int32'), b: tensor([2, 2, -2, -2, 3], [5], 'int32') });
    expect(q!.toFlat()).toEqual([3, -3, -3, 3, 2]);
    expect([p0!.toFlat(), p1!.toFlat(), p2!.toFlat()]).toEqual([[7, -7], [7, -7], [6]]);
  });
});
