/**
 * The ONNX node conformance suite on every compiled backend (tests/helpers/backends.ts): each
 * case is imported, compiled (passes, fusion, memory planning, the backend's code generation;
 * freed buffers poisoned with NaN) and run, then compared with ONNX's expected outputs (same
 * tolerances as tests/conformance.test.ts). Every case that passes on the reference executor
 * (expected-pass.txt) must pass on each backend too.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { COMPILED_BACKENDS, type CompiledBackendEntry, compileFor, runOnSync } from './helpers/backends.js';
import { type CaseExecutor, type CaseResult, conformanceDir, listCases, repoRoot, runCase } from './conformance/harness.js';

const dir = conformanceDir();
const expectedPass = readFileSync(path.join(repoRoot(), 'tests/conformance/expected-pass.txt'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

const executorFor =
  (backend: CompiledBackendEntry): CaseExecutor =>
  (outputs, feeds) => {
    const g = outputs[0]!.graph;
    const program = compileFor(backend, g, { fetches: outputs, feeds: g.placeholders().map((p) => p.output) });
    return runOnSync(backend, program, { feeds: new Map(Object.entries(feeds)), variables: new Map(), seed: 0 }).values.map((v) => v!);
  };

describe.each(COMPILED_BACKENDS.map((b) => [b.name, b] as const))('ONNX node conformance, %s', (name, backend) => {
  const results = new Map<string, CaseResult>();
  beforeAll(() => {
    if (!existsSync(dir)) return;
    for (const c of listCases(dir)) results.set(c, runCase(dir, c, executorFor(backend)));
  });

  it('passes every case the reference executor passes', () => {
    const failing = expectedPass
      .map((n) => results.get(n))
      .filter((r): r is CaseResult => !r || !r.pass)
      .map((r) => `${r.name}: ${r.category}: ${r.reason}`);
    console.log(`conformance (${name}): ${results.size - failing.length}/${results.size} pass`);
    expect(failing).toEqual([]);
  });
});
