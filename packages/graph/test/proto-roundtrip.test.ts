/** serializeGraph / deserializeGraph round trips: structure, attrs of every type, bit-exact tensors, variables, signatures. */
import { describe, expect, it } from '@jest/globals';
import {
  Graph,
  KilnError,
  type Node,
  Tensor,
  add,
  concat,
  conv2d,
  leakyRelu,
  maxPool,
  split,
  sum,
  deserializeGraph,
  deserializeModel,
  matMul,
  printGraph,
  registerOp,
  relu,
  serializeGraph,
  tensor,
} from '@kiln/graph';
import { expectSameGraph } from './proto-compare.js';

// A test-only op with one attr of every AttrSpec type (it passes its input through).
registerOp({
  name: 'protoTestAllAttrs',
  family: 'test',
  inputs: [{ name: 'x' }],
  attrs: {
    i: { type: 'int' },
    f: { type: 'float' },
    b: { type: 'bool' },
    s: { type: 'string' },
    is: { type: 'ints' },
    fs: { type: 'floats' },
    dt: { type: 'dtype' },
    sh: { type: 'shape' },
    t: { type: 'tensor' },
    withDefault: { type: 'float', default: 0.5 },
  },
  infer: ([x]) => [{ dtype: x!.dtype, shape: [...x!.shape] }],
});

function floatsFromBits(bits: number[]): Float32Array {
  return new Float32Array(new Uint32Array(bits).buffer);
}

function roundTrip(g: Graph): Graph {
  return deserializeGraph(serializeGraph(g));
}

/** A small model: placeholder, trainable and frozen variables, a constant, a few ops, a control input. */
function smallModel(): { g: Graph; w: Node; frozen: Node } {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 3], 'x');
  const w = g.variable(
    tensor([
      [0.1, -0.2],
      [0.3, 0.4],
      [-0.5, 0.6],
    ]),
    'w',
  );
  const frozen = g.variable(tensor([1, 2], [2], 'int32'), 'steps', { trainable: false });
  const c = g.constant(tensor([0.25, -1]), undefined, 'bias');
  const h = g.nameScope('dense', () => relu(add(matMul(x, w), c)));
  g.addNode('relu', [h], {}, { name: 'after', controlInputs: [frozen.node, w.node] });
  return { g, w: w.node, frozen: frozen.node };
}

