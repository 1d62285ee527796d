/**
 * Scheduling: the order in which kernels run. Any topological order of the kernel graph is
 * correct; the order decides how much memory is live at once. A greedy list scheduler (as in
 * TVM's and XLA's memory-aware schedulers): among the kernels whose inputs are ready, run the
 * one that frees the most bytes net of what it allocates, ties by graph order. A training
 * step's optimizer update frees its gradient and allocates nothing (it writes its variable),
 * so each update runs right after its gradient instead of after the whole backward pass.
 * Stateful op kernels (assign through the op path) keep their relative order.
 */
import { KilnError } from '@kiln/graph';

export interface ScheduleItem {
  /** Items that must run before this one. */
  deps: Set<number>;
  /** Temporary bytes this item allocates (its outputs). */
  allocBytes: number;
  /** Temporaries it reads: [tensor key, bytes]. Freed once their last reader has run. */
  reads: readonly { key: unknown; bytes: number }[];
  /** Keep relative order with other ordered items (stateful op kernels). */
  ordered: boolean;
}

/** Returns item indices in execution order (input order is the fallback tie-break). */
export function scheduleForMemory(items: readonly ScheduleItem[]): number[] {
  const n = items.length;
  const users = new Map<unknown, number>();
  for (const it of items) for (const r of new Set(it.reads.map((x) => x.key))) users.set(r, (users.get(r) ?? 0) + 1);
  const waiting = items.map((it) => it.deps.size);
  const dependents: number[][] = items.map(() => []);
  items.forEach((it, i) => it.deps.forEach((d) => dependents[d]!.push(i)));
  const orderedIdx = items.map((_, i) => i).filter((i) => items[i]!.ordered);
  let nextOrdered = 0;
  const ready = new Set<number>();
  for (let i = 0; i < n; i++) if (waiting[i] === 0) ready.add(i);
  const order: number[] = [];
  const score = (i: number): number => {
    const it = items[i]!;
    let freed = 0;
    const counted = new Set<unknown>();
    for (const r of it.reads) {
      if (counted.has(r.key)) continue;
      counted.add(r.key);
      if (users.get(r.key) === 1) freed += r.bytes;
    }
    return freed - it.allocBytes;
  };
  while (order.length < n) {
    let best = -1;
    let bestScore = -Infinity;
    for (const i of ready) {
      if (items[i]!.ordered && orderedIdx[nextOrdered] !== i) continue;
      const s = score(i);
      if (s > bestScore || (s === bestScore && i < best)) {
        best = i;
        bestScore = s;
      }
    }
    if (best < 0) {
      const stuck = items.map((_, i) => i).filter((i) => !order.includes(i));
      throw new KilnError(
        'INTERNAL',
        `scheduleForMemory: dependency cycle among kernels ${stuck.slice(0, 8).join(', ')}${stuck.length > 8 ? ', ...' : ''} (${order.length} of ${n} scheduled)`,
      );
    }
    ready.delete(best);
    order.push(best);
    if (items[best]!.ordered) nextOrdered++;
    for (const r of new Set(items[best]!.reads.map((x) => x.key))) users.set(r, users.get(r)! - 1);
    for (const d of dependents[best]!) if (--waiting[d]! === 0) ready.add(d);
  }
  return order;
}
