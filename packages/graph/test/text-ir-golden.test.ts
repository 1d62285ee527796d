/**
 * Text IR golden output and hand-written text: the exact text of a small graph, parsing text
 * with comments and without result types, and a print/parse round trip of every registered op
 * that can be built from generic inputs.
 */
import { describe, expect, it } from '@jest/globals';
import {
  type AttrSpec,
  type AttrValue,
  Graph,
  type SymbolicTensor,
  add,
  allOps,
  conv2dTranspose,
  depthwiseConv2dBackpropFilter,
  depthwiseConv2dBackpropInput,
  getOp,
  group,
  matMul,
  parseGraph,
  printGraph,
  relu,
  split,
  tensor,
} from '@kiln/graph';

const GOLDEN = `graph {
  %x = placeholder() {dtype=float32, shape=[?,3]} : float32[?,3]
  %layer/w = variable() {value=dense<float32[3,2] [[1.0,-0.5],[0.25,0.0],[2.0,1e-7]]>, trainable=true} : float32[3,2]
  %layer/b = const() {value=dense<float32[2] [0.1,-0.0]>} : float32[2]
  %layer/matMul = matMul(%x, %layer/w) {transposeA=false, transposeB=false} : float32[?,2]
  %layer/add = add(%layer/matMul, %layer/b) : float32[?,2]
  %layer/relu = relu(%layer/add) : float32[?,2]
  %split:2 = split(%layer/relu) {num=2, sizes=[], axis=1} : float32[?,1], float32[?,1]
  %add = add(%split:1, %split) : float32[?,1]
  %group = noOp(^add, ^layer/w) : bool[]
}
`;

describe('text IR golden text', () => {
  it('prints a small graph exactly', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 3], 'x');
    const y = g.nameScope('layer', () => {
      const w = g.variable(
        tensor([
          [1, -0.5],
          [0.25, 0],
          [2, 1e-7],
        ]),
        'w',
      );
      const b = g.constant(tensor([0.1, -0]), undefined, 'b');
      return relu(add(matMul(x, w), b));
    });
    const [s0, s1] = split(y, 2, 1) as [SymbolicTensor, SymbolicTensor];
    const z = add(s1, s0);
    group(z, g.tensorByName('layer/w'));
    expect(printGraph(g)).toBe(GOLDEN);
    expect(printGraph(parseGraph(GOLDEN))).toBe(GOLDEN);
  });

  it('parses hand-written text: comments, free layout, no result types, defaults filled in', () => {
    const text = `
      # a tiny model
      graph {
        %x = placeholder() {shape=[?, 2], dtype=float32}   // attrs in any order
        %two = const() {value=dense<float32[] 2>}
        %y = mul(%x, %two)
        %r:2 = split(%y) {num=2, axis=1}
        %out = leakyRelu(%r:1)
      }`;
    const g = parseGraph(text);
    expect(g.nodes.map((n) => n.name)).toEqual(['x', 'two', 'y', 'r', 'out']);
    expect(g.tensorByName('out').shape).toEqual([null, 1]);
    expect(g.nodeByName('out')!.attrs.alpha).toBe(0.2);
    const printed = printGraph(g);
    expect(printed).toContain('%out = leakyRelu(%r:1) {alpha=0.2} : float32[?,1]');
    expect(printGraph(parseGraph(printed))).toBe(printed);
  });

  it('names the result count on the left only when it is not one', () => {
    const g = parseGraph('graph { %a = placeholder() {dtype=int32, shape=[4]} %p:4 = split(%a) {num=4} }');
    expect(g.nodeByName('p')!.outputs).toHaveLength(4);
  });
});

/** Guesses for a required attr, by type; the first combination that infers wins. */
function guesses(spec: AttrSpec): AttrValue[] {
  switch (spec.type) {
    case 'int':
      return [1, 0, 2];
    case 'float':
      return [0.5];
    case 'bool':
      return [false];
    case 'string':
      return spec.oneOf ? [...spec.oneOf] : ['x'];
    case 'ints':
      return [[1, 1], [0], [1], [6], [0, 1], [1, 0], [2, 3], [1, 1, 1, 1]];
    case 'floats':
      return [[0.5]];
    case 'dtype':
      return ['float32'];
    case 'shape':
      return [[2, 3], [6]];
    case 'tensor':
      return [
        tensor([
          [1, 2, 3],
          [4, 5, 6],
        ]),
      ];
  }
}

type InputPlan = ('float32' | 'int32' | 'bool')[];
const SHAPES: number[][] = [[2, 3], [1, 4, 4, 2], [2, 2, 2, 2], [6], [2, 2]];

