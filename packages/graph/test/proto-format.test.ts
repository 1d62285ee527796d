/**
 * The wire format: the embedded schema matches proto/kiln.proto, GraphDef/NodeDef/AttrValue/
 * TensorProto use TensorFlow's field numbers (checked with an independent wire reader), files
 * written by hand in TensorFlow's layout load, newer versions and every kind of damage are
 * reported as KilnError UNSUPPORTED_VERSION / CORRUPT_MODEL with a message saying what is wrong.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import {
  Graph,
  KILN_PROTO_TEXT,
  KilnError,
  MODEL_FORMAT_VERSION,
  type Tensor,
  crc32,
  deserializeGraph,
  registerOp,
  serializeGraph,
  serializeGraphDef,
  tensor,
} from '@kiln/graph';
import { seal } from './proto-compare.js';
import { Msg, fieldMap, readFields, text } from './proto-wire.js';
import { kilnErrorOf } from '../../../tests/helpers/kiln-error.js';

registerOp({
  name: 'protoFormatAttrs',
  family: 'test',
  inputs: [{ name: 'x' }],
  attrs: { n: { type: 'int' }, alpha: { type: 'float' }, mode: { type: 'string' }, axes: { type: 'ints' }, ws: { type: 'floats' } },
  infer: ([x]) => [{ dtype: x!.dtype, shape: [...x!.shape] }],
});

const DT_FLOAT = 1;
const DT_INT32 = 3;
const DT_BOOL = 10;

type Fields = Map<number, (bigint | Uint8Array)[]>;
const sub = (m: Fields, field: number, k = 0): Fields => fieldMap(m.get(field)![k] as Uint8Array);
const int = (m: Fields, field: number): number => Number(m.get(field)![0] as bigint);

/** The AttrValue of `key` in a NodeDef's field map (attr = field 5, map entries key=1 value=2). */
function attrOf(node: Fields, key: string): Fields {
  for (const entry of node.get(5) ?? []) {
    const e = fieldMap(entry as Uint8Array);
    if (text(e.get(1)![0]) === key) return fieldMap(e.get(2)![0] as Uint8Array);
  }
  throw new Error(`no attr ${key}`);
}

// ---- hand-written messages with TensorFlow's field numbers ----
const dim = (size: number): Msg => new Msg().int(1, size);
const shapeMsg = (dims: number[]): Msg => dims.reduce((m, d) => m.msg(2, dim(d)), new Msg());
const attrEntry = (key: string, value: Msg): Msg => new Msg().str(1, key).msg(2, value);
const attrType = (dt: number): Msg => new Msg().int(6, dt);
const attrShape = (dims: number[]): Msg => new Msg().msg(7, shapeMsg(dims));
const tensorMsg = (dt: number, dims: number[]): Msg => new Msg().int(1, dt).msg(2, shapeMsg(dims));
function nodeMsg(name: string, op: string, inputs: string[], attrs: [string, Msg][] = []): Msg {
  const m = new Msg().str(1, name).str(2, op);
  for (const i of inputs) m.str(3, i);
  for (const [k, v] of attrs) m.msg(5, attrEntry(k, v));
  return m;
}
const placeholderMsg = (name: string, dt = DT_FLOAT, dims = [-1, 2]): Msg =>
  nodeMsg(
    name,
    'placeholder',
    [],
    [
      ['dtype', attrType(dt)],
      ['shape', attrShape(dims)],
    ],
  );
const constMsg = (name: string, t: Msg): Msg => nodeMsg(name, 'const', [], [['value', new Msg().msg(8, t)]]);
const f32bytes = (vs: number[]): Uint8Array => new Uint8Array(new Float32Array(vs).buffer);

/** A model with one protoFormatAttrs node whose attrs are valid except `overrides`. */
function formatOpModel(overrides: Record<string, Msg>): Uint8Array {
  const attrs: Record<string, Msg> = {
    n: new Msg().int(3, 1),
    alpha: new Msg().float(4, 1),
    mode: new Msg().str(2, 'a'),
    axes: new Msg().msg(1, new Msg()),
    ws: new Msg().msg(1, new Msg()),
    ...overrides,
  };
  return modelBytes([placeholderMsg('x'), nodeMsg('o', 'protoFormatAttrs', ['x'], Object.entries(attrs))]);
}

