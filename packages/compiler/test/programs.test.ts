/**
 * Golden tests for lowering, fusion, scheduling and memory planning, in the style of the
 * passes tests (FileCheck over text dumps): each case in test/programs/*.kir is a graph in
 * Kiln's text IR, a `// RUN: fetch=a,b [feed=x,y] [nofuse]` line and CHECK lines over
 * `program.toString()`; cases are separated by `// -----`. feed= defaults to every
 * placeholder. So that a golden dump can never bless a wrong program, every case also runs
 * the compiled program on the CPU backend (freed arena regions poisoned with NaN) and the
 * graph on the reference executor with the same random feeds, and requires equal fetches and
 * equal variable writes (rtol 1e-4, atol 1e-5).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { compile } from '@kiln/compiler';
import { type Graph, type Node, Tensor, getOp, parseGraph } from '@kiln/graph';
import { CpuProgram, evaluateWithState, makeRandom, referenceConstantEvaluator } from '@kiln/runtime-cpu';
import { fileCheck, parseChecks } from './filecheck.js';

const here = dirname(fileURLToPath(import.meta.url));

interface RunLine {
  fetch: string[];
  feed?: string[];
  fuse: boolean;
}

function parseRun(text: string): RunLine {
  const m = /^\/\/ RUN:(.*)$/m.exec(text);
  if (!m) throw new Error('case has no // RUN: line');
  const run: RunLine = { fetch: [], fuse: true };
  for (const word of m[1]!.trim().split(/\s+/)) {
    const [key, value] = word.split('=') as [string, string | undefined];
    if (key === 'fetch' && value) run.fetch = value.split(',');
    else if (key === 'feed' && value) run.feed = value.split(',');
    else if (key === 'nofuse' && value === undefined) run.fuse = false;
    else throw new Error(`RUN: unknown word '${word}'`);
  }
  if (run.fetch.length === 0) throw new Error('RUN: needs fetch=...');
  return run;
}

function randomFeeds(g: Graph, seed: number): Record<string, Tensor> {
  const rnd = makeRandom(seed);
  const feeds: Record<string, Tensor> = {};
  for (const p of g.placeholders()) {
    const shape = (p.attrs.shape as (number | null)[]).map((d) => d ?? 1);
    const dtype = p.attrs.dtype as Tensor['dtype'];
    const t = new Tensor(dtype, shape);
    for (let i = 0; i < t.size; i++) t.data[i] = dtype === 'bool' ? (rnd() < 0.5 ? 1 : 0) : dtype === 'int32' ? Math.floor(rnd() * 10) - 5 : rnd() * 4 - 2;
    feeds[p.name] = t;
  }
  return feeds;
}

function expectClose(got: Tensor | null | undefined, want: Tensor, what: string): void {
  if (!got) throw new Error(`${what}: compiled program returned nothing`);
  expect({ what, shape: got.shape, dtype: got.dtype }).toEqual({ what, shape: want.shape, dtype: want.dtype });
  for (let i = 0; i < want.size; i++) {
    const a = got.data[i]!;
    const e = want.data[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= 1e-5 + 1e-4 * Math.abs(e);
    if (!ok) throw new Error(`${what}: element ${i}: compiled ${a}, reference ${e}`);
  }
}

function runCase(text: string): void {
  const run = parseRun(text);
  const g = parseGraph(text);
  const fetches = run.fetch.map((n) => g.tensorByName(n));
  const feedNodes = run.feed ? run.feed.map((n) => g.tensorByName(n)) : g.placeholders().map((p) => p.output);
  const program = compile(g, { fetches, feeds: feedNodes }, { fuse: run.fuse, constantEvaluator: referenceConstantEvaluator });
  const printed = program.toString();
  const failure = fileCheck(printed, parseChecks(text));
  if (failure) throw new Error(failure);

  // Same results as the reference executor: fetched values and variable writes.
  const feeds = randomFeeds(g, 7);
  const variables = new Map<Node, Tensor>(g.nodes.filter((n) => n.op === 'variable').map((n) => [n, n.attrs.value as Tensor]));
  const want = evaluateWithState(fetches, { feeds, variables, seed: 1 });
  const got = new CpuProgram(program, { poisonFreed: true }).run({
    feeds: new Map(Object.entries(feeds)),
    variables: new Map([...variables].map(([n, t]) => [n.name, t])),
    seed: 1,
  });
  fetches.forEach((f, i) => {
    const w = want.values[i]!;
    if (getOp(f.node.op).target) expect(got.values[i]).toBeNull();
    else expectClose(got.values[i], w, `fetch '${f.name}'\n${printed}`);
  });
  expect([...got.writes.keys()].sort()).toEqual([...want.writes.keys()].map((n) => n.name).sort());
  for (const [n, w] of want.writes) expectClose(got.writes.get(n.name), w, `write of variable '${n.name}'\n${printed}`);
}

const dir = join(here, 'programs');
const files = readdirSync(dir).filter((f) => f.endsWith('.kir')).sort();

describe.each(files)('%s', (file) => {
  const cases = readFileSync(join(dir, file), 'utf8').split(/^\/\/ -----$/m);
  it.each(cases.map((c, i) => [i, (/^\/\/ CASE: (.*)$/m.exec(c)?.[1] ?? '').trim(), c] as const))('case %i: %s', (_i, _title, text) => {
    runCase(text);
  });
});
