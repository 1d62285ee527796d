/**
 * The ONNX node conformance suite on the compiled CPU path: each case is imported, compiled
 * (passes, fusion, memory planning, generated JS; freed arena regions poisoned with NaN) and
 * run, then compared with ONNX's expected outputs (same tolerances as tests/conformance.test.ts).
 * Every case that passes on the reference executor (expected-pass.txt) must pass here too.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { compile } from '@kiln/compiler';
import { CpuProgram, referenceConstantEvaluator } from '@kiln/runtime-cpu';
import { type CaseExecutor, type CaseResult, conformanceDir, listCases, repoRoot, runCase } from './conformance/harness.js';

const dir = conformanceDir();
const expectedPass = readFileSync(path.join(repoRoot(), 'tests/conformance/expected-pass.txt'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

const compiled: CaseExecutor = (outputs, feeds) => {
  const g = outputs[0]!.graph;
  const program = compile(g, { fetches: outputs, feeds: g.placeholders().map((p) => p.output) }, { constantEvaluator: referenceConstantEvaluator });
  const run = new CpuProgram(program, { poisonFreed: true }).run({ feeds: new Map(Object.entries(feeds)), variables: new Map(), seed: 0 });
  return run.values.map((v) => v!);
};

const results = new Map<string, CaseResult>();
beforeAll(() => {
  if (!existsSync(dir)) return;
  for (const name of listCases(dir)) results.set(name, runCase(dir, name, compiled));
});

describe('ONNX node conformance, compiled CPU', () => {
  it('passes every case the reference executor passes', () => {
    const failing = expectedPass
      .map((n) => results.get(n))
      .filter((r): r is CaseResult => !r || !r.pass)
      .map((r) => `${r.name}: ${r.category}: ${r.reason}`);
    console.log(`conformance (compiled CPU): ${results.size - failing.length}/${results.size} pass`);
    expect(failing).toEqual([]);
  });
});