describe('serializeGraph / deserializeGraph', () => {
  it('round-trips a small model exactly (names, order, inputs, control inputs, attrs, types)', () => {
    const { g } = smallModel();
    const bytes = serializeGraph(g);
    expect(bytes).toBeInstanceOf(Uint8Array);
    const back = deserializeGraph(bytes);
    expectSameGraph(back, g);
    expect(back.nodeByName('after')!.controlInputs.map((n) => n.name)).toEqual(['steps', 'w']);
    expect(back.nodeByName('steps')!.attrs['trainable']).toBe(false);
    expect(back.nodeByName('w')!.attrs['trainable']).toBe(true);
    // serializing the copy again gives the same bytes
    expect(Array.from(serializeGraph(back))).toEqual(Array.from(bytes));
  });

  it('prints the same text IR after a round trip', () => {
    const { g } = smallModel();
    expect(printGraph(roundTrip(g))).toBe(printGraph(g));
  });

  it('keeps tensor values bit for bit: NaN payloads, -0, Inf, denormals, int32 extremes, bools, empty tensors', () => {
    const g = new Graph();
    const specials = floatsFromBits([0x7fc00000, 0x7fc00001, 0xffbfffff, 0x7f800001, 0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0x3f800000]);
    g.constant(new Tensor('float32', [3, 3], specials), undefined, 'specials');
    g.variable(new Tensor('float32', [2], floatsFromBits([0x7fa00005, 0x80000000])), 'nanvar');
    g.constant(new Tensor('int32', [4], new Int32Array([-2147483648, 2147483647, 0, -1])), undefined, 'ints');
    g.constant(new Tensor('bool', [2, 2], new Uint8Array([1, 0, 0, 1])), undefined, 'bools');
    g.constant(new Tensor('float32', [2, 0, 3]), undefined, 'empty');
    g.constant(new Tensor('int32', [], new Int32Array([7])), undefined, 'scalar');
    const back = roundTrip(g);
    expectSameGraph(back, g);
    expect(printGraph(back)).toBe(printGraph(g));
    const bits = new Uint32Array((back.nodeByName('specials')!.attrs['value'] as Tensor).data.buffer);
    expect(Array.from(bits)).toEqual(Array.from(new Uint32Array(specials.buffer)));
    expect((back.nodeByName('scalar')!.attrs['value'] as Tensor).shape).toEqual([]);
    expect((back.nodeByName('empty')!.attrs['value'] as Tensor).shape).toEqual([2, 0, 3]);
  });

  it('restores every attr type exactly (int vs float, float64 precision, empty lists, shapes with null)', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 2], 'x');
    const cases: Record<string, unknown>[] = [
      { i: 3, f: 0.1, b: true, s: 'same', is: [1, -2, 3], fs: [0.1, 2.5, -1e-30], dt: 'int32', sh: [null, 28, 28, 1], t: tensor([[1, 2]]) },
      { i: -9007199254740991, f: -0, b: false, s: '', is: [], fs: [], dt: 'bool', sh: [], t: tensor([], [0]), withDefault: 1e300 },
      { i: 0, f: Number.NaN, b: true, s: 'ünïcödé ✓ 🚀', is: [0], fs: [Infinity, -Infinity, Number.NaN, -0], dt: 'float32', sh: [null], t: tensor(true) },
      { i: 9007199254740991, f: 1, b: false, s: 'a:b^c', is: [2 ** 40], fs: [1.5], dt: 'float32', sh: [0, null, 5], t: tensor(3, [], 'int32') },
    ];
    for (const [k, attrs] of cases.entries()) g.addNode('protoTestAllAttrs', [x], attrs as never, { name: `t${k}` });
    const back = roundTrip(g);
    expectSameGraph(back, g);
    expect(printGraph(back)).toBe(printGraph(g));
    const a1 = back.nodeByName('t1')!.attrs;
    expect(Object.is(a1['f'], -0)).toBe(true);
    expect(a1['is']).toEqual([]);
    expect(a1['withDefault']).toBe(1e300);
    expect(back.nodeByName('t0')!.attrs['f']).toBe(0.1); // not Math.fround(0.1)
    expect(back.nodeByName('t0')!.attrs['fs']).toEqual([0.1, 2.5, -1e-30]);
    expect(back.nodeByName('t0')!.attrs['sh']).toEqual([null, 28, 28, 1]);
    expect(back.nodeByName('t2')!.attrs['s']).toBe('ünïcödé ✓ 🚀');
    expect(back.nodeByName('t3')!.attrs['is']).toEqual([2 ** 40]);
  });

  it('round-trips multi-output nodes, odd names and a graph of real ops', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 4], 'in:put');
    const parts = split(x, 2, 1);
    const y = add(parts[1]!, parts[0]!);
    g.addNode('relu', [y], {}, { name: 'scope/odd name:7' });
    const z = relu(g.tensorByName('scope/odd name:7'));
    const img = g.placeholder('float32', [null, 8, 8, 1], 'img');
    const f = g.variable(
      tensor(
        Array.from({ length: 18 }, (_, i) => i / 7),
        [3, 3, 1, 2],
      ),
      'filter',
    );
    const conv = leakyRelu(conv2d(img, f, 1, 'same'), 0.2);
    const pooled = maxPool(conv, 2, 2, 'valid');
    sum(pooled, [1, 2], true);
    concat([z, y], 1);
    const back = roundTrip(g);
    expectSameGraph(back, g);
    expect(back.nodeByName('add')!.inputs.map((t) => t.name)).toEqual(['split:1', 'split']);
    expect(back.nodeByName('relu')!.inputs[0]!.node.name).toBe('scope/odd name:7');
    expect(printGraph(back)).toBe(printGraph(g));
  });

  it('saves session values of variables (options.variables) and keeps the trainable flag', () => {
    const { g, w, frozen } = smallModel();
    const trained = tensor([
      [9, 8],
      [7, 6],
      [5, 4],
    ]);
    const bytes = serializeGraph(g, {
      variables: new Map([
        [w, trained],
        [frozen, tensor([5, 6], [2], 'int32')],
      ]),
    });
    const back = deserializeGraph(bytes);
    expect((back.nodeByName('w')!.attrs['value'] as Tensor).toArray()).toEqual(trained.toArray());
    expect((back.nodeByName('steps')!.attrs['value'] as Tensor).toArray()).toEqual([5, 6]);
    expect(back.nodeByName('steps')!.attrs['trainable']).toBe(false);
    // the original graph is untouched
    expect((g.nodeByName('w')!.attrs['value'] as Tensor).toArray()).toEqual(
      [
        [0.1, -0.2],
        [0.3, 0.4],
        [-0.5, 0.6],
      ].map((r) => r.map(Math.fround)),
    );
  });

  it('rejects bad options.variables with a KilnError naming the variable', () => {
    const { g, w } = smallModel();
    const code = (f: () => unknown): string => {
      try {
        f();
        return 'no error';
      } catch (e) {
        expect(e).toBeInstanceOf(KilnError);
        return `${(e as KilnError).code}: ${(e as Error).message}`;
      }
    };
    expect(code(() => serializeGraph(g, { variables: new Map([[w, tensor([1, 2])]]) }))).toMatch(/^SHAPE_MISMATCH: .*'w'.*\[2\].*\[3,2\]/);
    expect(
      code(() =>
        serializeGraph(g, {
          variables: new Map([
            [
              w,
              tensor(
                [
                  [1, 2],
                  [3, 4],
                  [5, 6],
                ],
                undefined,
                'int32',
              ),
            ],
          ]),
        }),
      ),
    ).toMatch(/^DTYPE_MISMATCH: .*'w'/);
    expect(code(() => serializeGraph(g, { variables: new Map([[g.nodeByName('bias')!, tensor([1, 2])]]) }))).toMatch(
      /^INVALID_ARGUMENT: .*not a variable node/,
    );
  });

  it('stores signatures, producer and metadata (deserializeModel)', () => {
    const { g } = smallModel();
    const bytes = serializeGraph(g, {
      signatures: { serving_default: { inputs: { features: g.tensorByName('x') }, outputs: { scores: g.tensorByName('dense/relu') }, methodName: 'predict' } },
      producer: 'kiln-test',
      metadata: { trainingConfig: '{"optimizer":"adam"}' },
    });
    const m = deserializeModel(bytes);
    expect(m.formatVersion).toBe(1);
    expect(m.producer).toBe('kiln-test');
    expect(m.metadata).toEqual({ trainingConfig: '{"optimizer":"adam"}' });
    const sig = m.signatures['serving_default']!;
    expect(sig.methodName).toBe('predict');
    expect(sig.inputs['features']).toBe(m.graph.tensorByName('x'));
    expect(sig.outputs['scores']).toBe(m.graph.tensorByName('dense/relu'));
    expect(deserializeModel(serializeGraph(g)).producer).toBe('kiln');
  });

  it('round-trips an empty graph', () => {
    expect(roundTrip(new Graph()).nodes).toHaveLength(0);
  });
});
