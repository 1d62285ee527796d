/**
 * The ONNX node conformance suite on the compiled CPU path: each case is imported, compiled
 * (passes, fusion, memory planning, generated JS; freed arena regions poisoned with NaN) and
 * run, then compared with ONNX's expected outputs (same tolerances as tests/conformance.test.ts).
 * Every case that passes on the reference executor (expected-pass.txt) must pass here too.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { compile } from '@kiln/compiler';
import { CpuProgram, referenceConstantEvaluator } from '@kiln/runtime-cpu';
import { type CaseExecutor, type CaseResult, expectedPassList, listAllCases, runCase } from './conformance/harness.js';

const expectedPass = expectedPassList();

const compiled: CaseExecutor = (outputs, feeds) => {
  const g = outputs[0]!.graph;
  const program = compile(g, { fetches: outputs, feeds: g.placeholders().map((p) => p.output) }, { constantEvaluator: referenceConstantEvaluator });
  const run = new CpuProgram(program, { poisonFreed: true }).run({ feeds: new Map(Object.entries(feeds)), variables: new Map(), seed: 0 });
  return run.values.map((v) => v!);
};

const results = new Map<string, CaseResult>();
beforeAll(() => {
  for (const c of listAllCases()) results.set(c.id, { ...runCase(c.source.dir, c.name, compiled), name: c.id });
});

describe('ONNX node conformance, compiled CPU', () => {
  it('passes every case the reference executor passes', () => {
    const checked = expectedPass.filter((id) => results.has(id) || !id.startsWith('extra/'));
    const failing = checked
      .map((id): [string, CaseResult | undefined] => [id, results.get(id)])
      .filter(([, r]) => !r || !r.pass)
      .map(([id, r]) => (r ? `${id}: ${r.category}: ${r.reason}` : `${id}: case not found`));
    console.log(`conformance (compiled CPU): ${checked.length - failing.length}/${checked.length} expected-pass cases pass`);
    expect(failing).toEqual([]);
  });
});
