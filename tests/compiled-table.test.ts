/**
 * Table test over the op registry for every compiled backend (tests/helpers/backends.ts: CPU
 * fused and unfused, ...): every op (forward) and its gradient graph are compiled (passes,
 * lowering, fusion, memory planning, the backend's code generation) and run with freed buffers
 * poisoned with NaN; results must equal the reference executor's (rtol 1e-4, atol 1e-5; fused
 * chains skip float32 rounding of intermediates). Every op kernel left in a program must be a
 * listed routine (ROUTINES): the list of what is not lowered to the three kernel kinds is closed. The cases are the gradient table's (every differentiable op)
 * plus forward cases for the non-differentiable ops; an op with no case fails the test.
 */
import { describe, expect, it } from '@jest/globals';
import { type GraphWithFetches, ROUTINES, gradients } from '@kiln/compiler';
import * as k from '@kiln/graph';
import { Graph, type SymbolicTensor, Tensor, allOps, tensor } from '@kiln/graph';
import { evaluate, makeRandom } from '@kiln/runtime-cpu';
import { COMPILED_BACKENDS, compileFor, runOn } from './helpers/backends.js';
import { expectClose } from './helpers/reference-compare.js';
import { type CaseTable, compareCases, elementwiseCases, reduceCases } from '../packages/compiler/test/grad-cases-basic.js';
import { movementCases } from '../packages/compiler/test/grad-cases-movement.js';
import { nnCases } from '../packages/compiler/test/grad-cases-nn.js';
import { type CaseBuilder, sample } from '../packages/compiler/test/grad-check.js';

const FORWARD_ONLY: CaseTable = {
  equal: [(b) => k.cast(k.equal(b.fixed(tensor([1, 2, 3])), b.fixed(tensor([1, 0, 3]))), 'float32')],
  notEqual: [(b) => k.cast(k.notEqual(b.x([2, 3]), b.x([3])), 'float32')],
  less: [(b) => k.cast(k.less(b.x([2, 3]), b.x([3])), 'float32')],
  lessEqual: [(b) => k.cast(k.lessEqual(b.x([2, 3]), 0), 'float32')],
  greater: [(b) => k.cast(k.greater(b.x([2, 3]), b.x([2, 1])), 'float32')],
  greaterEqual: [(b) => k.cast(k.greaterEqual(b.x([2, 3]), 0.1), 'float32')],
  logicalAnd: [(b) => k.cast(k.logicalAnd(k.greater(b.x([2, 3]), 0), k.less(b.x([3]), 0.5)), 'float32')],
  logicalOr: [(b) => k.cast(k.logicalOr(k.greater(b.x([2, 3]), 0), k.less(b.x([3]), 0.5)), 'float32')],
  logicalNot: [(b) => k.cast(k.logicalNot(k.greater(b.x([4]), 0)), 'float32')],
  sign: [(b) => k.sign(b.x([2, 3]))],
  floor: [(b) => k.floor(k.mul(b.x([2, 3]), 3))],
  ceil: [(b) => k.ceil(k.mul(b.x([2, 3]), 3))],
  round: [(b) => k.round(k.mul(b.x([2, 3]), 3)), (b) => k.round(b.fixed(tensor([0.5, 1.5, 2.5, -0.5, -1.5])))],
  stopGradient: [(b) => k.stopGradient(k.exp(b.x([2, 3])))],
  argMax: [(b) => k.cast(k.argMax(b.x([3, 4]), 1), 'float32')],
  argMin: [(b) => k.cast(k.argMin(b.x([3, 4]), 0), 'float32')],
  oneHot: [(b) => k.cast(k.oneHot(b.fixed(tensor(new Int32Array([0, 2, 1]))), 3), 'float32')],
  randomNormal: [(b) => k.add(b.g.randomNormal([3, 4], 1, 2), b.x([4])), (b) => b.g.randomNormal([5], 0, 1, 'float32', 7)],
  randomUniform: [(b) => k.mul(b.g.randomUniform([2, 3], -1, 3), b.x([2, 3])), (b) => k.cast(b.g.randomUniform([6], 0, 10, 'int32', 3), 'float32')],
  truncatedNormal: [(b) => k.relu(b.g.truncatedNormal([4, 2], 0.5, 0.1, 'float32', 11)), (b) => b.g.truncatedNormal([7])],
  multinomial: [(b) => k.cast(k.multinomial(b.x([3, 4]), 5, 2), 'float32'), (b) => k.cast(k.multinomial(b.x([6]), 3), 'float32')],
};
/** Covered by the session tests (they need variables and targets). */
const NOT_HERE = new Set(['placeholder', 'variable', 'const', 'assign', 'assignAdd', 'assignSub', 'noOp']);

const CASES: CaseTable = { ...elementwiseCases(), ...compareCases(), ...reduceCases(), ...movementCases(), ...nnCases(), ...FORWARD_ONLY };

function builder(g: Graph, feeds: Record<string, Tensor>, xs: SymbolicTensor[]): CaseBuilder {
  const r = makeRandom(99);
  let n = 0;
  const randT = (shape: number[], domain: Parameters<typeof sample>[1] = 'any') => {
    const t = new Tensor('float32', shape);
    for (let i = 0; i < t.size; i++) t.data[i] = sample(r, domain);
    return t;
  };
  const b: CaseBuilder = {
    g,
    x(shape, domain) {
      return b.xValue(randT(shape, domain));
    },
    xValue(value) {
      const p = g.placeholder('float32', value.shape, `x${n++}`);
      feeds[p.name] = value;
      xs.push(p);
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

const ops = allOps()
  .map((d) => d.name)
  .filter((op) => !NOT_HERE.has(op));

describe('compiled backends == reference, every op', () => {
  it('has a case for every registered op', () => {
    expect(ops.filter((op) => !CASES[op])).toEqual([]);
  });

  it.each(ops.filter((op) => CASES[op]))('%s', async (op) => {
    for (const [ci, build] of CASES[op]!.entries()) {
      const g = new Graph();
      const feeds: Record<string, Tensor> = {};
      const xs: SymbolicTensor[] = [];
      const out = build(builder(g, feeds, xs));
      const ys = Array.isArray(out) ? out : [out];
      const floats = ys.filter((y) => y.dtype === 'float32');
      const fetches = [...ys];
      if (floats.length > 0 && xs.length > 0 && !(op in FORWARD_ONLY)) {
        const loss = floats.map((y) => k.sum(k.mul(y, y))).reduce((a, c) => k.add(a, c));
        fetches.push(...gradients(loss, xs));
      }
      const want = evaluate(fetches, feeds, { seed: 5 });
      for (const backend of COMPILED_BACKENDS) {
        const program = compileFor(backend, g, { fetches, feeds: g.placeholders().map((p) => p.output) });
        // What is not decomposed or lowered is a listed routine (the closed list of op kernels).
        const unlisted = program.kernels.flatMap((kk) => (kk.spec.kind === 'op' && !ROUTINES[kk.spec.op] ? [kk.spec.op] : []));
        expect({ op, ci, backend: backend.name, unlisted }).toEqual({ op, ci, backend: backend.name, unlisted: [] });
        const got = await runOn(backend, program, { feeds: new Map(Object.entries(feeds)), variables: new Map(), seed: 5 });
        want.forEach((w, i) => expectClose(got.values[i]!, w, `${op} case ${ci} on ${backend.name}: fetch '${fetches[i]!.name}'`));
      }
    }
  });
});

export type { GraphWithFetches };
