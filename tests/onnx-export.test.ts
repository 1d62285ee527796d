/**
 * exportOnnx checked by a real ONNX client: for every registered op (the cases of the
 * gradient and compiled-table tests, forward only), the graph is exported, run in
 * onnxruntime-node, and compared with the reference executor (rtol 1e-4, atol 1e-5; 1e-3 for
 * convolutions and their gradients); the same bytes imported back with importOnnx must give
 * the same results. Ops without an ONNX mapping must be refused with one UNSUPPORTED error,
 * and that list is pinned here so that a new op without an export rule is a visible change.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k from '@kiln/graph';
import { Graph, KilnError, type SymbolicTensor, Tensor, allOps, tensor } from '@kiln/graph';
import { decodeModel, exportOnnx, exportableOps, importOnnxModel, supportedOnnxOps } from '@kiln/onnx';
import { evaluate, makeRandom } from '@kiln/runtime-cpu';
import { type CaseTable, compareCases, elementwiseCases, reduceCases } from '../packages/compiler/test/grad-cases-basic.js';
import { movementCases } from '../packages/compiler/test/grad-cases-movement.js';
import { nnCases } from '../packages/compiler/test/grad-cases-nn.js';
import { type CaseBuilder, sample } from '../packages/compiler/test/grad-check.js';
import { OnnxRuntime } from './helpers/onnx-runtime.js';
import { expectClose } from './helpers/reference-compare.js';

/** Ops that must be refused (no ONNX equivalent, or state that ONNX graphs cannot hold). */
// Effects and targets have no ONNX meaning; random draws follow Kiln's streams, which ONNX
// Runtime's RandomNormal / RandomUniform / Multinomial cannot reproduce.
const UNSUPPORTED = ['assign', 'assignAdd', 'assignSub', 'dropout', 'multinomial', 'noOp', 'randomNormal', 'randomUniform', 'truncatedNormal'];
/** Sources are not rules: placeholders become graph inputs, const and variable initializers. */
const SOURCES = ['const', 'placeholder', 'variable'];
/** ONNX operators that some exports use and Kiln's importer does not read (yet), by Kiln op. */
const NOT_IMPORTABLE: Record<string, string[]> = {};
const LOOSE = new Set([
  'conv2d',
  'depthwiseConv2d',
  'conv2dTranspose',
  'conv2dBackpropInput',
  'conv2dBackpropFilter',
  'depthwiseConv2dBackpropInput',
  'depthwiseConv2dBackpropFilter',
  'matMul',
]);

const EXTRA: CaseTable = {
  equal: [(b) => k.cast(k.equal(b.fixed(tensor([1, 2, 3])), b.fixed(tensor([1, 0, 3]))), 'float32')],
  notEqual: [(b) => k.notEqual(b.x([2, 3]), b.x([3]))],
  less: [(b) => k.less(b.x([2, 3]), b.x([3]))],
  lessEqual: [(b) => k.lessEqual(b.x([2, 3]), 0)],
  greater: [(b) => k.greater(b.x([2, 3]), b.x([2, 1]))],
  greaterEqual: [(b) => k.greaterEqual(b.x([2, 3]), 0.1)],
  logicalAnd: [(b) => k.logicalAnd(k.greater(b.x([2, 3]), 0), k.less(b.x([3]), 0.5))],
  logicalOr: [(b) => k.logicalOr(k.greater(b.x([2, 3]), 0), k.less(b.x([3]), 0.5))],
  logicalNot: [(b) => k.logicalNot(k.greater(b.x([4]), 0))],
  sign: [(b) => k.sign(b.x([2, 3]))],
  floor: [(b) => k.floor(k.mul(b.x([2, 3]), 3))],
  ceil: [(b) => k.ceil(k.mul(b.x([2, 3]), 3))],
  round: [(b) => k.round(k.mul(b.x([2, 3]), 3)), (b) => k.round(b.fixed(tensor([0.5, 1.5, 2.5, -0.5, -1.5])))],
  stopGradient: [(b) => k.stopGradient(k.exp(b.x([2, 3])))],
  argMax: [(b) => k.argMax(b.x([3, 4]), 1)],
  argMin: [(b) => k.argMin(b.x([3, 4]), 0)],
  oneHot: [(b) => k.oneHot(b.fixed(tensor(new Int32Array([0, 2, 1, 5]))), 3), (b) => k.oneHot(b.fixed(tensor(new Int32Array([1, 0]))), 2, 2.5, -1, 'float32')],
  div: [(b) => k.div(b.fixed(tensor(new Int32Array([7, -7, 7, -7, 5, 0]))), b.fixed(tensor(new Int32Array([2, 2, -2, -2, 0, 3]))))],
  gather: [(b) => k.gather(b.x([2, 3, 2]), b.fixed(tensor(new Int32Array([2, 0, 1, 1]), [2, 2])), 1, 1)],
  unsortedSegmentSum: [(b) => k.unsortedSegmentSum(b.x([4, 2]), b.fixed(tensor(new Int32Array([1, -1, 1, 2]))), 3)],
  // Refused (random draws): each must be named in the one UNSUPPORTED error.
  randomNormal: [(b) => k.add(b.g.randomNormal([3, 4], 1, 2), b.x([4]))],
  randomUniform: [(b) => k.add(b.g.randomUniform([3, 4], -1, 1), b.x([4]))],
  truncatedNormal: [(b) => k.add(b.g.truncatedNormal([3, 4]), b.x([4]))],
  multinomial: [(b) => k.cast(k.multinomial(b.x([3, 4]), 5, 2), 'float32')],
};

