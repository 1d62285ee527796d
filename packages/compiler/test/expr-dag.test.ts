/**
 * Expressions are DAGs: long fused elementwise chains whose lowerings use a value twice
 * (relu = select(le(x, 0), 0, x), square = mul(x, x), t + relu(t)) used to compile in time
 * exponential in the chain's length, and deep chains overflowed the stack. Each chain here must
 * compile (well within the Jest timeout) and give the reference executor's result.
 */
import { describe, expect, it } from '@jest/globals';
import { compile, deserializeProgram, exprToString, call, input, internExprs, lit, serializeProgram, substitute } from '@kiln/compiler';
import { Graph, type SymbolicTensor, Tensor, add, neg, relu, square } from '@kiln/graph';
import { CpuProgram, evaluate, referenceConstantEvaluator } from '@kiln/runtime-cpu';
import { expectClose } from '../../../tests/helpers/reference-compare.js';

function feed(n: number): Tensor {
  const t = new Tensor('float32', [n]);
  for (let i = 0; i < n; i++) t.data[i] = ((i * 37) % 17) / 8 - 1;
  return t;
}

/** Compiles `build(x)` fused, runs it on the CPU and compares with the reference executor. */
function checkChain(build: (x: SymbolicTensor) => SymbolicTensor, n = 19): void {
  const g = new Graph();
  const x = g.placeholder('float32', [n], 'x');
  const y = build(x);
  const program = compile(g, { fetches: [y], feeds: [x] }, { constantEvaluator: referenceConstantEvaluator });
  expect(program.toString().length).toBeLessThan(4_000_000);
  const xv = feed(n);
  const got = new CpuProgram(program).run({ feeds: new Map([['x', xv]]), variables: new Map(), seed: 1 });
  const [want] = evaluate([y], { x: xv });
  expectClose(got.values[0], want!, 'chain output');
}

const repeat = (k: number, f: (t: SymbolicTensor, i: number) => SymbolicTensor) => (x: SymbolicTensor) => {
  let t = x;
  for (let i = 0; i < k; i++) t = f(t, i);
  return t;
};

describe('fused chains compile in time linear in their length', () => {
  it('relu x24', () => checkChain(repeat(24, (t) => relu(t))));
  it('relu x32', () => checkChain(repeat(32, (t) => relu(t))));
  it('relu/neg x52', () => checkChain(repeat(52, (t, i) => (i % 2 ? neg(t) : relu(t)))));
  it('t + relu(t) x16', () => checkChain(repeat(16, (t) => add(t, relu(t)))));
  it('square x32 (values stay finite: the input is scaled into [-1, 1])', () => checkChain(repeat(32, (t) => square(t))));
  it('relu/neg x3000', () => checkChain(repeat(3000, (t, i) => (i % 2 ? neg(t) : relu(t)))));
  it('a 10,000-node elementwise chain', () =>
    checkChain(
      repeat(10_000, (t, i) => (i % 3 === 0 ? relu(t) : i % 3 === 1 ? neg(t) : add(t, t))),
      7,
    ));
});

describe('expression DAG utilities', () => {
  const x = input(0, 'float32');
  it('intern shares structurally equal subexpressions', () => {
    const a = call('exp', 'float32', x);
    const b = call('exp', 'float32', input(0, 'float32'));
    const [m] = internExprs([call('mul', 'float32', a, b)]);
    expect(m?.kind === 'call' && m.args[0] === m.args[1]).toBe(true);
  });
  it('prints a shared subexpression once, bound to a name, and small ones inline', () => {
    let t = x;
    for (let i = 0; i < 40; i++) t = call('mul', 'float32', call('exp', 'float32', t), call('exp', 'float32', t));
    const s = exprToString(t);
    expect(s.length).toBeLessThan(3000);
    expect(exprToString(call('mul', 'float32', call('exp', 'float32', x), call('exp', 'float32', x)))).toBe('mul(exp(%0), exp(%0))');
  });
  it('substitutes without recursion on a 100,000-deep chain', () => {
    let t = x;
    for (let i = 0; i < 100_000; i++) t = call('neg', 'float32', t);
    const s = substitute(t, [lit(2)]);
    let depth = 0;
    for (let e = s; e.kind === 'call'; e = e.args[0]!) depth++;
    expect(depth).toBe(100_000);
  });
});

describe('saving programs with shared subexpressions', () => {
  const chain = (k: number) => {
    const g = new Graph();
    const x = g.placeholder('float32', [5], 'x');
    const y = repeat(k, (t) => relu(t))(x);
    return compile(g, { fetches: [y], feeds: [x] }, { constantEvaluator: referenceConstantEvaluator });
  };
  it('a relu x10 chain saves and loads with the same kernels', () => {
    const p = chain(10);
    expect(deserializeProgram(serializeProgram(p)).program.toString()).toBe(p.toString());
  });
  it('a relu x40 chain (2^40 nodes as a tree) is refused with a KilnError naming the kernel, not a hang', () => {
    expect(() => serializeProgram(chain(40))).toThrow(/kernel k0 expr 0 shares subexpressions so deeply/);
  });
});
