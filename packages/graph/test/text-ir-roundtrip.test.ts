/**
 * Text IR round trips: graphs built with many ops print, parse back to an equal graph, and
 * print to the same text again; tensor values come back bit for bit (NaN payloads, -0, inf).
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  type Graph as GraphT,
  Graph,
  type Node,
  Tensor,
  add,
  assign,
  concat,
  group,
  hasOp,
  leakyRelu,
  matMul,
  mul,
  noOp,
  parseGraph,
  printGraph,
  registerOp,
  relu,
  reshape,
  sigmoid,
  split,
  stack,
  sum,
  tensor,
  transpose,
} from '@kiln/graph';

/** A test-only op with no outputs (no registered op has none yet). */
if (!hasOp('textIrTestSink')) {
  registerOp({ name: 'textIrTestSink', family: 'test', inputs: [{ name: 'xs', variadic: true }], attrs: {}, infer: () => [] });
}

function bitsOf(t: Tensor): number[] {
  if (t.dtype === 'bool') return Array.from(t.data);
  return Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.size));
}

/** Structural equality of two graphs: names, ops, inputs, control inputs, attrs (tensors by bits), types. */
function expectSameGraph(a: GraphT, b: GraphT): void {
  expect(b.nodes.map((n) => n.name)).toEqual(a.nodes.map((n) => n.name));
  a.nodes.forEach((na: Node, i) => {
    const nb = b.nodes[i]!;
    expect(nb.op).toBe(na.op);
    expect(nb.inputs.map((x) => x.name)).toEqual(na.inputs.map((x) => x.name));
    expect(nb.controlInputs.map((c) => c.name)).toEqual(na.controlInputs.map((c) => c.name));
    expect(nb.outputs.map((o) => [o.dtype, o.shape])).toEqual(na.outputs.map((o) => [o.dtype, o.shape]));
    expect(Object.keys(nb.attrs)).toEqual(Object.keys(na.attrs));
    for (const [k, va] of Object.entries(na.attrs)) {
      const vb = nb.attrs[k];
      if (va instanceof Tensor) {
        expect(vb).toBeInstanceOf(Tensor);
        const tb = vb as Tensor;
        expect([tb.dtype, tb.shape]).toEqual([va.dtype, va.shape]);
        expect(bitsOf(tb)).toEqual(bitsOf(va));
      } else {
        expect(vb).toEqual(va);
        if (typeof va === 'number') expect(Object.is(vb, va)).toBe(true);
      }
    }
  });
}

function roundTrip(g: GraphT): { text: string; parsed: GraphT } {
  const text = printGraph(g);
  const parsed = parseGraph(text);
  expect(printGraph(parsed)).toBe(text);
  expectSameGraph(g, parsed);
  return { text, parsed };
}

function floatBits(bits: number[]): Float32Array {
  return new Float32Array(new Uint32Array(bits).buffer);
}

