/**
 * Where a `kiln` command writes: the process's stdout and stderr for the bin, or, inside
 * main(args, capture) (tests, embedding), the capture of that one invocation. The context is
 * carried by AsyncLocalStorage, so invocations running concurrently in one process keep their
 * output, arguments and exit code apart.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** The invocation's arguments (after `kiln`). */
  readonly args: readonly string[];
  /** 0 until a command fails. */
  exitCode: number;
}

const current = new AsyncLocalStorage<CliIo>();

/** The process's own streams (the bin). */
export function processIo(args: readonly string[]): CliIo {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    args,
    exitCode: 0,
  };
}

/** The io of the running invocation (the process's streams outside any). */
export function cliIo(): CliIo {
  return current.getStore() ?? processIo(process.argv.slice(2));
}

/** Runs `fn` with `io` as the current invocation's io. */
export function withIo<T>(io: CliIo, fn: () => Promise<T>): Promise<T> {
  return current.run(io, fn);
}
