/**
 * The linear memory compiled CPU programs live in, and the contraction entry points on it.
 *
 * One process-wide GemmEngine (WebAssembly SIMD GEMM on a shared WebAssembly.Memory, with
 * worker threads) is started when this module loads. Each CpuProgram takes one region of
 * its memory (arena, constants, feed and variable slots); a region is returned to a reusable
 * pool (best fit, merged with free neighbours) when its program is disposed or
 * garbage-collected; memory that cannot grow is RESOURCE_EXHAUSTED naming the program. Contractions address operands by
 * byte offset with element strides, so transposed operands are strides, never copies.
 * Where shared WebAssembly memory is unavailable, programs fall back to an ArrayBuffer and a
 * JS matmul.
 */
import { KilnError } from '@kiln/graph';
import { type GemmArgs, GemmEngine } from './wasm/gemm-engine.js';

export interface Heap {
  /** Byte offset of this program's region. */
  readonly base: number;
  /** The current backing buffer (re-read after growth; shared memory never detaches). */
  memory(): ArrayBufferLike;
  /** The WebAssembly engine, when the region lives in its memory. */
  readonly engine?: GemmEngine;
}

export type GemmCall = Omit<GemmArgs, 'accumulate'>;

let engine: GemmEngine | undefined;
try {
  // The engine picks its threads: min(2, cores) in Node, 1 where there are no worker threads.
  engine = await GemmEngine.create();
} catch {
  engine = undefined;
}

const REGION_ALIGN = 64;

/**
 * The reusable pool of program regions inside the engine's memory. WebAssembly memory only
 * grows, so a freed region goes back here: free regions are kept sorted by offset and merged
 * with free neighbours, a request takes the best fit (the smallest free region that holds it;
 * the rest stays free), and only when none fits does the engine's memory grow (a free region
 * at the top of memory is extended rather than abandoned).
 */
const free: { offset: number; bytes: number }[] = [];
/** Bytes of regions handed out and not yet returned. */
let inUse = 0;
/** Bytes of engine memory taken for regions (in use + free). */
let reserved = 0;
let regionsInUse = 0;
/** The end of the last region taken from the engine (regions are contiguous from the first). */
let topEnd = -1;

const released = new FinalizationRegistry<[number, number]>((r) => releaseRegion(r));

function releaseRegion([offset, bytes]: [number, number]): void {
  inUse -= bytes;
  regionsInUse--;
  // Insert sorted, then merge with the free neighbours on either side.
  let i = 0;
  while (i < free.length && free[i]!.offset < offset) i++;
  free.splice(i, 0, { offset, bytes });
  const next = free[i + 1];
  if (next && offset + bytes === next.offset) {
    free[i]!.bytes += next.bytes;
    free.splice(i + 1, 1);
  }
  const prev = free[i - 1];
  if (prev && prev.offset + prev.bytes === offset) {
    prev.bytes += free[i]!.bytes;
    free.splice(i, 1);
  }
}

/** What the pool holds now (bytes): for tests, soak checks and error messages. */
export interface HeapStats {
  /** Engine memory taken for program regions, in use or free. */
  reservedBytes: number;
  inUseBytes: number;
  freeBytes: number;
  /** Regions handed out and not returned. */
  regions: number;
  /** The largest free region (what one program can get without growing memory). */
  largestFreeBytes: number;
  /** The engine's whole linear memory (it never shrinks). */
  memoryBytes: number;
}

export function heapStats(): HeapStats {
  const freeBytes = free.reduce((s, r) => s + r.bytes, 0);
  return {
    reservedBytes: reserved,
    inUseBytes: inUse,
    freeBytes,
    regions: regionsInUse,
    largestFreeBytes: free.reduce((m, r) => Math.max(m, r.bytes), 0),
    memoryBytes: engine?.memory.buffer.byteLength ?? 0,
  };
}

/** How an owner reads in an error: a compiled program by its fetches and size. */
function describeOwner(owner: object): string {
  const p = (owner as { program?: { fetchNames?: readonly string[]; stats?: { kernels?: number; arenaBytes?: number } } }).program;
  if (!p?.stats) return 'a compiled program';
  const fetches = (p.fetchNames ?? [])
    .slice(0, 3)
    .map((n) => `'${n}'`)
    .join(', ');
  return `the compiled program fetching ${fetches || 'nothing'}${(p.fetchNames?.length ?? 0) > 3 ? ', ...' : ''} (${p.stats.kernels} kernels, arena ${p.stats.arenaBytes} B)`;
}

