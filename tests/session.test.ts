/**
 * kiln.session() end to end on the default backend ('cpu', compiled): fetches by tensor and by name,
 * targets, variable updates across runs, every user error with its code and message, atomic
 * runs (a failed run changes nothing), checkNumerics, dispose.
 */
import { describe, expect, it } from '@jest/globals';
import * as kiln from 'kiln';
import { Graph, KilnError, type Tensor, add, assign, assignAdd, assignSub, group, log, mul, relu, tensor } from 'kiln';

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KilnError) return `${e.code}: ${e.message}`;
    throw e;
  }
  throw new Error('expected the run to fail');
}

const arr = (ts: (Tensor | null)[]) => ts.map((t) => (t === null ? null : t.toArray()));

function counterGraph() {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 2], 'x');
  const w = g.variable(tensor([1, -2]), 'w');
  const y = relu(add(x, w));
  const step = g.placeholder('float32', [2], 'step');
  const train = group(assignAdd(w, step));
  return { g, x, w, y, step, train };
}

describe('session: running graphs', () => {
  it('fetches by SymbolicTensor and by name, with feeds by placeholder name', async () => {
    const { g, x, y } = counterGraph();
    const s = await kiln.session(g, { backend: 'cpu' });
    const out = await s.run([y, 'add', 'w', x.name + ':0'], {
      x: tensor([
        [1, 1],
        [-5, 5],
      ]),
    });
    expect(arr(out)).toEqual([
      [
        [2, 0],
        [0, 3],
      ],
      [
        [2, -1],
        [-4, 3],
      ],
      [1, -2],
      [
        [1, 1],
        [-5, 5],
      ],
    ]);
    expect(await s.run([])).toEqual([]);
  });

  it('returns null for a fetched target and updates variables across runs', async () => {
    const { g, w, train } = counterGraph();
    const s = await kiln.session(g);
    expect(await s.run([train], { step: tensor([1, 1]) })).toEqual([null]);
    expect(await s.run(['group'], { step: tensor([10, 0]) })).toEqual([null]);
    expect(s.getVariable(w).toArray()).toEqual([12, -1]);
    expect(arr(await s.run([w]))).toEqual([[12, -1]]);
    expect(s.runCounter).toBe(3);
    // The graph's initial value is untouched: a new session starts from it.
    const s2 = await kiln.session(g);
    expect(s2.getVariable('w').toArray()).toEqual([1, -2]);
  });

  it('outputs the new value from assign ops, and several updates in one run compose', async () => {
    const g = new Graph();
    const v = g.variable(tensor([10], [1], 'int32'), 'v');
    const a = assign(v, [3]);
    const b = assignAdd(v, [4]);
    const c = assignSub(v, [2]);
    const s = await kiln.session(g);
    expect(arr(await s.run([a, b, c]))).toEqual([[3], [7], [5]]);
    expect(s.getVariable('v').toArray()).toEqual([5]);
    expect(arr(await s.run([c]))).toEqual([[3]]);
  });

  it('reads see the value at the start of the run; updates show on the next run', async () => {
    const g = new Graph();
    const v = g.variable(tensor([1]), 'v');
    const doubled = mul(v, 2);
    const upd = assign(v, doubled);
    const s = await kiln.session(g);
    expect(arr(await s.run([doubled, upd]))).toEqual([[2], [2]]);
    expect(arr(await s.run([doubled, upd]))).toEqual([[4], [4]]);
    expect(arr(await s.run(['v']))).toEqual([[4]]);
  });

  it('setVariable values are used by later runs, variableValues reads them all', async () => {
    const { g, x, y } = counterGraph();
    const s = await kiln.session(g);
    s.setVariable('w', tensor([0, 0]));
    expect(arr(await s.run([y], { [x.name]: tensor([[1, 2]]) }))).toEqual([[[1, 2]]]);
    expect([...s.variableValues().keys()]).toEqual(['w']);
    expect(s.variableValues().get('w')!.toArray()).toEqual([0, 0]);
  });

  it('assigning a feed keeps a private copy', async () => {
    const g = new Graph();
    const v = g.variable(tensor([0, 0]), 'v');
    const p = g.placeholder('float32', [2], 'p');
    const s = await kiln.session(g);
    const fed = tensor([1, 2]);
    await s.run([assign(v, p)], { p: fed });
    fed.data[0] = 99;
    expect(s.getVariable('v').toArray()).toEqual([1, 2]);
  });
});

