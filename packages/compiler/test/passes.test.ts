/**
 * Golden text-IR tests for the graph passes, in the style of MLIR's FileCheck tests: each
 * case in test/passes/*.kir is a graph in Kiln's text IR, a `// RUN: pass[,pass] fetch=a,b`
 * line, and CHECK lines over the printed result; cases are separated by `// -----`. Every
 * case also runs the graph before and after on the reference executor with random feeds:
 * a pass must never change results (rtol 1e-5, atol 1e-6).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { type GraphWithFetches, commonSubexpressionElimination, constantFold, deadCodeElimination, pruneToFetches, simplify } from '@kiln/compiler';
import { parseGraph, printGraph } from '@kiln/graph';
import { evaluate, referenceConstantEvaluator } from '@kiln/runtime-cpu';
import { expectClose, randomFeeds } from '../../../tests/helpers/reference-compare.js';
import { fileCheck, parseChecks } from './filecheck.js';

const here = dirname(fileURLToPath(import.meta.url));
const PASSES: Record<string, (g: GraphWithFetches) => GraphWithFetches> = {
  prune: pruneToFetches,
  dce: deadCodeElimination,
  cse: commonSubexpressionElimination,
  simplify,
  fold: (g) => constantFold(g, { evaluate: referenceConstantEvaluator, maxElements: 64 }),
};

const files = readdirSync(join(here, 'passes')).filter((f) => f.endsWith('.kir'));

describe.each(files)('%s', (file) => {
  const cases = readFileSync(join(here, 'passes', file), 'utf8').split(/^\/\/ -----$/m);
  it.each(cases.map((c, i) => [i, c] as const))('case %i', (_i, text) => {
    const run = /\/\/ RUN: (\S+) fetch=(\S+)/.exec(text);
    expect(run).not.toBeNull();
    const passes = run![1]!.split(',').map((p) => {
      const f = PASSES[p];
      if (!f) throw new Error(`unknown pass ${p}`);
      return f;
    });
    const g = parseGraph(text);
    const fetches = run![2]!.split(',').map((n) => g.tensorByName(n));
    const out = passes.reduce((acc, p) => p(acc), { graph: g, fetches } as GraphWithFetches);
    const printed = printGraph(out.graph);
    const failure = fileCheck(printed, parseChecks(text));
    expect(failure).toBeNull();
    // Round trip of the result through the text IR, and same values before/after.
    expect(printGraph(parseGraph(printed))).toBe(printed);
    const feeds = randomFeeds(g, 7, 2);
    const before = evaluate(fetches, feeds);
    const after = evaluate(out.fetches, feeds);
    before.forEach((b, i) => expectClose(after[i]!, b, `fetch ${i}`, 1e-6, 1e-5));
  });
});