/** A sealed ModelProto around hand-written nodes (and VariableProtos). */
function modelBytes(nodes: Msg[], opts: { version?: number; variables?: Msg[]; graph?: boolean } = {}): Uint8Array {
  const m = new Msg().int(1, opts.version ?? 1);
  if (opts.graph !== false)
    m.msg(
      3,
      nodes.reduce((g, n) => g.msg(1, n), new Msg()),
    );
  for (const v of opts.variables ?? []) m.msg(5, v);
  return seal(m.finish());
}

describe('kiln.proto schema', () => {
  it('the embedded schema text is identical to proto/kiln.proto', () => {
    const onDisk = readFileSync(new URL('../../../proto/kiln.proto', import.meta.url), 'utf8');
    // On failure: copy proto/kiln.proto into packages/graph/src/proto/schema-text.ts (KILN_PROTO_TEXT).
    expect(KILN_PROTO_TEXT).toBe(onDisk);
  });

  it('crc32 is the IEEE CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('a model starts with format_version and ends with the CRC-32 of everything before it', () => {
    const g = new Graph();
    g.placeholder('float32', [2], 'x');
    const bytes = serializeGraph(g);
    expect(Array.from(bytes.subarray(0, 2))).toEqual([0x08, MODEL_FORMAT_VERSION]);
    const fields = readFields(bytes);
    expect(fields[0]).toEqual({ field: 1, wire: 0, value: BigInt(MODEL_FORMAT_VERSION) });
    expect(fields.at(-1)).toEqual({ field: 15, wire: 5, value: BigInt(crc32(bytes.subarray(0, bytes.length - 5))) });
    expect(fields.map((f) => f.field)).toEqual([1, 2, 3, 15]); // no variables, signatures or metadata
  });
});

