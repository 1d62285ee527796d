#!/usr/bin/env node
/**
 * The `kiln` command line: inspect | compile | run | convert | bench | plot (kiln --help).
 * Each command lives in its own file; this one wires them into commander. Errors are one
 * line on stderr and a non-zero exit (see errors.ts); --verbose adds the stack trace.
 */
import { Command } from 'commander';
import { registerBench } from './bench.js';
import { registerCompile } from './compile.js';
import { registerConvert } from './convert.js';
import { registerInspect } from './inspect.js';
import { registerPlot } from './plot.js';
import { registerRun } from './run.js';

// Through `npm run kiln -- ...` npm runs us from the repository root; resolve the user's
// relative paths against the directory the command was typed in.
if (process.env.npm_lifecycle_event === 'kiln' && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);

const program = new Command('kiln')
  .description('Kiln: inspect, compile, run, convert and benchmark models; plot training curves')
  .version('0.1.0')
  .option('--verbose', 'print stack traces with errors');

registerInspect(program);
registerCompile(program);
registerRun(program);
registerConvert(program);
registerBench(program);
registerPlot(program);

await program.parseAsync(process.argv);