describe('text IR round trip', () => {
  it('round-trips a model graph: placeholders with ?, variables, matMul, name scopes, reductions', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 4], 'x');
    const labels = g.placeholder('int32', [null], 'labels');
    const h = g.nameScope('dense_1', () => {
      const w = g.variable(
        tensor(
          Array.from({ length: 12 }, (_, i) => i / 7),
          [4, 3],
        ),
        'w',
      );
      const b = g.variable(tensor([0.1, -0.2, 0.3]), 'b', { trainable: false });
      return relu(add(matMul(x, w), b));
    });
    const y = g.nameScope('head', () => sigmoid(leakyRelu(h, 1 / 3)));
    const loss = sum(mul(y, y), [0, 1], true);
    void labels;
    void loss;
    const { parsed, text } = roundTrip(g);
    expect(text).toContain('%x = placeholder() {dtype=float32, shape=[?,4]} : float32[?,4]');
    expect(text).toContain('%labels = placeholder() {dtype=int32, shape=[?]} : int32[?]');
    expect(text).toContain('%dense_1/b = variable() {value=dense<float32[3] [0.1,-0.2,0.3]>, trainable=false} : float32[3]');
    expect(text).toContain('alpha=0.3333333333333333');
    expect(parsed.nodeByName('dense_1/b')!.attrs.trainable).toBe(false);
    expect(parsed.nodeByName('dense_1/w')!.attrs.trainable).toBe(true);
    expect(parsed.tensorByName('head/sigmoid').shape).toEqual([null, 3]);
  });

  it('round-trips small and large constants bit-exactly: NaN payloads, -0, inf, denormals', () => {
    const g = new Graph();
    const special = [0x7fc00000, 0xffc00000, 0x7fc00001, 0x7f800001, 0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0x3f800000];
    g.constant(new Tensor('float32', [9], floatBits(special)), undefined, 'small');
    const n = 1200;
    const bits = Array.from({ length: n }, (_, i) => (Math.imul(i + 1, 2654435761) ^ (i << 7)) >>> 0);
    special.forEach((b, i) => (bits[i * 100] = b));
    const big = g.constant(new Tensor('float32', [30, 40], floatBits(bits)), undefined, 'weights/big');
    g.variable(new Tensor('float32', [1000], floatBits(bits.slice(0, 1000))), 'v/big');
    g.constant(
      tensor(
        Array.from({ length: 1500 }, (_, i) => i * 7919 - 3000000),
        [1500],
        'int32',
      ),
      undefined,
      'ints',
    );
    g.constant(
      tensor(
        Array.from({ length: 1001 }, (_, i) => i % 3 === 0),
        [7, 11, 13],
      ),
      undefined,
      'bools',
    );
    g.constant(
      tensor(
        [
          [1, -2],
          [2147483647, -2147483648],
        ],
        undefined,
        'int32',
      ),
      undefined,
      'int_small',
    );
    g.constant(tensor([[true, false, true]]), undefined, 'bool_small');
    g.constant(3.5, undefined, 'scalar');
    g.constant(new Tensor('float32', [2, 0]), undefined, 'empty');
    relu(big);
    const { text, parsed } = roundTrip(g);
    expect(text).toContain(
      '%small = const() {value=dense<float32[9] [nan,nan(0xffc00000),nan(0x7fc00001),nan(0x7f800001),-0.0,inf,-inf,1e-45,1.0]>} : float32[9]',
    );
    expect(text).toContain('%weights/big = const() {value=dense<float32[30,40] @0>} : float32[30,40]');
    expect(text).toContain('%int_small = const() {value=dense<int32[2,2] [[1,-2],[2147483647,-2147483648]]>} : int32[2,2]');
    expect(text).toContain('%bool_small = const() {value=dense<bool[1,3] [[true,false,true]]>} : bool[1,3]');
    expect(text).toContain('%scalar = const() {value=dense<float32[] 3.5>} : float32[]');
    expect(text).toContain('%empty = const() {value=dense<float32[2,0] [[],[]]>} : float32[2,0]');
    expect(text).toMatch(/\ndata \{\n {2}@0 = 0x[0-9a-f]{128} {3}\/\/ weights\/big value: float32\[30,40\], 4800 bytes\n/);
    expect(bitsOf(parsed.nodeByName('weights/big')!.attrs.value as Tensor)).toEqual(bits);
  });

  it('round-trips multi-output, variadic, control inputs and ops without outputs', () => {
    const g = new Graph();
    const a = g.placeholder('float32', [2, 6], 'a');
    const parts = split(a, 3, 1);
    const sized = split(a, [1, 2, 3], 1);
    const cat = concat([parts[2]!, parts[0]!, sized[1]!], 1);
    const st = stack([parts[0]!, parts[1]!], 0);
    const v = g.variable(tensor([[0, 0]]), 'v');
    const upd = assign(v, reshape(sum(cat, [1]), [1, 2]));
    const train = group(upd, st);
    const after = g.addNode('relu', [cat], {}, { name: 'after', controlInputs: [train.node, upd.node] });
    g.addNode('textIrTestSink', [after.output, parts[1]!], {}, { name: 'sink', controlInputs: [train.node] });
    noOp(g, [], 'nothing');
    const { text } = roundTrip(g);
    expect(text).toContain('%split:3 = split(%a) {num=3, sizes=[], axis=1} : float32[2,2], float32[2,2], float32[2,2]');
    expect(text).toContain('%concat = concat(%split:2, %split, %split_1:1) {axis=1} : float32[2,6]');
    expect(text).toContain('%after = relu(%concat, ^group, ^v/assign) : float32[2,6]');
    expect(text).toContain('%sink:0 = textIrTestSink(%after, %split:1, ^group) : ()');
  });

  it('round-trips names that need quoting and transpose/reshape attrs', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 2, 3], 'in put:0 "q"');
    const t = transpose(x, [0, 2, 1]);
    g.addNode('identity', [t], {}, { name: 'x#1' });
    const { text } = roundTrip(g);
    expect(text).toContain('%"in put:0 \\"q\\"" = placeholder()');
    expect(text).toContain('%"x#1" = identity(%transpose)');
  });

  it('prints float32 elements as the shortest decimal that reads back to the same bits (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 16 }), (bits) => {
        const g = new Graph();
        g.constant(new Tensor('float32', [bits.length], floatBits(bits)), undefined, 'c');
        const parsed = parseGraph(printGraph(g));
        expect(bitsOf(parsed.nodeByName('c')!.attrs.value as Tensor)).toEqual(bits.map((b) => b >>> 0));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps float attrs exact as doubles', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [3], 'x');
    for (const alpha of [0.1, 1 / 3, 1e-300, 5e-324, 1.7976931348623157e308, -0, 2, Number.EPSILON]) leakyRelu(x, alpha);
    const { parsed } = roundTrip(g);
    expect(Object.is(parsed.nodeByName('leakyRelu_5')!.attrs.alpha, -0)).toBe(true);
  });
});
