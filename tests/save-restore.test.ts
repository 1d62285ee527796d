/**
 * Save and restore in one call: Session.save(path) writes the graph with every variable's
 * current value (optimizer slots included) and the random state; kiln.restore(path) resumes
 * training with exactly the losses of an uninterrupted run (dropout included, so the random
 * streams resume too). Writes are atomic (no temporary file left; a failed write leaves no
 * file). serializeGraph takes the session's Map<string, Tensor>.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as kiln from 'kiln';
import { Graph, tensor } from 'kiln';

function build() {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 3], 'x');
  const y = g.placeholder('float32', [null, 1], 'y');
  const w = g.variable(kiln.initializers.glorotUniform({ seed: 1 }), [3, 4], 'w');
  const v = g.variable(kiln.initializers.glorotUniform({ seed: 2 }), [4, 1], 'v');
  const h = kiln.dropout(kiln.relu(kiln.matMul(x, w)), 0.25);
  const loss = kiln.losses.meanSquaredError(y, kiln.matMul(h, v));
  const step = kiln.train.adam(0.05).minimize(loss);
  const feeds = {
    x: tensor([
      [1, 2, 3],
      [0, -1, 2],
      [3, 0, 1],
    ]),
    y: tensor([[1], [0], [2]]),
  };
  return { g, loss, step, feeds };
}

async function steps(s: kiln.Session, loss: string, step: string, feeds: Record<string, kiln.Tensor>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await s.run([loss, step], feeds))[0]!.dataSync()[0]!);
  return out;
}

describe('Session.save / kiln.restore', () => {
  it('resume training exactly where it stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-save-'));
    try {
      const { g, loss, step, feeds } = build();
      const whole = await steps(await kiln.session(g, { seed: 4 }), loss.name, step.name, feeds, 6);
      const a = await kiln.session(g, { seed: 4 });
      const first = await steps(a, loss.name, step.name, feeds, 3);
      const path = join(dir, 'model.kiln');
      await a.save(path);
      expect(readdirSync(dir)).toEqual(['model.kiln']);
      const b = await kiln.restore(path);
      expect(b.seed).toBe(4);
      expect(b.runCounter).toBe(3);
      expect(b.getVariable('Adam/w/m').arraySync()).toEqual(a.getVariable('Adam/w/m').arraySync());
      const rest = await steps(b, loss.name, step.name, feeds, 3);
      expect([...first, ...rest]).toEqual(whole);
      const onRef = await kiln.restore(path, { backend: 'reference' });
      expect(onRef.getVariable('w').arraySync()).toEqual(a.getVariable('w').arraySync());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('report unwritable and missing paths as IO_ERROR, leaving no file behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-save-'));
    try {
      const s = await kiln.session(build().g);
      await expect(s.save(join(dir, 'no-such-dir', 'm.kiln'))).rejects.toThrow(/Session\.save: cannot write '.*m\.kiln'/);
      expect(readdirSync(dir)).toEqual([]);
      await expect(kiln.restore(join(dir, 'missing.kiln'))).rejects.toMatchObject({ code: 'IO_ERROR' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serializeGraph takes the session variables by name', async () => {
    const g = new Graph();
    const w = g.variable(tensor([1, 2]), 'w');
    const s = await kiln.session(g);
    await s.run([kiln.assign(w, [5, 6])]);
    const again = kiln.deserializeGraph(kiln.serializeGraph(g, { variables: s.variableValues() }));
    expect((again.nodeByName('w')!.attrs.value as kiln.Tensor).arraySync()).toEqual([5, 6]);
    expect(() => kiln.serializeGraph(g, { variables: new Map([['nope', tensor([1])]]) })).toThrow(/'nope', which names no variable/);
  });
});
