/**
 * The README is tested: every ```ts snippet of README.md and docs/*.md runs as written (each
 * is a complete program, run with `node --conditions=source --import tsx`, as `npm run
 * example` runs files) and, where a ```text block follows it, must print exactly that.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Snippets run from inside the repository so that 'kiln' resolves to the workspace package. */
const scratch = join(root, 'node_modules', '.cache', 'kiln-doc-tests');

interface Snippet {
  file: string;
  line: number;
  code: string;
  expected?: string;
}

/** ```ts blocks, each with the ```text block right after it (only blank lines between) if any. */
function extractSnippets(file: string, text: string): Snippet[] {
  const lines = text.split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```ts') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]!.trim() !== '```') end++;
    const snippet: Snippet = { file, line: start, code: lines.slice(start, end).join('\n') };
    let j = end + 1;
    while (j < lines.length && lines[j]!.trim() === '') j++;
    if (lines[j]?.trim() === '```text') {
      let k = j + 1;
      while (k < lines.length && lines[k]!.trim() !== '```') k++;
      snippet.expected = lines.slice(j + 1, k).join('\n');
      end = k;
    }
    out.push(snippet);
    i = end;
  }
  return out;
}

const docs = [
  'README.md',
  ...(existsSync(join(root, 'docs'))
    ? readdirSync(join(root, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`)
    : []),
];
const snippets = docs.flatMap((f) => extractSnippets(f, readFileSync(join(root, f), 'utf8')));

describe('documentation snippets', () => {
  it('finds the README snippets', () => {
    expect(snippets.filter((s) => s.file === 'README.md').length).toBeGreaterThanOrEqual(4);
  });

  it.each(snippets.map((s) => [`${s.file}:${s.line}`, s] as const))('%s runs as written', async (_, s) => {
    mkdirSync(scratch, { recursive: true });
    const path = join(scratch, `${s.file.replace(/[^A-Za-z0-9]/g, '_')}_${s.line}.mts`);
    writeFileSync(path, `${s.code}\n`);
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, ['--conditions=source', '--import', 'tsx', path], { cwd: root, timeout: 60_000 });
    if (s.expected !== undefined) expect(stdout.trimEnd()).toBe(s.expected.trimEnd());
  });
});
