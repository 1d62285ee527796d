/**
 * Golden tests for lowering, fusion, scheduling and memory planning, in the style of the
 * passes tests (FileCheck over text dumps): each case in test/programs/*.kir is a graph in
 * Kiln's text IR, a `// RUN: fetch=a,b [feed=x,y] [nofuse] [decompose]` line and CHECK lines
 * over `program.toString()`; cases are separated by `// -----`. feed= defaults to every
 * placeholder. Composite ops (logSoftmax, ...) stay routine kernels unless the RUN line says
 * `decompose`: most cases use them as opaque producers to test fusion and memory planning.
 *
 * So that a golden dump can never bless a wrong program, every case also runs on every
 * compiled backend (tests/helpers/backends.ts; freed buffers poisoned with NaN) and on the
 * reference executor with the same random feeds, requiring equal fetches and equal variable
 * writes (rtol 1e-4, atol 1e-5): the golden program where the backend implements its routines,
 * and the program as compile() makes it by default (decomposed).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { checkRoutines, compile, routinesOf } from '@kiln/compiler';
import { type Node, type Tensor, getOp, parseGraph } from '@kiln/graph';
import { evaluateWithState, referenceConstantEvaluator } from '@kiln/runtime-cpu';
import { COMPILED_BACKENDS, runOn } from '../../../tests/helpers/backends.js';
import { expectClose, randomFeeds } from '../../../tests/helpers/reference-compare.js';
import { fileCheck, parseChecks } from './filecheck.js';

const here = dirname(fileURLToPath(import.meta.url));

interface RunLine {
  fetch: string[];
  feed?: string[];
  fuse: boolean;
  decompose: boolean;
}

function parseRun(text: string): RunLine {
  const m = /^\/\/ RUN:(.*)$/m.exec(text);
  if (!m) throw new Error('case has no // RUN: line');
  const run: RunLine = { fetch: [], fuse: true, decompose: false };
  for (const word of m[1]!.trim().split(/\s+/)) {
    const [key, value] = word.split('=') as [string, string | undefined];
    if (key === 'fetch' && value) run.fetch = value.split(',');
    else if (key === 'feed' && value) run.feed = value.split(',');
    else if (key === 'nofuse' && value === undefined) run.fuse = false;
    else if (key === 'decompose' && value === undefined) run.decompose = true;
    else throw new Error(`RUN: unknown word '${word}'`);
  }
  if (run.fetch.length === 0) throw new Error('RUN: needs fetch=...');
  return run;
}

async function runCase(text: string): Promise<void> {
  const run = parseRun(text);
  const g = parseGraph(text);
  const fetches = run.fetch.map((n) => g.tensorByName(n));
  const feedNodes = run.feed ? run.feed.map((n) => g.tensorByName(n)) : g.placeholders().map((p) => p.output);
  const program = compile(g, { fetches, feeds: feedNodes }, { fuse: run.fuse, decompose: run.decompose, constantEvaluator: referenceConstantEvaluator });
  const printed = program.toString();
  const failure = fileCheck(printed, parseChecks(text));
  if (failure) throw new Error(failure);

  // Same results as the reference executor: fetched values and variable writes.
  const feeds = randomFeeds(g, 7);
  const variables = new Map<Node, Tensor>(g.nodes.filter((n) => n.op === 'variable').map((n) => [n, n.attrs.value as Tensor]));
  const want = evaluateWithState(fetches, { feeds, variables, seed: 1 });
  // Each backend runs the golden program (where it has its routines) and the default compile.
  const variants = run.decompose
    ? [program]
    : [program, compile(g, { fetches, feeds: feedNodes }, { fuse: run.fuse, constantEvaluator: referenceConstantEvaluator })];
  const devices = [...new Map(COMPILED_BACKENDS.map((b) => [b.device().name, b])).values()];
  for (const backend of devices) {
    const device = backend.device();
    for (const [vi, variant] of variants.entries()) {
      const routinesOk = routinesOf(variant).every((r) => device.routines.has(r));
      if (vi === 0 && !routinesOk && variants.length > 1) continue;
      checkRoutines(variant, device);
      const got = await runOn(backend, variant, {
        feeds: new Map(Object.entries(feeds)),
        variables: new Map([...variables].map(([n, t]) => [n.name, t])),
        seed: 1,
      });
      const on = `on ${device.name}${vi === 0 ? '' : ' (decomposed)'}`;
      const dump = vi === 0 ? printed : variant.toString();
      fetches.forEach((f, i) => {
        const w = want.values[i]!;
        if (getOp(f.node.op).target) expect(got.values[i]).toBeNull();
        else expectClose(got.values[i], w, `fetch '${f.name}' ${on}\n${dump}`);
      });
      expect([...got.writes.keys()].sort()).toEqual([...want.writes.keys()].map((n) => n.name).sort());
      for (const [n, w] of want.writes) expectClose(got.writes.get(n.name), w, `write of variable '${n.name}' ${on}\n${dump}`);
    }
  }
}

const dir = join(here, 'programs');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.kir'))
  .sort();

describe.each(files)('%s', (file) => {
  const cases = readFileSync(join(dir, file), 'utf8').split(/^\/\/ -----$/m);
  it.each(cases.map((c, i) => [i, (/^\/\/ CASE: (.*)$/m.exec(c)?.[1] ?? '').trim(), c] as const))('case %i: %s', async (_i, _title, text) => {
    await runCase(text);
  });
});
