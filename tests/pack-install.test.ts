/**
 * Kiln installs as a dependency: scripts/pack-install.mjs packs every workspace, installs the
 * tarballs into a fresh project, runs a build-train-save-load program there with plain node
 * (dist/ only), then bundles it for a browser with esbuild and runs the bundle.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('installing the packed packages', () => {
  it('runs from the tarballs with plain node and bundles for a browser', () => {
    let out: string;
    try {
      out = execFileSync(process.execPath, [path.join(root, 'scripts/pack-install.mjs')], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      out = `${err.stdout ?? ''}${err.stderr ?? ''}`;
    }
    console.log(out);
    expect(out).toMatch(/^node: save\/load: \d+ bytes, predictions identical$/m);
    expect(out).toMatch(/^bundle run: .*predictions identical \| ok$/m);
    expect(out).toMatch(/^pack-install: ok$/m);
  }, 600_000);
});
