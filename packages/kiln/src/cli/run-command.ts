/**
 * Runs one command's action: any error becomes the one-line report of errors.ts (with a
 * stack trace under --verbose) and a non-zero exit code, never an uncaught exception.
 */
import { reportError } from './errors.js';
import { cliIo } from './io.js';

/** Whether --verbose was given anywhere on the command line. */
export function isVerbose(): boolean {
  return cliIo().args.includes('--verbose');
}

export async function runCommand(name: string, action: () => Promise<void> | void): Promise<void> {
  try {
    await action();
  } catch (e) {
    reportError(name, e, isVerbose());
  }
}
