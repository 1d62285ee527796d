#!/usr/bin/env node
/**
 * The `kiln` bin: runs the command line of program.ts (inspect | compile | run | convert |
 * bench | plot; kiln --help) on the process's arguments and exits with its code. Errors are
 * one line on stderr and a non-zero exit (see errors.ts); --verbose adds the stack trace.
 */
import { main } from './program.js';

// Through `npm run kiln -- ...` npm runs us from the repository root; resolve the user's
// relative paths against the directory the command was typed in.
if (process.env.npm_lifecycle_event === 'kiln' && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);

process.exitCode = await main(process.argv.slice(2));
