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
  /** Why the device declines this case of a routine it lists (see Device.declinesRoutine). */
  declinesRoutine?(kernel: Extract<Program['kernels'][number]['spec'], { kind: 'op' }>, program: Program): string | undefined;
}

/** Why `device` cannot run routine kernel `k` of `program`, or undefined when it can. */
export function routineGap(program: Program, k: Program['kernels'][number], device: RoutineProvider): string | undefined {
  const s = k.spec;
  if (s.kind !== 'op') return undefined;
  if (!device.routines.has(s.op)) {
    return `routine '${s.op}' (node '${s.node}') is not implemented by this device; it implements ${[...device.routines].sort().join(', ') || 'no routines'}`;
  }
  const why = device.declinesRoutine?.(s, program);
  return why === undefined ? undefined : `routine '${s.op}' (node '${s.node}') is not implemented by this device for this case: ${why}`;
}

/** The routines (op kernels) `program` uses, in kernel order, without repeats. */
export function routinesOf(program: Program): string[] {
  return [...new Set(program.kernels.flatMap((k) => (k.spec.kind === 'op' ? [k.spec.op] : [])))];
}

/** Throws UNSUPPORTED when `device` lacks a routine that `program` uses. */
export function checkRoutines(program: Program, device: RoutineProvider): void {
  for (const k of program.kernels) {
    const gap = routineGap(program, k, device);
    if (gap !== undefined) throw new KilnError('UNSUPPORTED', `compile for device '${device.name}': ${gap}`);
  }
}