const MiB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** Takes `size` bytes for a region: best fit from the pool, else new engine memory. */
function takeRegion(e: GemmEngine, size: number, owner: object): [number, number] {
  let best = -1;
  for (let i = 0; i < free.length; i++) {
    const r = free[i]!;
    if (r.bytes >= size && (best < 0 || r.bytes < free[best]!.bytes)) best = i;
  }
  if (best >= 0) {
    const r = free[best]!;
    const at = r.offset;
    if (r.bytes === size) free.splice(best, 1);
    else {
      r.offset += size;
      r.bytes -= size;
    }
    new Uint8Array(e.memory.buffer, at, size).fill(0); // zeroed, as fresh memory is
    return [at, size];
  }
  // None fits: grow. A free region at the top of memory becomes the start of the new one.
  const last = free[free.length - 1];
  const tail = last && last.offset + last.bytes === topEnd ? last : undefined;
  const need = size - (tail?.bytes ?? 0);
  let at: number;
  try {
    at = e.alloc(need, REGION_ALIGN);
  } catch (err) {
    const s = heapStats();
    throw new KilnError(
      'RESOURCE_EXHAUSTED',
      `${describeOwner(owner)} needs ${size} bytes (${MiB(size)}) of CPU backend memory, but the WebAssembly memory cannot grow further ` +
        `(${MiB(s.memoryBytes)} now: ${MiB(s.inUseBytes)} in use by ${s.regions} live programs, ${MiB(s.freeBytes)} free, largest free region ${MiB(s.largestFreeBytes)}). ` +
        'Dispose compiled models and sessions you no longer use (model.dispose(), session.dispose()) so their memory is reused, or run smaller batches ' +
        `(a WebAssembly memory holds at most 4 GiB)${err instanceof KilnError ? '' : `: ${String(err)}`}`,
    );
  }
  if (tail && at === topEnd) {
    free.pop();
    reserved += need;
    topEnd = at + need;
    new Uint8Array(e.memory.buffer, tail.offset, tail.bytes).fill(0);
    return [tail.offset, size];
  }
  reserved += need;
  topEnd = at + need;
  if (tail) {
    // Not contiguous with the free tail (someone else took engine memory in between): the
    // `need` bytes are too few on their own; they join the pool and a full region is taken.
    inUse += need;
    regionsInUse++;
    releaseRegion([at, need]);
    return takeRegion(e, size, owner);
  }
  return [at, size];
}

/** A region of at least `bytes` for `owner`, released when `owner` is collected or `release` is called. */
export function heapFor(bytes: number, owner: object): Heap & { release(): void } {
  const size = Math.ceil(Math.max(bytes, 16) / REGION_ALIGN) * REGION_ALIGN;
  if (!engine) {
    let buf: ArrayBuffer;
    try {
      buf = new ArrayBuffer(size);
    } catch (err) {
      throw new KilnError(
        'RESOURCE_EXHAUSTED',
        `${describeOwner(owner)} needs ${size} bytes (${MiB(size)}), which cannot be allocated: ${(err as Error).message}`,
      );
    }
    return { base: 0, memory: () => buf, release: () => undefined };
  }
  const e = engine;
  const region = takeRegion(e, size, owner);
  inUse += region[1];
  regionsInUse++;
  const token = {};
  released.register(owner, region, token);
  let live = true;
  return {
    base: region[0],
    memory: () => e.memory.buffer,
    engine: e,
    release: () => {
      if (!live) return;
      live = false;
      released.unregister(token);
      releaseRegion(region);
    },
  };
}

/** C = A·B on the heap: the SIMD engine, or a JS loop (float64 accumulation) without it. */
export function gemmOn(heap: Heap, g: GemmCall, threads?: number): void {
  if (heap.engine) {
    heap.engine.gemm(threads === undefined ? g : { ...g, threads });
    return;
  }
  const f = new Float32Array(heap.memory());
  const A = g.a / 4;
  const B = g.b / 4;
  const C = g.c / 4;
  const acc = new Float64Array(g.n);
  for (let i = 0; i < g.m; i++) {
    acc.fill(0);
    for (let p = 0; p < g.k; p++) {
      const av = f[A + i * g.aRowStride + p * g.aColStride]!;
      const row = B + p * g.bRowStride;
      for (let j = 0; j < g.n; j++) acc[j]! += av * f[row + j * g.bColStride]!;
    }
    const out = C + i * g.ldc;
    for (let j = 0; j < g.n; j++) f[out + j] = acc[j]!;
  }
}
