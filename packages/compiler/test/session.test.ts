/**
 * Session logic on a scripted fake Backend (no runtime): signature caching, plans, staged
 * commits, the run counter and seeds, variable access, disposal. End-to-end runs on the
 * reference backend are in tests/session*.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import { type Backend, type ExecInputs, type ExecutionPlan, Session, runSeed } from '@kiln/compiler';
import { Graph, KilnError, type Node, Tensor, add, assign, group, relu, scalar, tensor } from '@kiln/graph';

/** A backend whose runs return each fetch's variable value (or a scalar 0) and stage `nextWrites`. */
class FakeBackend implements Backend {
  readonly name = 'fake';
  prepared: ExecutionPlan[] = [];
  inputs: ExecInputs[] = [];
  nextWrites = new Map<Node, Tensor>();
  failRun: Error | null = null;
  failPrepare: Error | null = null;
  returnNull = false;
  disposed = 0;
  executablesDisposed = 0;
  prepare(plan: ExecutionPlan) {
    if (this.failPrepare) throw this.failPrepare;
    this.prepared.push(plan);
    return {
      run: async (inputs: ExecInputs) => {
        this.inputs.push(inputs);
        if (this.failRun) throw this.failRun;
        const values = plan.fetches.map((f) => inputs.variables.get(f.node) ?? inputs.feeds.get(f.node) ?? scalar(0));
        return { values: this.returnNull ? values.map(() => null) : values, writes: this.nextWrites };
      },
      dispose: () => {
        this.executablesDisposed++;
      },
    };
  }
  dispose(): void {
    this.disposed++;
  }
}

function setup() {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 2], 'x');
  const w = g.variable(tensor([1, 2]), 'w');
  const y = relu(add(x, w));
  const upd = assign(w, [5, 6]);
  const train = group(upd);
  const backend = new FakeBackend();
  const s = new Session(g, backend, { seed: 42 });
  return { g, x, w, y, upd, train, backend, s };
}

