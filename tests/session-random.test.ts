/**
 * Random streams in a session: a stateful random op draws a fresh stream on each run, and the
 * streams are reproducible from (session seed, run counter). Uses a test-only op registered
 * here (this file's module registry is its own), so it does not depend on the random family.
 */
import { describe, expect, it } from '@jest/globals';
import * as kiln from 'kiln';
import { Graph, KilnError, Tensor, type SymbolicTensor, assign, group } from 'kiln';
import { registerOp } from '@kiln/graph';
import { registerRefKernel } from '@kiln/runtime-cpu';

registerOp({
  name: 'sessionTestUniform',
  family: 'random',
  stateful: true,
  inputs: [],
  attrs: { size: { type: 'int' } },
  infer: (_inputs, attrs) => [{ dtype: 'float32', shape: [attrs.size as number] }],
});
registerRefKernel('sessionTestUniform', (_inputs, attrs, ctx) => {
  const t = new Tensor('float32', [attrs.size as unknown as number]);
  for (let i = 0; i < t.size; i++) t.data[i] = ctx.random();
  return [t];
});

function draws(g: Graph, size = 4): SymbolicTensor {
  return g.addNode('sessionTestUniform', [], { size }).output;
}

async function sample(s: kiln.Session, fetch: SymbolicTensor): Promise<number[]> {
  const [t] = await s.run([fetch]);
  return t!.toFlat();
}

describe('session random streams', () => {
  it('differ from run to run but repeat for the same seed', async () => {
    const g = new Graph();
    const r = draws(g);
    const a = await kiln.session(g, { seed: 7 });
    const b = await kiln.session(g, { seed: 7 });
    const c = await kiln.session(g, { seed: 8 });
    const a1 = await sample(a, r);
    const a2 = await sample(a, r);
    expect(a1).not.toEqual(a2);
    expect(await sample(b, r)).toEqual(a1);
    expect(await sample(b, r)).toEqual(a2);
    expect(await sample(c, r)).not.toEqual(a1);
    expect(a.seed).toBe(7);
  });

  it('two random nodes in one run draw different streams', async () => {
    const g = new Graph();
    const r1 = draws(g);
    const r2 = draws(g);
    const s = await kiln.session(g, { seed: 1 });
    const [x, y] = await s.run([r1, r2]);
    expect(x!.toFlat()).not.toEqual(y!.toFlat());
  });

  it('replay from a saved run counter; a failed run does not advance it', async () => {
    const g = new Graph();
    const r = draws(g);
    const v = g.variable(new Tensor('float32', [4]), 'v');
    const p = g.placeholder('float32', [null], 'p');
    const bad = group(assign(v, p), r);
    const s = await kiln.session(g, { seed: 3 });
    await sample(s, r);
    const saved = s.runCounter;
    const next = await sample(s, r);
    let err: unknown;
    try {
      await s.run([bad], { p: new Tensor('float32', [5]) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KilnError);
    expect(s.runCounter).toBe(saved + 1);
    const after = await sample(s, r);
    expect(after).not.toEqual(next);
    s.runCounter = saved;
    expect(await sample(s, r)).toEqual(next);
    expect(await sample(s, r)).toEqual(after);
  });
});
