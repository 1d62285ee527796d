/**
 * One compile story: compile() folds constants by default once a runtime is loaded (the
 * umbrella loads the CPU runtime, which installs its reference kernels as the evaluator);
 * `constantEvaluator: false` turns folding off. Folded or not, results equal the reference.
 */
import { describe, expect, it } from '@jest/globals';
import * as kiln from 'kiln';
import { Graph, compile, tensor } from 'kiln';
import { CpuProgram, evaluate } from '@kiln/runtime-cpu';

describe('compile() defaults', () => {
  it('folds constants without being given an evaluator', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [2], 'x');
    const c = kiln.exp(kiln.mul(g.constant([1, 2]), g.range(0, 2)));
    const y = kiln.add(x, c);
    const folded = compile(g, { fetches: [y], feeds: [x] });
    const unfolded = compile(g, { fetches: [y], feeds: [x] }, { constantEvaluator: false });
    expect(folded.stats.graphNodes).toBe(1);
    expect(unfolded.stats.graphNodes).toBe(3);
    const feeds = { x: tensor([10, 20]) };
    const want = evaluate([y], feeds)[0]!.dataSync();
    for (const p of [folded, unfolded]) {
      const got = new CpuProgram(p).run({ feeds: new Map(Object.entries(feeds)), variables: new Map(), seed: 0 });
      expect(got.values[0]!.dataSync()).toEqual(want);
    }
  });
});
