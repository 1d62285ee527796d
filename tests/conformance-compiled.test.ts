/**
 * The ONNX conformance suites on every compiled backend (tests/helpers/backends.ts): each case
 * is imported, compiled (passes, fusion, memory planning, the backend's code generation; freed
 * buffers poisoned with NaN) and run, then compared with ONNX's expected outputs (same
 * tolerances and case sources as tests/conformance.test.ts). Every case that passes on the
 * reference executor (expected-pass.txt) must pass on each backend too.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { COMPILED_BACKENDS, type CompiledBackendEntry, compileFor, runOnSync } from './helpers/backends.js';
import { type CaseExecutor, type CaseResult, expectedPassList, listAllCases, runCase } from './conformance/harness.js';

const expectedPass = expectedPassList();

const executorFor =
  (backend: CompiledBackendEntry): CaseExecutor =>
  (outputs, feeds) => {
    const g = outputs[0]!.graph;
    const program = compileFor(backend, g, { fetches: outputs, feeds: g.placeholders().map((p) => p.output) });
    return runOnSync(backend, program, { feeds: new Map(Object.entries(feeds)), variables: new Map(), seed: 0 }).values.map((v) => v!);
  };

// Asynchronous backends (notSynchronous says why) are not run by this synchronous harness.
describe.each(COMPILED_BACKENDS.filter((b) => !b.notSynchronous).map((b) => [b.name, b] as const))('ONNX conformance, %s', (name, backend) => {
  const results = new Map<string, CaseResult>();
  beforeAll(() => {
    for (const c of listAllCases()) results.set(c.id, { ...runCase(c.source.dir, c.name, executorFor(backend)), name: c.id });
  });

  it('passes every case the reference executor passes', () => {
    // Ids of an optional source that is not on this machine have nothing to run against.
    const checked = expectedPass.filter((id) => results.has(id) || !id.startsWith('extra/'));
    const failing = checked
      .map((id): [string, CaseResult | undefined] => [id, results.get(id)])
      .filter(([, r]) => !r || !r.pass)
      .map(([id, r]) => (r ? `${id}: ${r.category}: ${r.reason}` : `${id}: case not found`));
    console.log(`conformance (${name}): ${checked.length - failing.length}/${checked.length} expected-pass cases pass`);
    expect(failing).toEqual([]);
  });
});