describe('session: user errors', () => {
  it('MISSING_FEED names the placeholder with its dtype and shape', async () => {
    const { g, y } = counterGraph();
    const s = await kiln.session(g);
    expect(await failure(s.run([y]))).toBe("MISSING_FEED: the fetches need placeholder 'x' (float32[?,2]) but it was not fed (fed: none)");
  });

  it('UNKNOWN_TENSOR for a fetch name that is not in the graph', async () => {
    const s = await kiln.session(counterGraph().g);
    expect(await failure(s.run(['nope']))).toBe("UNKNOWN_TENSOR: Session.run: fetch 0: no tensor named 'nope' in the graph");
    expect(await failure(s.run(['w:3']))).toMatch(/^UNKNOWN_TENSOR: Session.run: fetch 0: node 'w' \(variable\) has 1 outputs; no output 3/);
  });

  it('rejects a fetch from another graph and a fetch that is not a tensor', async () => {
    const s = await kiln.session(counterGraph().g);
    const other = new Graph().placeholder('float32', [1], 'z');
    expect(await failure(s.run([other]))).toBe("INVALID_ARGUMENT: Session.run: fetch 0 'z' belongs to another graph, not this session's");
    expect(await failure(s.run([42 as never]))).toMatch(/^INVALID_ARGUMENT: Session.run: fetch 0 must be a SymbolicTensor or a tensor name, got a number/);
  });

  it('DTYPE_MISMATCH for a feed of the wrong dtype, showing both', async () => {
    const { g, y } = counterGraph();
    const s = await kiln.session(g);
    expect(await failure(s.run([y], { x: tensor([[1, 2]], [1, 2], 'int32') }))).toBe(
      "DTYPE_MISMATCH: Session.run: feed 'x' expects float32[?,2], got int32[1,2]",
    );
  });

  it('SHAPE_MISMATCH for a feed contradicting the placeholder: a known dim or the rank', async () => {
    const { g, y } = counterGraph();
    const s = await kiln.session(g);
    expect(await failure(s.run([y], { x: tensor([[1, 2, 3]]) }))).toBe(
      "SHAPE_MISMATCH: Session.run: feed 'x' expects float32[?,2], got float32[1,3] (dim 1 must be 2, got 3)",
    );
    expect(await failure(s.run([y], { x: tensor([1, 2]) }))).toBe(
      "SHAPE_MISMATCH: Session.run: feed 'x' expects float32[?,2], got float32[2] (rank 2 expected, got rank 1)",
    );
  });

  it('INVALID_FEED for an unknown name, a target and a value that is not a Tensor', async () => {
    const { g, y, train } = counterGraph();
    const s = await kiln.session(g);
    const x = tensor([[1, 2]]);
    expect(await failure(s.run([y], { x, xx: x }))).toBe("INVALID_FEED: Session.run: feed 'xx' names no node in the graph (placeholders: 'x', 'step')");
    expect(await failure(s.run([y], { x, [train.name]: tensor([1, 2]) }))).toBe(
      "INVALID_FEED: Session.run: feed 'group' is a target (noOp) with no value; only tensors with values can be fed",
    );
    expect(await failure(s.run([y], { x: [[1, 2]] as never }))).toBe(
      "INVALID_FEED: Session.run: feed 'x' must be a Tensor (float32[?,2]), got an array; wrap values with tensor()",
    );
    expect(await failure(s.run([y], { x, 'x:0': x }))).toMatch(/^INVALID_FEED: .*'x' is fed twice/);
  });

  it('an unknown backend is INVALID_ARGUMENT, webgpu is UNSUPPORTED for now', async () => {
    const g = new Graph();
    expect(await failure(kiln.session(g, { backend: 'webgpu' }))).toMatch(/^UNSUPPORTED: session: backend 'webgpu' is not available/);
    expect(await failure(kiln.session(g, { backend: 'tpu' as never }))).toMatch(/^INVALID_ARGUMENT: session: unknown backend 'tpu'/);
  });
});

describe('session: failed runs change nothing', () => {
  it('an assign followed by a failing op in the same run commits nothing', async () => {
    const g = new Graph();
    const a = g.variable(tensor([1, 1]), 'a');
    const b = g.variable(tensor([2, 2]), 'b');
    const p = g.placeholder('float32', [null], 'p');
    const first = assign(a, [5, 5]);
    const second = assign(b, p); // fails at run time unless p has 2 elements
    const train = group(first, second);
    const s = await kiln.session(g, { seed: 1 });
    expect(await failure(s.run([train], { p: tensor([1, 2, 3]) }))).toMatch(/^SHAPE_MISMATCH: assign 'b\/assign': .*float32\[3\]/);
    expect(s.getVariable('a').toArray()).toEqual([1, 1]);
    expect(s.getVariable('b').toArray()).toEqual([2, 2]);
    expect(s.runCounter).toBe(0);
    expect(await s.run([train], { p: tensor([7, 8]) })).toEqual([null]);
    expect(s.getVariable('a').toArray()).toEqual([5, 5]);
    expect(s.getVariable('b').toArray()).toEqual([7, 8]);
    expect(s.runCounter).toBe(1);
  });

  it('checkNumerics names the node and op that produced NaN/Infinity, and commits nothing', async () => {
    const g = new Graph();
    const v = g.variable(tensor([1, 1]), 'v');
    const x = g.placeholder('float32', [2], 'x');
    const upd = assignAdd(v, [1, 1]);
    const y = g.nameScope('loss', () => log(x));
    const z = add(y, 1);
    const checked = await kiln.session(g, { checkNumerics: true });
    expect(await failure(checked.run([upd, z], { x: tensor([1, 0]) }))).toBe(
      "NUMERIC_ERROR: log 'loss/log' produced -Infinity at flat index 1 of output 0 (float32[2]); all its inputs were finite (kernel k1, elementwise)",
    );
    expect(checked.getVariable('v').toArray()).toEqual([1, 1]);
    expect(await failure(checked.run([z], { x: tensor([NaN, 1]) }))).toMatch(/^NUMERIC_ERROR: log 'loss\/log' produced NaN .*input 'x' already held/);
    expect(arr(await checked.run([upd, z], { x: tensor([1, 1]) }))).toEqual([
      [2, 2],
      [1, 1],
    ]);
    // Without checkNumerics the same run succeeds and returns the infinity.
    const plain = await kiln.session(g);
    const [, out] = await plain.run([upd, z], { x: tensor([1, 0]) });
    expect(out!.toArray()).toEqual([1, -Infinity]);
  });

  it('dispose: later runs and reads fail with a clear message', async () => {
    const { g, y } = counterGraph();
    const s = await kiln.session(g);
    s.dispose();
    expect(await failure(s.run([y], { x: tensor([[1, 2]]) }))).toBe(
      'INVALID_ARGUMENT: Session.run: the session has been disposed; create a new one with session(graph)',
    );
    expect(() => s.variableValues()).toThrow(/disposed/);
  });
});
