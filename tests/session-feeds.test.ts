/**
 * Feeds as in TF1: any tensor can be fed (its value replaces the computed one for that run,
 * and what only it needed is pruned: a placeholder upstream need not be fed), on the reference
 * and the compiled CPU backends; two feeds whose batch sizes disagree are reported against the
 * feeds, before any kernel runs; Session.compiled takes feedShapes.
 */
import { describe, expect, it } from '@jest/globals';
import * as kiln from 'kiln';
import { Graph, tensor } from 'kiln';

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return `${(e as kiln.KilnError).code}: ${(e as Error).message}`;
  }
  throw new Error('expected a failure');
}

describe('feeding any tensor', () => {
  for (const backend of ['cpu', 'reference'] as const) {
    it(`replaces the computed value and prunes what only it needed (${backend})`, async () => {
      const g = new Graph();
      const x = g.placeholder('float32', [null, 2], 'x');
      const w = g.variable(tensor([[1], [2]]), 'w');
      const h = kiln.matMul(x, w); // [?, 1]
      const y = kiln.add(kiln.mul(h, 10), 1);
      const [first, second] = kiln.split(g.constant([1, 2, 3, 4]), 2);
      const z = kiln.sum(second!);
      const s = await kiln.session(g, { backend });
      // h fed: x is no longer needed.
      const [yv] = await s.run([y], { [h.name]: tensor([[0.5], [2]]) });
      expect(yv.arraySync()).toEqual([[6], [21]]);
      // Not fed: computed from x as usual.
      const [yv2] = await s.run([y], { x: tensor([[1, 1]]) });
      expect(yv2.arraySync()).toEqual([[31]]);
      // A variable's value and a second output can be fed too.
      const [hv] = await s.run([h], { x: tensor([[1, 1]]), w: tensor([[3], [4]]) });
      expect(hv.arraySync()).toEqual([[7]]);
      expect(s.getVariable('w').arraySync()).toEqual([[1], [2]]);
      const [zv, fv] = await s.run([z, first!], { [second!.name]: tensor([10, 20]) });
      expect(zv.arraySync()).toBe(30);
      expect(fv.arraySync()).toEqual([1, 2]);
    });
  }

  it('checks a fed value against the tensor it replaces', async () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 2], 'x');
    const h = kiln.relu(x);
    const y = kiln.sum(h);
    const s = await kiln.session(g);
    expect(await failure(s.run([y], { [h.name]: tensor([1, 2, 3]) }))).toBe(
      `SHAPE_MISMATCH: Session.run: feed '${h.node.name}' expects float32[?,2], got float32[3] (rank 2 expected, got rank 1)`,
    );
  });

  it('refuses to feed a variable that the run assigns', async () => {
    const g = new Graph();
    const w = g.variable(tensor([1, 2]), 'w');
    const loss = kiln.sum(kiln.square(w));
    const step = kiln.train.sgd(0.1).minimize(loss);
    const s = await kiln.session(g);
    expect(await failure(s.run([step], { w: tensor([5, 5]) }))).toBe(
      "INVALID_FEED: Session.run: feed 'w' is a variable that this run updates (assignSub 'SGD/w/assignSub'); feed it only in runs that do not assign it",
    );
    const [l] = await s.run([loss], { w: tensor([5, 5]) });
    expect(l.arraySync()).toBe(50);
    expect(s.getVariable('w').arraySync()).toEqual([1, 2]);
  });
});

describe('feeds that disagree', () => {
  it('are named, with their shapes, before any kernel runs', async () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 2], 'x');
    const y = g.placeholder('float32', [null, 3], 'y');
    const w = g.variable(
      tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      'w',
    );
    const loss = kiln.mean(kiln.square(kiln.sub(kiln.matMul(x, w), y)));
    const step = kiln.train.sgd(0.1).minimize(loss);
    for (const backend of ['cpu', 'reference'] as const) {
      const s = await kiln.session(g, { backend });
      const msg = await failure(s.run([loss, step], { x: new kiln.Tensor('float32', [300, 2]), y: new kiln.Tensor('float32', [200, 3]) }));
      expect(msg).toMatch(/^SHAPE_MISMATCH: Session\.run: feeds 'x' float32\[300,2\] and 'y' float32\[200,3\] do not agree: /);
      expect(s.runCounter).toBe(0);
      expect(s.getVariable('w').arraySync()).toEqual([
        [1, 2, 3],
        [4, 5, 6],
      ]);
    }
  });
});

describe('Session.compiled', () => {
  it('takes feedShapes for unknown dims', async () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 4], 'x');
    const y = kiln.relu(kiln.matMul(x, g.ones([4, 3])));
    const s = await kiln.session(g);
    const p = s.compiled([y], ['x'], { feedShapes: { x: [16, 4] } });
    const one = s.compiled([y], ['x']);
    expect(p.toString()).toContain('float32[16,3]');
    expect(one.toString()).toContain('float32[1,3]');
    expect(() => s.compiled([y], ['x'], { feedShapes: { x: [16, 5] } })).toThrow(/feed 'x' expects float32\[\?,4\], got float32\[16,5\]/);
  });
});
