/**
 * The round-robin runner: every round calls each live (framework, workload) cell once, so
 * the frameworks share the machine's noise instead of running in separate quiet or busy
 * stretches. A cell's first calls are warm-up; it stops after `maxReps` measured calls, or
 * once it has spent `budgetMs` in total (with at least one measured call), so a slow
 * framework gets fewer repetitions instead of stalling the suite.
 */
import type { Case, Framework, Workload } from './framework.js';

export interface Cell {
  fw: Framework;
  w: Workload;
  /** The case, or why this framework cannot run the workload. */
  c: Case | string;
  /** Setup time (build, compile and first call where the case makes one). */
  setupMs: number;
  /** Measured calls (after warm-up), in ms. */
  times: number[];
  /** The very first timed call (warm-up or not): the cold figure of first-call workloads. */
  firstMs?: number;
  calls: number;
  spentMs: number;
  error?: string;
}

export interface HarnessOptions {
  warmup: number;
  maxReps: number;
  budgetMs: number;
  /** Called after each round with the round number and the cells still running. */
  onRound?: (round: number, live: number) => void;
}

function live(cell: Cell, o: HarnessOptions): boolean {
  if (typeof cell.c === 'string' || cell.error) return false;
  if (cell.times.length >= o.maxReps) return false;
  return !(cell.spentMs >= o.budgetMs && cell.times.length >= 1);
}

/**
 * Whether the next call is warm-up: none once warm-up has used half the budget, nor after a
 * setup that long (setups that compile also make the first call, which warms up already).
 */
function warming(cell: Cell, o: HarnessOptions): boolean {
  return cell.calls < o.warmup && cell.spentMs < o.budgetMs / 2 && cell.setupMs < o.budgetMs / 2;
}

/** One call of a cell (warm-up or measured), timed; errors retire the cell. */
export async function callOnce(cell: Cell, o: HarnessOptions): Promise<void> {
  const c = cell.c as Case;
  try {
    await cell.fw.activate?.();
    const warm = warming(cell, o);
    const t0 = performance.now();
    await c.run();
    const dt = performance.now() - t0;
    cell.firstMs ??= dt;
    cell.calls++;
    cell.spentMs += dt;
    if (!warm) cell.times.push(dt);
  } catch (e) {
    cell.error = e instanceof Error ? e.message.split('\n')[0]! : String(e);
  }
}

/** Runs rounds until no cell is live; odd rounds go in reverse order to even out position. */
export async function runRounds(cells: Cell[], o: HarnessOptions): Promise<void> {
  for (let round = 0; ; round++) {
    const order = round % 2 === 0 ? cells : [...cells].reverse();
    const todo = order.filter((c) => live(c, o));
    if (todo.length === 0) return;
    for (const cell of todo) if (live(cell, o)) await callOnce(cell, o);
    o.onRound?.(round, todo.length);
  }
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
