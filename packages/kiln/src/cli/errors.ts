/**
 * How the CLI fails: a CliError is a usage or file problem; every error (KilnError included)
 * is printed as ONE line naming the command and the problem, and the process exits non-zero.
 * A stack trace is printed only with --verbose.
 */
import { KilnError } from '@kiln/graph';
import { cliIo } from './io.js';

/** A problem with the command line or an input file, reported without a stack trace. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** One line for `e`: multi-line messages (e.g. every unsupported ONNX node) joined with '; '. */
export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const text = msg
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join('; ');
  return e instanceof KilnError ? `${text} [${e.code}]` : text;
}

/** Prints the error for `command` and sets a failing exit code. */
export function reportError(command: string, e: unknown, verbose: boolean): void {
  const io = cliIo();
  io.err(`kiln ${command}: ${oneLine(e)}\n`);
  if (verbose && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
  io.exitCode = e instanceof CliError ? 2 : 1;
}
