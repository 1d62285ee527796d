#!/usr/bin/env node
/**
 * Installing Kiln as a dependency, as a user does: packs every workspace package (`npm pack`,
 * after `tsc -b` built dist/), installs the tarballs into a new project in a temporary folder,
 * runs scripts/pack-install/app.mjs there with plain `node` (no tsx, no `source` condition:
 * only what the tarballs hold), then bundles the same program for a browser with esbuild
 * (platform 'browser') and checks that no `node:` module is pulled in; the bundle is then run
 * too. Prints one line per step; exits non-zero on the first failure.
 *   node scripts/pack-install.mjs [--keep]
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const tmp = mkdtempSync(path.join(tmpdir(), 'kiln-pack-'));
const packs = path.join(tmp, 'packs');
const app = path.join(tmp, 'app');
mkdirSync(packs);
mkdirSync(app);

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

try {
  run('npx', ['tsc', '-b'], root);
  const packed = JSON.parse(run('npm', ['pack', '--workspaces', '--json', '--pack-destination', packs], root));
  const tarballs = readdirSync(packs).filter((f) => f.endsWith('.tgz'));
  console.log(`pack: ${packed.length} packages (${packed.map((p) => `${p.name} ${p.entryCount} files`).join(', ')})`);
  for (const p of packed) {
    const bad = p.files.filter((f) => !f.path.startsWith('dist/') && f.path !== 'package.json' && !/^(README|LICENSE)/i.test(f.path));
    if (bad.length) throw new Error(`${p.name} packs files outside dist/: ${bad.map((f) => f.path).join(', ')}`);
  }

  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'kiln-user-app', private: true, type: 'module' }, null, 2));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs.map((t) => path.join(packs, t))], app);
  console.log(`install: ${tarballs.length} tarballs into ${app}`);
  for (const f of readdirSync(path.join(root, 'scripts/pack-install'))) copyFileSync(path.join(root, 'scripts/pack-install', f), path.join(app, f));
  const out = run(process.execPath, ['app.mjs'], app);
  for (const line of out.trim().split('\n')) console.log(`node: ${line}`);

  // The browser bundle: esbuild from the repository's own dev dependencies.
  const esbuild = createRequire(path.join(root, 'package.json'))('esbuild');
  const result = await esbuild.build({
    entryPoints: [path.join(app, 'browser.mjs')],
    absWorkingDir: app,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    outfile: path.join(app, 'bundle.mjs'),
    logLevel: 'silent',
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs);
  const code = readFileSync(path.join(app, 'bundle.mjs'), 'utf8');
  // Node-only modules must be mapped away (package.json "browser" fields: "(disabled):...") or
  // loaded on demand (a dynamic import() that the library catches where it fails, as it does
  // in a browser); no static import may stay external.
  const pulled = inputs.filter((i) => /^node:|\/node_modules\/webgpu\//.test(i));
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external));
  const externals = imports.filter((i) => i.kind !== 'dynamic-import').map((i) => i.path);
  const onDemand = [...new Set(imports.filter((i) => i.kind === 'dynamic-import').map((i) => i.path))];
  if (pulled.length || externals.length || onDemand.some((p) => !p.startsWith('node:'))) {
    throw new Error(`the browser bundle pulls in Node modules: ${[...pulled, ...externals, ...onDemand].join(', ')}`);
  }
  const disabled = inputs.filter((i) => i.startsWith('(disabled):')).map((i) => i.slice('(disabled):'.length));
  console.log(
    `bundle: ${(code.length / 1024).toFixed(0)} KiB for platform 'browser' from ${inputs.length} modules; Node-only modules mapped away: ${disabled.join(', ')}; loaded on demand under Node only: ${onDemand.join(', ') || 'none'}`,
  );
  const bundled = run(process.execPath, ['bundle.mjs'], app);
  console.log(`bundle run: ${bundled.trim().split('\n').join(' | ')}`);
  console.log('pack-install: ok');
} catch (e) {
  const err = /** @type {any} */ (e);
  console.error(`pack-install: FAILED: ${err.message}${err.stdout ? `\n${err.stdout}` : ''}${err.stderr ? `\n${err.stderr}` : ''}`);
  process.exitCode = 1;
} finally {
  if (keep) console.log(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
