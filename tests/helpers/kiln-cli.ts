/**
 * Runs `kiln`: kilnCli runs the real binary in a child process: the built bin with plain node
 * (as the published package runs; buildKiln() brings packages/kiln/dist up to date first, a
 * no-op when it is), or with `source`, from the TypeScript sources through tsx (as `npm run
 * kiln`). kilnInProcess runs the same command line (program.ts's main) in this process,
 * capturing its output and exit code: no second of start-up per invocation, for the tests
 * that check what a command prints and writes rather than the bin itself.
 */
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runKiln } from '../../packages/kiln/src/cli/program.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE_MAIN = `${ROOT}packages/kiln/src/cli/main.ts`;
const DIST_MAIN = `${ROOT}packages/kiln/dist/cli/main.js`;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `tsc -b packages/kiln`: builds the bin and the packages it imports (incremental). */
export function buildKiln(): void {
  execFileSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-b', `${ROOT}packages/kiln`], { cwd: ROOT, stdio: 'inherit' });
}

export function kilnCli(args: readonly string[], opts: { source?: boolean; cwd?: string } = {}): Promise<CliResult> {
  const argv = opts.source ? ['--conditions=source', '--import', 'tsx', SOURCE_MAIN, ...args] : [DIST_MAIN, ...args];
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { cwd: opts.cwd ?? ROOT, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * One invocation in this process. Relative paths resolve against `cwd` (the process's working
 * directory is switched for the call: run such calls one at a time).
 */
export async function kilnInProcess(args: readonly string[], opts: { cwd?: string } = {}): Promise<CliResult> {
  const before = process.cwd();
  if (opts.cwd) process.chdir(opts.cwd);
  try {
    return await runKiln(args);
  } finally {
    if (opts.cwd) process.chdir(before);
  }
}
