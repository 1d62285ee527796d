/**
 * The `kiln` command line as a function: main(args) parses and runs one invocation
 * (inspect | compile | run | convert | bench | plot) and resolves to its exit code. The bin
 * (main.ts) calls it with the process's streams; runKiln(args) captures stdout, stderr and
 * the exit code in memory, so tests and tools can run many invocations in one process.
 */
import { Command, CommanderError } from 'commander';
import { registerBench } from './bench.js';
import { registerCompile } from './compile.js';
import { registerConvert } from './convert.js';
import { registerInspect } from './inspect.js';
import { type CliIo, cliIo, processIo, withIo } from './io.js';
import { registerPlot } from './plot.js';
import { registerRun } from './run.js';

function buildProgram(): Command {
  const program = new Command('kiln')
    .description('Kiln: inspect, compile, run, convert and benchmark models; plot training curves')
    .version('0.1.0')
    .option('--verbose', 'print stack traces with errors')
    // Set before the commands are added, so that they inherit both.
    .exitOverride()
    .configureOutput({ writeOut: (s) => cliIo().out(s), writeErr: (s) => cliIo().err(s) });
  registerInspect(program);
  registerCompile(program);
  registerRun(program);
  registerConvert(program);
  registerBench(program);
  registerPlot(program);
  return program;
}

/** Runs one invocation (`args` after `kiln`) writing to `io` (default: the process's streams); resolves to its exit code. */
export async function main(args: readonly string[], io: CliIo = processIo(args)): Promise<number> {
  return withIo(io, async () => {
    try {
      await buildProgram().parseAsync([...args], { from: 'user' });
    } catch (e) {
      // Commander has already printed its message (usage errors) or the help text.
      if (!(e instanceof CommanderError)) throw e;
      if (e.exitCode !== 0) io.exitCode = e.exitCode;
    }
    return io.exitCode;
  });
}

export interface KilnOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one invocation in this process and returns what it printed and its exit code. */
export async function runKiln(args: readonly string[]): Promise<KilnOutput> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { out: (t) => void (stdout += t), err: (t) => void (stderr += t), args, exitCode: 0 };
  const code = await main(args, io);
  return { code, stdout, stderr };
}
