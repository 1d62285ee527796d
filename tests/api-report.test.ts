/**
 * API report: the public surface of the `kiln` umbrella, as a sorted list (values, then
 * `type` names) compared with the committed tests/api-report.txt, so that any change to the
 * surface is a visible diff in review. The list is read from the explicit export clauses of
 * packages/kiln/src/index.ts (no `export *` there, checked) and cross-checked against the
 * module's run-time exports. To accept a change: KILN_UPDATE_API_REPORT=1 npm run jest -- tests/api-report.test.ts
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kiln from 'kiln';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const indexSource = readFileSync(join(root, 'packages/kiln/src/index.ts'), 'utf8');
const reportPath = join(root, 'tests/api-report.txt');

/** Every name exported by the index's `export { ... }` clauses, `type ` prefixed for types. */
function exportedNames(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const names: string[] = [];
  for (const m of code.matchAll(/export\s+(type\s+)?\{([^}]*)\}/g)) {
    for (const raw of m[2]!.split(',')) {
      const spec = raw.trim();
      if (!spec) continue;
      const isType = Boolean(m[1]) || spec.startsWith('type ');
      const name = spec
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop()!
        .trim();
      names.push(isType ? `type ${name}` : name);
    }
  }
  return names;
}

/** The names the design contract (section 3) promises from 'kiln' (exportOnnx and the Keras API are not written yet). */
const CONTRACT = `Tensor tensor Graph KilnError printGraph parseGraph serializeGraph deserializeGraph initializers
add sub mul div pow maximum minimum squaredDifference neg abs exp log sqrt rsqrt square reciprocal sign floor ceil
round sin cos tanh sigmoid relu relu6 leakyRelu elu selu softplus gelu erf clipByValue equal notEqual less lessEqual
greater greaterEqual logicalAnd logicalOr logicalNot where cast matMul conv2d conv2dTranspose depthwiseConv2d maxPool
avgPool sum mean max min prod argMax argMin softmax logSoftmax reshape transpose expandDims squeeze concat stack split
slice gather oneHot pad tile broadcastTo batchNorm layerNorm dropout identity stopGradient zerosLike onesLike
gradients train compile session restore compileModel loadCompiled importOnnx staticInputNames`.split(/\s+/);

describe('kiln public API', () => {
  const names = exportedNames(indexSource);
  const report = [...new Set(names)].sort((a, b) => (a.startsWith('type ') === b.startsWith('type ') ? (a < b ? -1 : 1) : a.startsWith('type ') ? 1 : -1));

  it('is an explicit list (no export *) without duplicates', () => {
    expect(indexSource).not.toMatch(/^export \*/m);
    expect(names.length).toBe(report.length);
  });

  it('keeps every name of the design contract', () => {
    expect(CONTRACT.filter((n) => !report.includes(n))).toEqual([]);
  });

  it('matches the run-time exports', () => {
    expect(Object.keys(kiln).sort()).toEqual(report.filter((n) => !n.startsWith('type ')).sort());
  });

  it('equals the committed report (tests/api-report.txt)', () => {
    const text = `${report.join('\n')}\n`;
    if (process.env.KILN_UPDATE_API_REPORT === '1') writeFileSync(reportPath, text);
    expect(text).toBe(readFileSync(reportPath, 'utf8'));
  });
});
