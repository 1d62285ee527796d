/**
 * The compile-time check that a device implements every routine a Program needs: a kernel of
 * kind 'op' is a routine (see routines.ts); compiling for a device that lacks one fails here,
 * naming the routine and the graph node, instead of at run time.
 */
import { KilnError } from '@kiln/graph';
import type { Program } from '../program/program.js';

export interface RoutineProvider {
  readonly name: string;
  readonly routines: ReadonlySet<string>;
}

/** The routines (op kernels) `program` uses, in kernel order, without repeats. */
export function routinesOf(program: Program): string[] {
  return [...new Set(program.kernels.flatMap((k) => (k.spec.kind === 'op' ? [k.spec.op] : [])))];
}

/** Throws UNSUPPORTED when `device` lacks a routine that `program` uses. */
export function checkRoutines(program: Program, device: RoutineProvider): void {
  for (const k of program.kernels) {
    const s = k.spec;
    if (s.kind !== 'op' || device.routines.has(s.op)) continue;
    throw new KilnError(
      'UNSUPPORTED',
      `compile for device '${device.name}': routine '${s.op}' (node '${s.node}') is not implemented by this device; it implements ${[...device.routines].sort().join(', ') || 'no routines'}`,
    );
  }
}
