/**
 * .ci/install-webgpu.sh derives its bookworm-backports entry from the machine's own apt source
 * (whatever mirror that names), in deb822 (.sources) and one-line (sources.list) form.
 * Checked with --print-entry against apt folders made here (KILN_APT_DIR).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../.ci/install-webgpu.sh');

function entryFor(files: Record<string, string>): { status: number | null; out: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'kiln-apt-'));
  mkdirSync(path.join(dir, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  const r = spawnSync('bash', [script, '--print-entry'], { env: { ...process.env, KILN_APT_DIR: dir }, encoding: 'utf8' });
  return { status: r.status, out: r.stdout.trim() };
}

describe('install-webgpu.sh backports entry', () => {
  it('copies the mirror and keyring of the first bookworm stanza of a .sources file', () => {
    const r = entryFor({
      'sources.list.d/debian.sources': [
        'Types: deb',
        'URIs: http://security.example.net/debian-security',
        'Suites: bookworm-security',
        'Components: main',
        '',
        'Types: deb',
        'URIs: http://mirror.example.net/debian',
        'Suites: bookworm bookworm-updates',
        'Components: main contrib',
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
        '',
      ].join('\n'),
    });
    expect(r.status).toBe(0);
    expect(r.out).toBe(
      [
        'Types: deb',
        'URIs: http://mirror.example.net/debian',
        'Suites: bookworm-backports',
        'Components: main',
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      ].join('\n'),
    );
  });

  it('rewrites the first bookworm line of a one-line sources.list, keeping its options', () => {
    const r = entryFor({
      'sources.list':
        '# comment\ndeb http://ftp.example.org/debian-security bookworm-security main\ndeb [arch=amd64] http://ftp.example.org/debian bookworm main contrib\n',
    });
    expect(r.status).toBe(0);
    expect(r.out).toBe('deb [arch=amd64] http://ftp.example.org/debian bookworm-backports main');
  });

  it('fails when the machine has no bookworm source', () => {
    const r = entryFor({ 'sources.list': 'deb http://ftp.example.org/ubuntu jammy main\n' });
    expect(r.status).not.toBe(0);
    expect(r.out).toBe('');
  });
});