describe('TensorFlow field numbers', () => {
  it('GraphDef, NodeDef, AttrValue, TensorShapeProto and TensorProto use them', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 3], 'x');
    const w = g.variable(tensor([1, 2, 3]), 'w', { trainable: false });
    const c = g.constant(tensor([4, 5, 6], [3], 'int32'), undefined, 'c');
    g.addNode('protoFormatAttrs', [x], { n: -7, alpha: 0.5, mode: 'same', axes: [0, 2], ws: [0.25, 1.5] }, { name: 'op', controlInputs: [w.node, c.node] });
    const gd = fieldMap(serializeGraphDef(g));
    expect([...gd.keys()]).toEqual([1, 4]); // node = 1, versions = 4
    const nodes = gd.get(1)!.map((b) => fieldMap(b as Uint8Array));
    expect(nodes.map((n) => text(n.get(1)![0]))).toEqual(['x', 'w', 'c', 'op']); // name = 1
    expect(nodes.map((n) => text(n.get(2)![0]))).toEqual(['placeholder', 'variable', 'const', 'op'].map((s) => (s === 'op' ? 'protoFormatAttrs' : s))); // op = 2
    expect(nodes[3]!.get(3)!.map((b) => text(b))).toEqual(['x', '^w', '^c']); // input = 3
    // placeholder: dtype -> AttrValue.type = 6 (DT_FLOAT = 1); shape -> AttrValue.shape = 7, dim = 2, size = 1, unknown = -1
    expect(int(attrOf(nodes[0]!, 'dtype'), 6)).toBe(DT_FLOAT);
    const shape = sub(attrOf(nodes[0]!, 'shape'), 7);
    expect(shape.get(2)!.map((d) => Number(fieldMap(d as Uint8Array).get(1)![0]))).toEqual([-1, 3]);
    // variable: trainable -> AttrValue.b = 5; no value attr in the GraphDef
    expect(int(attrOf(nodes[1]!, 'trainable'), 5)).toBe(0);
    expect(() => attrOf(nodes[1]!, 'value')).toThrow();
    // const: value -> AttrValue.tensor = 8 -> TensorProto dtype = 1, tensor_shape = 2, tensor_content = 4
    const t = sub(attrOf(nodes[2]!, 'value'), 8);
    expect(int(t, 1)).toBe(DT_INT32);
    expect(
      Number(
        sub(t, 2)
          .get(2)!
          .map((d) => fieldMap(d as Uint8Array).get(1)![0])[0],
      ),
    ).toBe(3);
    expect(Array.from(t.get(4)![0] as Uint8Array)).toEqual([4, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0]);
    // int -> i = 3; float -> f = 4 (fixed32); string -> s = 2; ints -> list = 1, i = 3; floats -> list.f = 4
    const op = nodes[3]!;
    expect(int(attrOf(op, 'n'), 3)).toBe(-7);
    expect(readFields(serializeAttr(op, 'alpha'))).toEqual([{ field: 4, wire: 5, value: BigInt(0x3f000000) }]); // 0.5f
    expect(text(attrOf(op, 'mode').get(2)![0])).toBe('same');
    const axes = sub(attrOf(op, 'axes'), 1);
    expect(Array.from(axes.get(3)![0] as Uint8Array)).toEqual([0, 2]); // packed varints
    const ws = sub(attrOf(op, 'ws'), 1);
    expect(Array.from(ws.get(4)![0] as Uint8Array)).toEqual(Array.from(f32bytes([0.25, 1.5]))); // packed floats
    // _output_shapes: list.shape = 7, one per output
    expect(sub(attrOf(op, '_output_shapes'), 1).get(7)).toHaveLength(1);
    // versions: producer = 1
    expect(int(sub(gd, 4), 1)).toBe(MODEL_FORMAT_VERSION);
  });

  it('reads a file written in TensorFlow layout (float_val / int_val / bool_val, no _output_shapes)', () => {
    const bytes = modelBytes([
      placeholderMsg('x', DT_FLOAT, [-1, 2]),
      constMsg('filled', tensorMsg(DT_FLOAT, [2, 2]).packedFloats(5, [1.5])), // one value fills the shape
      constMsg('ints', tensorMsg(DT_INT32, [3]).packedVarints(7, [1, -2, 3])),
      constMsg('flags', tensorMsg(DT_BOOL, [2]).packedVarints(11, [1, 0])),
      constMsg('raw', tensorMsg(DT_FLOAT, [2]).bytesField(4, f32bytes([0.5, -0]))),
      nodeMsg('sum', 'add', ['x', 'raw:0']),
    ]);
    const g = deserializeGraph(bytes);
    const value = (n: string): Tensor => g.nodeByName(n)!.attrs['value'] as Tensor;
    expect(value('filled').toArray()).toEqual([
      [1.5, 1.5],
      [1.5, 1.5],
    ]);
    expect(value('ints').toArray()).toEqual([1, -2, 3]);
    expect(value('flags').toArray()).toEqual([true, false]);
    expect(Object.is(value('raw').data[1], -0)).toBe(true);
    expect(g.tensorByName('sum').shape).toEqual([null, 2]);
    expect(g.tensorByName('sum').node.inputs.map((t) => t.name)).toEqual(['x', 'raw']);
  });
});

/** The raw bytes of one AttrValue (to check a field's wire type). */
function serializeAttr(node: Fields, key: string): Uint8Array {
  for (const entry of node.get(5) ?? []) {
    const e = fieldMap(entry as Uint8Array);
    if (text(e.get(1)![0]) === key) return e.get(2)![0] as Uint8Array;
  }
  throw new Error(`no attr ${key}`);
}