/** Ops whose inputs must agree in ways generic guesses do not find. */
const HAND_BUILT: Record<string, (g: Graph) => void> = {
  conv2dTranspose: (g) => {
    conv2dTranspose(g.placeholder('float32', [1, 4, 4, 2], 'x'), g.placeholder('float32', [2, 2, 3, 2], 'f'), [1, 4, 4, 3], 1, 'same');
  },
  depthwiseConv2dBackpropInput: (g) => {
    const [x, f, dy] = [
      [1, 4, 4, 2],
      [2, 2, 2, 1],
      [1, 4, 4, 2],
    ].map((s, i) => g.placeholder('float32', s, `in${i}`));
    depthwiseConv2dBackpropInput(x!, f!, dy!, 1, 'same');
  },
  depthwiseConv2dBackpropFilter: (g) => {
    const [x, f, dy] = [
      [1, 4, 4, 2],
      [2, 2, 2, 1],
      [1, 4, 4, 2],
    ].map((s, i) => g.placeholder('float32', s, `in${i}`));
    depthwiseConv2dBackpropFilter(x!, f!, dy!, 1, 'same');
  },
};

/** Tries generic inputs and attrs until addNode accepts them; returns the graph or undefined. */
function buildGeneric(op: string): Graph | undefined {
  const hand = HAND_BUILT[op];
  if (hand) {
    try {
      const g = new Graph();
      hand(g);
      return g;
    } catch {
      // the op's signature changed: fall back to guessing
    }
  }
  const def = getOp(op);
  const arity = def.inputs.length + (def.inputs.some((s) => s.variadic) ? 1 : 0);
  const plans: InputPlan[] = [
    Array(arity).fill('float32'),
    Array(arity).fill('int32'),
    Array(arity).fill('bool'),
    ['bool', ...Array(Math.max(arity - 1, 0)).fill('float32')],
    ['float32', ...Array(Math.max(arity - 1, 0)).fill('int32')],
    ['int32', ...Array(Math.max(arity - 1, 0)).fill('float32')],
  ];
  const required = Object.entries(def.attrs).filter(([, s]) => s.default === undefined);
  let combos: Record<string, AttrValue>[] = [{}];
  for (const [key, spec] of required) {
    combos = combos.flatMap((c) => guesses(spec).map((v) => ({ ...c, [key]: v })));
    if (combos.length > 200) combos = combos.slice(0, 200);
  }
  // If none works, the same with one defaulted attr changed (split needs num or sizes, say).
  const optional = Object.entries(def.attrs).filter(([, s]) => s.default !== undefined);
  const base = combos.slice(0, 10);
  const variants = optional.flatMap(([key, spec]) => base.flatMap((c) => guesses(spec).map((v) => ({ ...c, [key]: v }))));
  const add = (g: Graph, plan: InputPlan, shape: number[], attrs: Record<string, AttrValue>, batch: boolean): void => {
    const inputs = plan.map((dt, i) => g.placeholder(dt, batch && i === 0 ? [null, ...shape.slice(1)] : shape, `in${i}`));
    g.addNode(op, inputs, attrs, { name: `${op}_node`, controlInputs: batch ? [inputs[0]!.node] : [] });
  };
  let budget = 2000;
  for (const phase of [combos, variants]) {
    for (const shape of SHAPES) {
      for (const plan of plans) {
        for (const attrs of phase) {
          if (--budget < 0) return undefined;
          const g = new Graph();
          try {
            add(g, plan, shape, attrs, false);
          } catch {
            continue;
          }
          // Prefer an unknown batch dim and a control input when the op accepts them.
          try {
            const withBatch = new Graph();
            add(withBatch, plan, shape, attrs, true);
            return withBatch;
          } catch {
            return g;
          }
        }
      }
    }
  }
  return undefined;
}

describe('text IR for every registered op', () => {
  const ops = allOps().filter((d) => !d.source);
  const built = new Map<string, Graph>();
  for (const d of ops) {
    const g = buildGeneric(d.name);
    if (g) built.set(d.name, g);
  }

  it('builds most ops generically (and always the core ones)', () => {
    for (const op of ['add', 'relu', 'matMul', 'sum', 'concat', 'split', 'transpose', 'cast', 'where', 'conv2d', 'maxPool']) {
      if (ops.some((d) => d.name === op)) expect([op, built.has(op)]).toEqual([op, true]);
    }
    expect(built.size).toBeGreaterThanOrEqual(Math.floor(ops.length * 0.7));
  });

  it.each([...built.keys()])('%s prints and parses back to the same text', (op) => {
    const g = built.get(op)!;
    const text = printGraph(g);
    expect(text).toContain(`= ${op}(`);
    const again = parseGraph(text);
    expect(printGraph(again)).toBe(text);
    expect(again.nodes.length).toBe(g.nodes.length);
  });
});