function mergeCases(...tables: CaseTable[]): CaseTable {
  const out: CaseTable = {};
  for (const t of tables) for (const [op, cases] of Object.entries(t)) out[op] = [...(out[op] ?? []), ...cases];
  return out;
}
const CASES = mergeCases(elementwiseCases(), compareCases(), reduceCases(), movementCases(), nnCases(), EXTRA);

function builder(g: Graph, feeds: Record<string, Tensor>): CaseBuilder {
  const r = makeRandom(42);
  let n = 0;
  const randT = (shape: number[], domain: Parameters<typeof sample>[1] = 'any') => {
    const t = new Tensor('float32', shape);
    for (let i = 0; i < t.size; i++) t.data[i] = sample(r, domain);
    return t;
  };
  const b: CaseBuilder = {
    g,
    x: (shape, domain) => b.xValue(randT(shape, domain)),
    xValue(value) {
      const p = g.placeholder('float32', value.shape, `x${n++}`);
      feeds[p.name] = value;
      return p;
    },
    xDistinct(shape, offset = -1) {
      const t = new Tensor('float32', shape);
      for (let i = 0; i < t.size; i++) t.data[i] = offset + 0.15 * ((i * 7) % t.size);
      return b.xValue(t);
    },
    fixed(value) {
      const p = g.placeholder(value.dtype, value.shape, `fixed${n++}`);
      feeds[p.name] = value;
      return p;
    },
    rand: randT,
    random: r,
  };
  return b;
}

let ort: OnnxRuntime;
beforeAll(() => {
  ort = new OnnxRuntime();
});
afterAll(() => ort.close());

/** Runs exported bytes in onnxruntime-node with the feeds of the given inputs. */
function runOrt(bytes: Uint8Array, feeds: Record<string, Tensor>, inputs: readonly SymbolicTensor[]): Promise<Tensor[]> {
  return ort.run(
    bytes,
    feeds,
    inputs.map((t) => t.name),
  );
}

interface Built {
  g: Graph;
  feeds: Record<string, Tensor>;
  inputs: SymbolicTensor[];
  outputs: SymbolicTensor[];
}

function build(make: CaseTable[string][number]): Built {
  const g = new Graph();
  const feeds: Record<string, Tensor> = {};
  const out = make(builder(g, feeds));
  return { g, feeds, inputs: g.placeholders().map((p) => p.output), outputs: Array.isArray(out) ? out : [out] };
}

const ops = allOps()
  .map((d) => d.name)
  .filter((op) => !SOURCES.includes(op));