describe('versions and damage', () => {
  it('a model from a newer format version is UNSUPPORTED_VERSION, naming both versions', () => {
    const e = kilnErrorOf(() => deserializeGraph(modelBytes([placeholderMsg('x')], { version: MODEL_FORMAT_VERSION + 1 })));
    expect(e.code).toBe('UNSUPPORTED_VERSION');
    expect(e.message).toContain(`format version ${MODEL_FORMAT_VERSION + 1}`);
    expect(e.message).toContain(`up to ${MODEL_FORMAT_VERSION}`);
  });

  it('a damaged file is CORRUPT_MODEL even when it claims a newer version', () => {
    const bytes = modelBytes([placeholderMsg('x')], { version: 9 });
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    const e = kilnErrorOf(() => deserializeGraph(bytes));
    expect(e.code).toBe('CORRUPT_MODEL');
    expect(e.message).toMatch(/checksum mismatch.*claims format version 9/);
  });

  it('rejects non-bytes arguments with INVALID_ARGUMENT', () => {
    expect(kilnErrorOf(() => deserializeGraph('model' as unknown as Uint8Array)).code).toBe('INVALID_ARGUMENT');
  });

  const varMsg = (name: string, t: Msg): Msg => new Msg().str(1, name).msg(2, t);
  const fvalue = (dims: number[], vs: number[]): Msg => tensorMsg(DT_FLOAT, dims).bytesField(4, f32bytes(vs));
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['empty input', () => new Uint8Array(0), /checksum field is missing/],
    ['not a model', () => new TextEncoder().encode('{"format": "json"}'), /checksum field is missing/],
    [
      'a flipped byte',
      () => {
        const b = serializeGraph(new Graph());
        b[1] = b[1]! ^ 4;
        return b;
      },
      /checksum mismatch/,
    ],
    ['truncated', () => serializeGraph(new Graph()).subarray(0, 3), /checksum/],
    ['no format_version', () => seal(new Msg().msg(3, new Msg()).finish()), /does not start with a format_version/],
    ['bad protobuf', () => seal(new Uint8Array([0x08, 0x01, 0x1a, 0x7f, 0x01])), /protobuf decoding failed/],
    ['no graph', () => modelBytes([], { graph: false }), /no graph/],
    ['unknown op', () => modelBytes([nodeMsg('n', 'fancyOp', [])]), /node 'n': unknown op 'fancyOp'/],
    ['input from a later node', () => modelBytes([nodeMsg('r', 'relu', ['x']), placeholderMsg('x')]), /'x' refers to a later node/],
    ['input from an unknown node', () => modelBytes([nodeMsg('r', 'relu', ['nope'])]), /'nope' refers to an unknown node/],
    ['output index out of range', () => modelBytes([placeholderMsg('x'), nodeMsg('r', 'relu', ['x:3'])]), /output 3 .* has 1 outputs/],
    ['data input after a control input', () => modelBytes([placeholderMsg('x'), nodeMsg('r', 'add', ['x', '^x', 'x'])]), /comes after a control input/],
    [
      'attr of the wrong kind',
      () =>
        modelBytes([
          nodeMsg(
            'x',
            'placeholder',
            [],
            [
              ['dtype', new Msg().int(3, 1)],
              ['shape', attrShape([2])],
            ],
          ),
        ]),
      /attr 'dtype': attr type 'dtype' needs AttrValue.type, got AttrValue.i/,
    ],
    [
      'attr without a value',
      () =>
        modelBytes([
          nodeMsg(
            'x',
            'placeholder',
            [],
            [
              ['dtype', new Msg()],
              ['shape', attrShape([2])],
            ],
          ),
        ]),
      /got no value/,
    ],
    [
      'unknown attr',
      () =>
        modelBytes([
          nodeMsg(
            'x',
            'placeholder',
            [],
            [
              ['dtype', attrType(DT_FLOAT)],
              ['shape', attrShape([2])],
              ['color', attrType(1)],
            ],
          ),
        ]),
      /unknown attr 'color'/,
    ],
    ['missing attr', () => modelBytes([nodeMsg('x', 'placeholder', [], [['dtype', attrType(DT_FLOAT)]])]), /missing required attr 'shape'/],
    ['negative dim', () => modelBytes([placeholderMsg('x', DT_FLOAT, [-2, 3])]), /dim 0 has size -2/],
    ['negative tensor dim', () => modelBytes([constMsg('c', fvalue([-1], []))]), /dim 0 has size -1 \(expected >= 0\)/],
    [
      'unknown rank',
      () =>
        modelBytes([
          nodeMsg(
            'x',
            'placeholder',
            [],
            [
              ['dtype', attrType(DT_FLOAT)],
              ['shape', new Msg().msg(7, new Msg().int(3, 1))],
            ],
          ),
        ]),
      /unknown rank/,
    ],
    ['unsupported dtype', () => modelBytes([placeholderMsg('x', 2)]), /unsupported DataType 2/],
    [
      'tensor content size mismatch',
      () => modelBytes([constMsg('c', fvalue([3], [1, 2]))]),
      /tensor_content has 8 bytes but a float32 tensor of 3 elements needs 12/,
    ],
    ['too few typed values', () => modelBytes([constMsg('c', tensorMsg(DT_FLOAT, [3]).packedFloats(5, [1, 2]))]), /2 values for a tensor of 3 elements/],
    ['typed values of another dtype', () => modelBytes([constMsg('c', tensorMsg(DT_FLOAT, [1]).packedVarints(7, [1]))]), /float32 tensor holds int_val/],
    ['huge fill', () => modelBytes([constMsg('c', tensorMsg(DT_FLOAT, [1e6, 1e6]).packedFloats(5, [0]))]), /1 values for a tensor of 1000000000000 elements/],
    ['tensor without values', () => modelBytes([constMsg('c', tensorMsg(DT_FLOAT, [2]))]), /no values/],
    [
      'inference error',
      () => modelBytes([placeholderMsg('a', DT_FLOAT), placeholderMsg('b', DT_INT32), nodeMsg('s', 'add', ['a', 'b'])]),
      /node 's' \(add\): .*float32 and int32/,
    ],
    ['wrong input count', () => modelBytes([placeholderMsg('a'), nodeMsg('s', 'add', ['a'])]), /expects 2 inputs/],
    ['duplicate names', () => modelBytes([placeholderMsg('a'), placeholderMsg('a')]), /already exists/],
    ['node without a name', () => modelBytes([placeholderMsg('')]), /node #0 has no name/],
    ['variable without a value', () => modelBytes([nodeMsg('v', 'variable', [])]), /node 'v' \(variable\): no value in ModelProto.variables/],
    [
      'variable value in its attrs',
      () => modelBytes([nodeMsg('v', 'variable', [], [['value', new Msg().msg(8, fvalue([1], [1]))]])], { variables: [varMsg('v', fvalue([1], [1]))] }),
      /belongs in ModelProto.variables/,
    ],
    [
      'value for a missing variable',
      () => modelBytes([placeholderMsg('x')], { variables: [varMsg('x', fvalue([1], [1]))] }),
      /value for 'x', which is not a variable node/,
    ],
    [
      'two values for a variable',
      () => modelBytes([nodeMsg('v', 'variable', [])], { variables: [varMsg('v', fvalue([1], [1])), varMsg('v', fvalue([1], [2]))] }),
      /two values/,
    ],
    [
      '_output_shapes disagree',
      () =>
        modelBytes([
          nodeMsg(
            'x',
            'placeholder',
            [],
            [
              ['dtype', attrType(DT_FLOAT)],
              ['shape', attrShape([2])],
              ['_output_shapes', new Msg().msg(1, new Msg().msg(7, shapeMsg([3])))],
            ],
          ),
        ]),
      /_output_shapes \[3\] disagree with the inferred \[2\]/,
    ],
    ['invalid UTF-8 string attr', () => formatOpModel({ mode: new Msg().bytesField(2, [0xff, 0xfe]) }), /attr 'mode': string is not valid UTF-8/],
    [
      'int attr beyond 2^53',
      () => formatOpModel({ n: new Msg().int(3, 2n ** 60n) }),
      /attr 'n': integer 1152921504606846976 is outside the exactly representable range/,
    ],
    [
      'ints attr holding floats',
      () => formatOpModel({ axes: new Msg().msg(1, new Msg().packedFloats(4, [1])) }),
      /attr 'axes': attr type 'ints' does not allow list.f/,
    ],
    [
      'float64 that does not round to f',
      () => formatOpModel({ alpha: new Msg().float(4, 1).double(1000, 0.1) }),
      /attr 'alpha': kiln_f64 0.1 does not round to f 1/,
    ],
    [
      'float64 list of another length',
      () => formatOpModel({ ws: new Msg().msg(1, new Msg().packedFloats(4, [1, 2]).packedDoubles(1000, [0.1])) }),
      /kiln_f64 has 1 values but f has 2/,
    ],
  ];
  it.each(cases)('%s is CORRUPT_MODEL saying what is wrong', (_label, make, message) => {
    const e = kilnErrorOf(() => deserializeGraph(make()));
    expect(e.code).toBe('CORRUPT_MODEL');
    expect(e.message).toMatch(/^deserializeGraph: corrupt model: /);
    expect(e.message).toMatch(message);
  });
});
