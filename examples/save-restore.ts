/**
 * Save and restore a training session in one call each: train a little, `sess.save(path)`
 * (the graph, current weights, Adam's moments, the random state), `kiln.restore(path)` in a
 * fresh session, and keep training where it stopped.
 *
 *   npm run example examples/save-restore.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as kiln from 'kiln';

export async function run(log = false): Promise<{ saved: number[]; restored: number[]; uninterrupted: number[] }> {
  const g = new kiln.Graph();
  const x = g.placeholder('float32', [null, 2], 'x');
  const y = g.placeholder('float32', [null, 1], 'y');
  const w = g.variable(kiln.initializers.glorotNormal({ seed: 3 }), [2, 1], 'w');
  const loss = kiln.losses.meanSquaredError(y, kiln.matMul(x, w));
  const trainOp = kiln.train.adam(0.1).minimize(loss);
  // A restored session has its own graph: fetch by name (names are saved).
  const fetches = [loss.name, trainOp.name];
  const feeds = {
    x: kiln.tensor([
      [1, 2],
      [3, -1],
      [0, 1],
    ]),
    y: kiln.tensor([[5], [1], [2]]),
  };
  const steps = async (sess: kiln.Session, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await sess.run(fetches, feeds))[0]!.dataSync()[0]!);
    return out;
  };

  const dir = mkdtempSync(join(tmpdir(), 'kiln-example-'));
  try {
    const sess = await kiln.session(g, { seed: 1 });
    const saved = await steps(sess, 5);
    await sess.save(join(dir, 'model.kiln'));
    const again = await kiln.restore(join(dir, 'model.kiln'));
    const restored = await steps(again, 5);
    const uninterrupted = await steps(await kiln.session(g, { seed: 1 }), 10);
    if (log) console.log(`before save ${saved.map((v) => v.toFixed(4)).join(' ')}\nafter restore ${restored.map((v) => v.toFixed(4)).join(' ')}`);
    return { saved, restored, uninterrupted };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run(true);
}
