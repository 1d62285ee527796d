/**
 * A bounded least-recently-used cache of compiled programs, one per concrete feed-shape
 * combination of a run signature. When it is full, the least recently used program is
 * evicted and handed to `evict` (which disposes it, or keeps it until nothing refers to its
 * storage any more).
 */
import { KilnError } from '@kiln/graph';

export const DEFAULT_PROGRAM_CACHE_SIZE = 8;

export class ProgramCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(
    readonly capacity: number,
    private readonly evict: (value: V, key: string) => void,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new KilnError('INVALID_ARGUMENT', `program cache: capacity must be an integer >= 1, got ${String(capacity)}`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value under `key` (now the most recently used), or the one `make` builds. */
  getOrCreate(key: string, make: () => V): V {
    const have = this.entries.get(key);
    if (have !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, have);
      return have;
    }
    const value = make();
    this.entries.set(key, value);
    while (this.entries.size > this.capacity) {
      const [oldKey, old] = this.entries.entries().next().value as [string, V];
      this.entries.delete(oldKey);
      this.evict(old, oldKey);
    }
    return value;
  }

  /** The cached values, least recently used first. */
  values(): V[] {
    return [...this.entries.values()];
  }

  /** Removes every entry, handing each to `evict`. */
  clear(): void {
    const all = [...this.entries];
    this.entries.clear();
    for (const [k, v] of all) this.evict(v, k);
  }
}