async function rejection(p: Promise<unknown>): Promise<KilnError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KilnError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('Session on a fake backend', () => {
  it('prepares each signature once and reuses it', async () => {
    const { s, y, backend } = setup();
    await s.run([y], { x: tensor([[1, 1]]) });
    await s.run(['relu'], { x: tensor([[2, 2]]) });
    await s.run([y], { 'x:0': tensor([[3, 3]]) });
    expect(backend.prepared.length).toBe(1);
    await s.run([y, 'w'], { x: tensor([[3, 3]]) });
    expect(backend.prepared.length).toBe(2);
  });

  it('plan() returns the pruned, ordered plan of a signature', () => {
    const { s, y, g } = setup();
    const plan = s.plan([y], ['x']);
    expect(plan.nodes.map((n) => n.name)).toEqual(['x', 'w', 'add', 'relu']);
    expect(plan.placeholders.map((n) => n.name)).toEqual(['x']);
    expect(plan.variables.map((n) => n.name)).toEqual(['w']);
    expect(plan.writes).toEqual([]);
    expect(plan.targets).toEqual([false]);
    expect(plan.graph).toBe(g);
    expect(plan.toString()).toContain('relu = relu(add)');
    expect(s.plan(['relu'], ['x'])).toBe(plan);
  });

  it('plans targets through control edges and records the variables they write', () => {
    const { s, train } = setup();
    const plan = s.plan([train]);
    expect(plan.nodes.map((n) => n.op)).toEqual(['variable', 'const', 'assign', 'noOp']);
    expect(plan.writes.map((n) => n.name)).toEqual(['w']);
    expect(plan.targets).toEqual([true]);
    expect(plan.toString()).toContain('group = noOp() ^[w/assign]');
  });

  it('plan() reports a placeholder the signature lacks', () => {
    const { s, y } = setup();
    let err: unknown;
    try {
      s.plan([y], []);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).code).toBe('MISSING_FEED');
    expect((err as KilnError).message).toContain("'x' (float32[?,2])");
  });

  it('commits writes and advances the counter only when a run succeeds', async () => {
    const { s, w, train, backend } = setup();
    backend.nextWrites = new Map([[w.node, tensor([7, 8])]]);
    backend.failRun = new KilnError('NUMERIC_ERROR', 'boom');
    expect((await rejection(s.run([train]))).code).toBe('NUMERIC_ERROR');
    expect(s.getVariable('w').toArray()).toEqual([1, 2]);
    expect(s.runCounter).toBe(0);
    backend.failRun = null;
    expect(await s.run([train])).toEqual([null]);
    expect(s.getVariable(w).toArray()).toEqual([7, 8]);
    expect(s.runCounter).toBe(1);
  });

  it('passes committed variables and a per-run seed from (seed, counter)', async () => {
    const { s, w, train, backend } = setup();
    backend.nextWrites = new Map([[w.node, tensor([7, 8])]]);
    await s.run([train]);
    await s.run([train]);
    const [a, b] = backend.inputs;
    expect(a!.variables.get(w.node)!.toArray()).toEqual([1, 2]);
    expect(b!.variables.get(w.node)!.toArray()).toEqual([7, 8]);
    expect(a!.seed).toBe(runSeed(42, 0));
    expect(b!.seed).toBe(runSeed(42, 1));
    expect(runSeed(42, 0)).not.toBe(runSeed(42, 1));
    expect(runSeed(42, 0)).not.toBe(runSeed(43, 0));
    s.runCounter = 0;
    await s.run([train]);
    expect(backend.inputs[2]!.seed).toBe(a!.seed);
    expect(() => {
      s.runCounter = -1;
    }).toThrow(/runCounter: must be an integer >= 0, got -1/);
  });

  it('treats a missing value for a non-target fetch as an internal error and commits nothing', async () => {
    const { s, w, upd, backend } = setup();
    backend.nextWrites = new Map([[w.node, tensor([7, 8])]]);
    backend.returnNull = true;
    const err = await rejection(s.run([upd]));
    expect(`${err.code}: ${err.message}`).toBe("INTERNAL: Session.run: backend 'fake' returned no value for fetch 'w/assign'");
    expect(s.getVariable('w').toArray()).toEqual([1, 2]);
    expect(s.runCounter).toBe(0);
  });

  it('does not cache a failed prepare', async () => {
    const { s, y, backend } = setup();
    backend.failPrepare = new KilnError('UNSUPPORTED', 'not yet');
    expect((await rejection(s.run([y], { x: tensor([[1, 1]]) }))).code).toBe('UNSUPPORTED');
    backend.failPrepare = null;
    await s.run([y], { x: tensor([[1, 1]]) });
    expect(backend.prepared.length).toBe(1);
  });

  it('serializes runs in call order', async () => {
    const { s, w, train, backend } = setup();
    backend.nextWrites = new Map([[w.node, tensor([3, 3])]]);
    const r1 = s.run([train]);
    const r2 = s.run(['w']);
    const [, [v]] = await Promise.all([r1, r2]);
    expect(v!.toArray()).toEqual([3, 3]);
  });

  it('hands out copies: mutating a fetched or read value leaves the state alone', async () => {
    const { s, w } = setup();
    const [v] = await s.run([w]);
    v!.data[0] = 100;
    s.getVariable('w').data[1] = 100;
    s.variableValues().get('w')!.data[0] = 100;
    expect(s.getVariable('w').toArray()).toEqual([1, 2]);
  });

  it('sets variables with dtype and shape checks, all or nothing', () => {
    const { s, g } = setup();
    const b = g.variable(tensor([0]), 'b');
    const mine = tensor([9, 9]);
    s.setVariable('w', mine);
    mine.data[0] = 0;
    expect(s.getVariable('w').toArray()).toEqual([9, 9]);
    const failure = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return `${(e as KilnError).code}: ${(e as Error).message}`;
      }
      return 'no error';
    };
    expect(failure(() => s.setVariable('w', tensor([1, 2], [2], 'int32')))).toBe(
      "DTYPE_MISMATCH: Session.setVariable: variable 'w' is float32[2], got int32[2]",
    );
    expect(failure(() => s.setVariable('w', tensor([1, 2, 3])))).toBe("SHAPE_MISMATCH: Session.setVariable: variable 'w' is float32[2], got float32[3]");
    expect(() => s.setVariables({ b: tensor([4]), w: tensor([1]) })).toThrow(KilnError);
    expect(s.getVariable(b).toArray()).toEqual([0]);
    s.setVariables(new Map([['b', tensor([4])]]));
    expect([...s.variableValues().entries()].map(([k, t]) => [k, t.toArray()])).toEqual([
      ['w', [9, 9]],
      ['b', [4]],
    ]);
  });

  it('names what is wrong in variable lookups', () => {
    const { s } = setup();
    const codes = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return `${(e as KilnError).code}: ${(e as Error).message}`;
      }
      return 'no error';
    };
    expect(codes(() => s.getVariable('nope'))).toBe("UNKNOWN_TENSOR: Session.getVariable: no variable named 'nope' in the graph");
    expect(codes(() => s.getVariable('relu'))).toBe("INVALID_ARGUMENT: Session.getVariable: 'relu' is a relu node, not a variable");
    expect(codes(() => s.getVariable(new Graph().variable(tensor([1]), 'w')))).toMatch(/^INVALID_ARGUMENT: .*another graph/);
    expect(codes(() => s.setVariable('w', [1, 2] as never))).toMatch(/^INVALID_ARGUMENT: .*must be a Tensor/);
  });

  it('dispose frees the backend and executables; later calls fail', async () => {
    const { s, y, backend } = setup();
    await s.run([y], { x: tensor([[1, 1]]) });
    s.dispose();
    s.dispose();
    await Promise.resolve();
    expect(backend.disposed).toBe(1);
    expect(backend.executablesDisposed).toBe(1);
    expect(s.isDisposed).toBe(true);
    const err = await rejection(s.run([y], { x: tensor([[1, 1]]) }));
    expect(err.message).toMatch(/Session.run: the session has been disposed/);
    expect(() => s.getVariable('w')).toThrow(/disposed/);
    expect(() => s.plan([y], ['x'])).toThrow(/disposed/);
    expect(() => s.compiled([y], ['x'])).toThrow(/disposed/);
  });

  it('rejects a non-integer seed', () => {
    expect(() => new Session(new Graph(), new FakeBackend(), { seed: 1.5 })).toThrow(/seed must be an integer, got 1.5/);
    expect(new Session(new Graph(), new FakeBackend(), { seed: 3 }).seed).toBe(3);
    expect(Number.isInteger(new Session(new Graph(), new FakeBackend()).seed)).toBe(true);
  });
});
