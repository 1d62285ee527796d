/**
 * Structural mutations for fuzzing (tests/robust-fuzz.test.ts): a decoded protobuf message as
 * a plain object has its leaves (numbers, booleans, strings) and arrays listed by path; one
 * mutation changes one of them (an interesting number, a flipped flag, another name, a removed
 * or duplicated element). The message is then re-encoded and re-sealed with a valid checksum
 * by the caller, so only the readers' own validation can catch the damage.
 */
import fc from 'fast-check';

export type Path = (string | number)[];

export interface Site {
  path: Path;
  kind: 'number' | 'boolean' | 'string' | 'array';
}

/** Every leaf and array of `obj` (bytes fields are leaves of their own and skipped). */
export function sites(obj: unknown): Site[] {
  const out: Site[] = [];
  const stack: [unknown, Path][] = [[obj, []]];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'number') out.push({ path, kind: 'number' });
    else if (typeof v === 'boolean') out.push({ path, kind: 'boolean' });
    else if (typeof v === 'string') out.push({ path, kind: 'string' });
    else if (Array.isArray(v)) {
      out.push({ path, kind: 'array' });
      v.forEach((x, i) => stack.push([x, [...path, i]]));
    } else if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) {
      for (const [k, x] of Object.entries(v)) stack.push([x, [...path, k]]);
    }
  }
  return out.sort((a, b) => (a.path.join('.') < b.path.join('.') ? -1 : 1));
}

const INTERESTING = [0, 1, -1, 2, 3, 7, 16, 255, 1024, 65536, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, 3.5e9, 2 ** 53 - 1, 0.5, NaN];

/** One mutation: where (index into sites), and a choice that picks what is written. */
export interface Mutation {
  site: number;
  choice: number;
  scale: number;
}

export const mutationArb = fc.record({ site: fc.nat(), choice: fc.nat(), scale: fc.integer({ min: -3, max: 3 }) });

function get(obj: unknown, path: Path): unknown {
  let v = obj as Record<string | number, unknown>;
  for (const p of path) v = v[p] as Record<string | number, unknown>;
  return v;
}

function set(obj: unknown, path: Path, value: unknown): void {
  const parent = get(obj, path.slice(0, -1)) as Record<string | number, unknown>;
  parent[path[path.length - 1]!] = value;
}

/** Applies `m` to a deep copy of `obj`; returns it and a line saying what changed. */
export function mutate<T>(obj: T, m: Mutation, names: readonly string[]): { value: T; what: string } {
  const copy = structuredClone(obj);
  const all = sites(copy);
  const s = all[m.site % all.length]!;
  const at = s.path.join('.');
  const old = get(copy, s.path);
  let now: unknown;
  switch (s.kind) {
    case 'number': {
      const n = old as number;
      const options = [...INTERESTING, n + 1, n - 1, n * 2, Math.floor(n / 2), n + m.scale * 4, -n];
      now = options[m.choice % options.length];
      break;
    }
    case 'boolean':
      now = !(old as boolean);
      break;
    case 'string': {
      const options = ['', ...names, `${old as string}_x`, '^q', 'no such'];
      now = options[m.choice % options.length];
      break;
    }
    case 'array': {
      const arr = [...(old as unknown[])];
      if (arr.length > 0 && m.choice % 3 !== 2) {
        const i = m.choice % arr.length;
        if (m.choice % 3 === 0) arr.splice(i, 1);
        else arr.splice(i, 0, structuredClone(arr[i]));
      } else arr.reverse();
      now = arr;
      break;
    }
  }
  set(copy, s.path, now);
  const show = (v: unknown) => (Array.isArray(v) ? `[${v.length} items]` : JSON.stringify(v));
  return { value: copy, what: `${at}: ${show(old)} -> ${show(now)}` };
}

/** Byte-level damage: flip, truncate, insert or duplicate a span. */
export const byteMutationArb = fc.record({
  kind: fc.integer({ min: 0, max: 3 }),
  at: fc.nat(),
  len: fc.integer({ min: 1, max: 16 }),
  byte: fc.integer({ min: 0, max: 255 }),
});

export function mutateBytes(b: Uint8Array, m: { kind: number; at: number; len: number; byte: number }): { bytes: Uint8Array; what: string } {
  const at = b.length === 0 ? 0 : m.at % b.length;
  switch (m.kind) {
    case 0: {
      const out = b.slice();
      out[at] = out[at]! ^ (m.byte || 1);
      return { bytes: out, what: `flip byte ${at} ^ ${m.byte || 1}` };
    }
    case 1:
      return { bytes: b.slice(0, at), what: `truncate to ${at}` };
    case 2: {
      const out = new Uint8Array(b.length + m.len);
      out.set(b.subarray(0, at));
      out.fill(m.byte, at, at + m.len);
      out.set(b.subarray(at), at + m.len);
      return { bytes: out, what: `insert ${m.len} x ${m.byte} at ${at}` };
    }
    default: {
      const span = b.subarray(at, Math.min(b.length, at + m.len));
      const out = new Uint8Array(b.length + span.length);
      out.set(b.subarray(0, at + span.length));
      out.set(span, at + span.length);
      out.set(b.subarray(at + span.length), at + 2 * span.length);
      return { bytes: out, what: `duplicate ${span.length} bytes at ${at}` };
    }
  }
}