describe('exportOnnx: every registry op', () => {
  it('maps every op except the pinned unsupported list, and has a case for each', () => {
    expect(ops.filter((op) => !exportableOps().includes(op))).toEqual(UNSUPPORTED);
    expect(ops.filter((op) => !CASES[op] && !['assign', 'assignAdd', 'assignSub', 'noOp'].includes(op))).toEqual([]);
  });

  it.each(ops.filter((op) => exportableOps().includes(op)))('%s runs in onnxruntime and imports back', async (op) => {
    for (const [ci, make] of CASES[op]!.entries()) {
      const { g, feeds, inputs, outputs } = build(make);
      const want = evaluate(outputs, feeds, { seed: 1 });
      const bytes = exportOnnx(g, { inputs, outputs });
      const [atol, rtol] = LOOSE.has(op) ? [1e-3, 1e-3] : [1e-5, 1e-4];
      const got = await runOrt(bytes, feeds, inputs);
      want.forEach((w, i) => expectClose(got[i], w, `${op} case ${ci} output ${i} (onnxruntime)`, atol, rtol));
      const missing = [...new Set(decodeModel(bytes).graph.nodes.map((n) => n.opType))].filter((t) => !supportedOnnxOps().includes(t));
      if (missing.length > 0) {
        expect(NOT_IMPORTABLE[op] ?? []).toEqual(expect.arrayContaining(missing));
        expect(() => importOnnxModel(bytes)).toThrow(/UNSUPPORTED|not supported|unsupported/i);
        continue;
      }
      const back = importOnnxModel(bytes);
      const again = evaluate(back.outputs, Object.fromEntries(back.inputNames.map((n, i) => [back.inputs[i]!.name, feeds[n]!])), { seed: 1 });
      want.forEach((w, i) => expectClose(again[i], w, `${op} case ${ci} output ${i} (importOnnx)`, atol, rtol));
    }
  });

  it.each(UNSUPPORTED.filter((op) => CASES[op]))('%s is refused with one UNSUPPORTED error naming the node', (op) => {
    const { g, inputs, outputs } = build(CASES[op]![0]!);
    const err = (() => {
      try {
        exportOnnx(g, { inputs, outputs });
      } catch (e) {
        return e as KilnError;
      }
      throw new Error('exportOnnx did not throw');
    })();
    expect(err).toBeInstanceOf(KilnError);
    expect(err.code).toBe('UNSUPPORTED');
    expect(err.message).toContain(`${op} '`);
  });
});

describe('exportOnnx: graph-level behaviour', () => {
  it('lists every unsupported node in one error, and names a placeholder missing from inputs', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 4], 'x');
    const y = g.placeholder('float32', [null, 4], 'y');
    const a = k.dropout(x, 0.5, null, 1);
    const b2 = k.dropout(k.add(a, y), 0.5, null, 2);
    const message = (() => {
      try {
        exportOnnx(g, { inputs: [x], outputs: [b2] });
      } catch (e) {
        return (e as KilnError).message;
      }
      return 'no error';
    })();
    expect(message).toContain('3 nodes cannot be exported');
    expect(message).toContain("placeholder 'y': needed by the outputs but not in spec.inputs");
    expect(message).toContain(`dropout '${a.node.name}': no ONNX mapping`);
    expect(message).toContain(`dropout '${b2.node.name}': no ONNX mapping`);
  });

  it('writes variables as initializers (given values override the initial ones) and unknown dims as dim_params', async () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 3], 'x');
    const w = g.variable(
      tensor([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
      'w',
    );
    const y = k.relu(k.matMul(x, w));
    const feeds = {
      x: tensor([
        [1, -1, 2],
        [0, 1, 0],
        [2, 2, 2],
        [-3, 1, 1],
      ]),
    };
    const [initial] = await runOrt(exportOnnx(g, { inputs: [x], outputs: [y] }), feeds, [x]);
    expectClose(initial, evaluate([y], feeds)[0]!, 'initial value');
    const trained = tensor([
      [0.5, -1],
      [1, 1],
      [-2, 0.25],
    ]);
    const [got] = await runOrt(exportOnnx(g, { inputs: [x], outputs: [y], variables: new Map([['w', trained]]) }), feeds, [x]);
    const g2 = new Graph();
    const x2 = g2.placeholder('float32', [null, 3], 'x');
    expectClose(got, evaluate([k.relu(k.matMul(x2, g2.constant(trained)))], feeds)[0]!, 'overridden value');
    const back = importOnnxModel(exportOnnx(g, { inputs: [x], outputs: [y] }));
    expect(back.inputs[0]!.shape).toEqual([null, 3]);
    expect(() => exportOnnx(g, { inputs: [x], outputs: [y], variables: { w: tensor([1, 2]) } })).toThrow(
      /variable 'w' must be a float32\[3,2\] Tensor, got float32\[2\]/,
    );
  });

  it('exports an output that is also an input, or listed twice', async () => {
    const g = new Graph();
    const x = g.placeholder('float32', [2], 'x');
    const y = k.neg(x);
    const feeds = { x: tensor([1, -2]) };
    const got = await runOrt(exportOnnx(g, { inputs: [x], outputs: [x, y, y] }), feeds, [x]);
    expect(got.map((t) => [...t.data])).toEqual([
      [1, -2],
      [-1, 2],
      [-1, 2],
    ]);
  });
});
