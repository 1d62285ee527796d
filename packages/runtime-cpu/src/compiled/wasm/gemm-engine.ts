/**
 * GemmEngine: float32 matrix multiply on the WebAssembly SIMD kernel (gemm.wat) over one shared
 * WebAssembly.Memory, with worker threads for large products. The engine owns the memory: a
 * control block, per-thread packing scratch, then a bump allocator for the caller's buffers.
 * Large products are split by column (or row) blocks across threads; every element keeps the
 * same summation order whatever the thread count, so results are bitwise reproducible.
 * runRows runs the kernel's row loops (direct conv, pooling) over row chunks on the same threads.
 */
import type { Worker } from 'node:worker_threads';
import { KilnError } from '@kiln/graph';
import { gemmModule, instantiateKernel } from './gemm-module.js';
import { CTL, CTL_BYTES, MAX_ROW_ARGS, MAX_THREADS, ROW_EXPORTS, type RowExport, SPIN_ITERATIONS, WORKER_SOURCE, claimChunks } from './gemm-worker.js';

export type { RowExport } from './gemm-worker.js';
import { wasm, type WasmMemory } from './wasm-api.js';

export interface GemmArgs {
  m: number;
  n: number;
  k: number;
  /** Byte offsets into engine.memory; strides in float32 elements. A[i,p] = f32[a/4 + i*aRowStride + p*aColStride]. */
  a: number;
  aRowStride: number;
  aColStride: number;
  /** B[p,j] = f32[b/4 + p*bRowStride + j*bColStride]. */
  b: number;
  bRowStride: number;
  bColStride: number;
  /** C[i,j] = f32[c/4 + i*ldc + j]. */
  c: number;
  ldc: number;
  /** C += A·B instead of C = A·B. */
  accumulate?: boolean;
  /** At most this many threads for this call (default: all of the engine's). */
  threads?: number;
}

/** Cache blocking: Ap is MC x KC floats (L2), a B micro-panel KC x 16 (L1), Bp KC x NC (L3). */
const MC = 128;
const KC = 256;
const NC = 2048;
const MR = 2;
const NR = 16;
const SCRATCH_BYTES = (MC * KC + KC * NC + MR * NR) * 4;
/** Products below this many multiply-adds run on the calling thread only. */
const PARALLEL_MIN_MACS = 1 << 18;
/** Chunks per thread in a parallel product (load balance vs repeated packing). */
const CHUNKS_PER_THREAD = 2;
/** Chunks per thread in a parallel row job (nothing is repeated per chunk: balance wins). */
const ROW_CHUNKS_PER_THREAD = 4;

/** Options of GemmEngine.runRows. */
export interface RunRowsOptions {
  /** Rough multiply-adds (or element visits) of the whole job: below 2^18 it runs on the calling thread only. */
  work?: number;
  /** At most this many threads (default: all of the engine's). */
  threads?: number;
}
const PAGE = 65536;
const MAX_PAGES = [65536, 32768, 16384];

function newSharedMemory(initialPages: number): WasmMemory {
  let last: unknown;
  for (const maximum of MAX_PAGES) {
    try {
      return new wasm.Memory({ initial: initialPages, maximum, shared: true });
    } catch (e) {
      last = e; // address space reservation refused: try a smaller maximum
    }
  }
  throw new KilnError('INTERNAL', `GemmEngine: cannot create a shared WebAssembly.Memory: ${String(last)}`);
}

function bad(msg: string): KilnError {
  return new KilnError('INVALID_ARGUMENT', `GemmEngine.gemm: ${msg}`);
}

function checkInt(name: string, v: unknown, min: number | null): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || (min !== null && v < min)) {
    throw bad(`${name} must be ${min === null ? 'an integer' : `an integer >= ${min}`}, got ${String(v)}`);
  }
  return v;
}

/** worker_threads and the core count, or undefined outside Node. */
async function loadNodeThreads(): Promise<{ Worker: typeof Worker; cores: number } | undefined> {
  try {
    const [wt, os] = await Promise.all([import('node:worker_threads'), import('node:os')]);
    return { Worker: wt.Worker, cores: os.availableParallelism() };
  } catch {
    return undefined;
  }
}

export class GemmEngine {
  /** The one shared memory (shared: true, so views never detach when it grows). */
  readonly memory: WasmMemory;
  readonly threads: number;
  private readonly kernel: (...args: number[]) => void;
  private readonly rowFns: ((...args: number[]) => void)[];
  private readonly workers: Worker[];
  private readonly scratch: number[];
  private readonly heapBase: number;
  private top: number;
  private readonly ctl: Int32Array;
  private disposed = false;

  private constructor(memory: WasmMemory, threads: number, workers: Worker[]) {
    this.memory = memory;
    this.threads = threads;
    this.workers = workers;
    const exports = instantiateKernel(memory) as unknown as Record<string, (...args: number[]) => void>;
    this.kernel = exports.gemm!;
    this.rowFns = ROW_EXPORTS.map((name) => exports[name]!);
    this.ctl = new Int32Array(memory.buffer, 0, CTL_BYTES / 4);
    this.scratch = [];
    for (let t = 0; t < threads; t++) this.scratch.push(CTL_BYTES + t * SCRATCH_BYTES);
    this.heapBase = CTL_BYTES + threads * SCRATCH_BYTES;
    this.top = this.heapBase;
  }

  /** threads: worker threads including the caller's (default min(2, available cores)). */
  static async create(opts: { threads?: number } = {}): Promise<GemmEngine> {
    // Node's modules are loaded on demand, so the engine also loads (single-threaded) where
    // there is no worker_threads, e.g. in a browser.
    const node = await loadNodeThreads();
    const threads = opts.threads ?? (node ? Math.min(2, node.cores) : 1);
    if (threads > 1 && !node) {
      throw new KilnError('UNSUPPORTED', `GemmEngine.create: ${threads} threads need Node's worker_threads, which this environment lacks`);
    }
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
      throw new KilnError('INVALID_ARGUMENT', `GemmEngine.create: threads must be an integer in [1, ${MAX_THREADS}], got ${String(threads)}`);
    }
    const base = CTL_BYTES + threads * SCRATCH_BYTES;
    const memory = newSharedMemory(Math.ceil((base + PAGE) / PAGE));
    const module = gemmModule();
    const workers: Worker[] = [];
    try {
      await Promise.all(
        Array.from({ length: threads - 1 }, (_, i) => {
          const w = new node!.Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, index: i + 1 } });
          workers.push(w);
          return new Promise<void>((resolve, reject) => {
            w.once('message', () => resolve());
            w.once('error', reject);
            w.once('exit', (code) => reject(new KilnError('INTERNAL', `GemmEngine: worker exited with code ${code} while starting`)));
          });
        }),
      );
    } catch (e) {
      for (const w of workers) void w.terminate();
      throw e;
    }
    for (const w of workers) {
      w.removeAllListeners();
      w.on('error', () => {}); // a worker failure surfaces through the control block's ERROR flag
      w.unref();
    }
    return new GemmEngine(memory, threads, workers);
  }

  /** Reserves `bytes` (zero-filled: fresh memory is never written before it is handed out). */
  alloc(bytes: number, align = 64): number {
    if (!Number.isInteger(bytes) || bytes < 0) {
      throw new KilnError('INVALID_ARGUMENT', `GemmEngine.alloc: bytes must be an integer >= 0, got ${String(bytes)}`);
    }
    if (!Number.isInteger(align) || align < 1 || (align & (align - 1)) !== 0) {
      throw new KilnError('INVALID_ARGUMENT', `GemmEngine.alloc: align must be a power of two, got ${String(align)}`);
    }
    const at = Math.ceil(this.top / align) * align;
    const end = at + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE));
      } catch {
        throw new KilnError(
          'RESOURCE_EXHAUSTED',
          `the CPU backend's WebAssembly memory cannot grow to ${end} bytes (it has ${have}) for ${bytes} more bytes; dispose compiled models and sessions you no longer use, or run smaller batches`,
        );
      }
    }
    this.top = end;
    return at;
  }

  /** A Float32Array view of `length` floats at byteOffset on the current memory buffer. */
  f32(byteOffset: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, byteOffset, length);
  }

  /**
   * Throws KilnError('INVALID_ARGUMENT') unless [byteOffset, byteOffset + bytes) is 4-aligned
   * and inside the allocatable memory (past the engine's control block and scratch).
   */
  checkRange(what: string, byteOffset: number, bytes: number): void {
    const end = this.memory.buffer.byteLength;
    if (!Number.isInteger(byteOffset) || byteOffset % 4 !== 0 || byteOffset < this.heapBase || !(byteOffset + bytes <= end)) {
      throw new KilnError(
        'INVALID_ARGUMENT',
        `${what}: bytes [${byteOffset}, ${byteOffset + bytes}) must be 4-aligned and inside the allocatable memory [${this.heapBase}, ${end})`,
      );
    }
  }

  /** C = A·B (or C += A·B); returns when every thread has finished. */
  gemm(args: GemmArgs): void {
    if (this.disposed) throw new KilnError('INVALID_ARGUMENT', 'GemmEngine.gemm: the engine was disposed');
    const m = checkInt('m', args.m, 0);
    const n = checkInt('n', args.n, 0);
    const k = checkInt('k', args.k, 0);
    const ars = checkInt('aRowStride', args.aRowStride, null);
    const acs = checkInt('aColStride', args.aColStride, null);
    const brs = checkInt('bRowStride', args.bRowStride, null);
    const bcs = checkInt('bColStride', args.bColStride, null);
    const ldc = checkInt('ldc', args.ldc, null);
    const accumulate = args.accumulate === true;
    if (m > 1 && ldc < n) throw bad(`ldc must be >= n (${n}) so rows of C do not overlap, got ${ldc}`);
    if (m === 0 || n === 0) return;
    this.checkSpan('C', args.c, [
      [m, ldc],
      [n, 1],
    ]);
    if (k === 0) {
      if (!accumulate) for (let i = 0; i < m; i++) this.f32(args.c + i * ldc * 4, n).fill(0);
      return;
    }
    this.checkSpan('A', args.a, [
      [m, ars],
      [k, acs],
    ]);
    this.checkSpan('B', args.b, [
      [k, brs],
      [n, bcs],
    ]);

    // The k block depends on k alone (never on the split), so summation order is fixed.
    const kcb = Math.ceil(k / Math.ceil(k / KC));
    const a = args.a,
      b = args.b,
      c = args.c,
      acc = accumulate ? 1 : 0;
    const parts = m * n * k >= PARALLEL_MIN_MACS ? Math.max(1, Math.min(this.threads, args.threads ?? this.threads)) : 1;
    if (parts === 1) {
      this.kernel(m, n, k, a, ars * 4, acs * 4, b, brs * 4, bcs * 4, c, ldc * 4, acc, this.scratch[0]!, MC, kcb, NC);
      return;
    }
    // Chunk the larger of m and n (the other operand's packing is repeated per chunk); the
    // caller and the workers claim chunks from a shared counter, so a late worker costs little.
    const nTiles = Math.ceil(n / NR);
    const mTiles = Math.ceil(m / MR);
    const want = parts * CHUNKS_PER_THREAD;
    const byN = n >= m ? nTiles >= want || nTiles >= mTiles : mTiles < want && nTiles > mTiles;
    const tiles = byN ? nTiles : mTiles;
    const step = Math.ceil(tiles / Math.min(want, tiles)) * (byN ? NR : MR);
    const job = [m, n, k, a, ars * 4, acs * 4, b, brs * 4, bcs * 4, c, ldc * 4, acc, 0, MC, kcb, NC];
    this.dispatch('GemmEngine.gemm', Math.ceil((byN ? n : m) / step), step, (ctl) => {
      for (let i = 0; i < job.length; i++) ctl[CTL.ARGS + i] = job[i]! | 0;
      ctl[CTL.KIND] = 0;
      ctl[CTL.BY_N] = byN ? 1 : 0;
    });
  }

  /**
   * Runs the kernel export `name` as fn(row0, rows, ...args) over rows [0, rows): in one call
   * on this thread, or (when opts.work is at least 2^18 and the engine has threads) in row
   * chunks claimed by this thread and the workers. The export must write only its rows'
   * outputs and read no memory another chunk writes; returns when every chunk has finished.
   * args: int32 values (byte offsets, sizes), at most MAX_ROW_ARGS of them.
   */
  runRows(name: RowExport, rows: number, args: readonly number[], opts: RunRowsOptions = {}): void {
    const what = 'GemmEngine.runRows';
    if (this.disposed) throw new KilnError('INVALID_ARGUMENT', `${what}: the engine was disposed`);
    const fn = ROW_EXPORTS.indexOf(name);
    if (fn < 0) throw new KilnError('INVALID_ARGUMENT', `${what}: name must be one of ${ROW_EXPORTS.join(', ')}, got ${String(name)}`);
    if (!Number.isInteger(rows) || rows < 0) throw new KilnError('INVALID_ARGUMENT', `${what}: rows must be an integer >= 0, got ${String(rows)}`);
    if (args.length > MAX_ROW_ARGS || !args.every((v) => Number.isInteger(v) && (v | 0) === v)) {
      throw new KilnError('INVALID_ARGUMENT', `${what}: args must be at most ${MAX_ROW_ARGS} int32 values, got [${args.join(', ')}]`);
    }
    if (rows === 0) return;
    const work = opts.work ?? 0;
    const parts = rows > 1 && work >= PARALLEL_MIN_MACS ? Math.max(1, Math.min(this.threads, opts.threads ?? this.threads)) : 1;
    if (parts === 1) {
      this.rowFns[fn]!(0, rows, ...args);
      return;
    }
    const step = Math.ceil(rows / Math.min(rows, parts * ROW_CHUNKS_PER_THREAD));
    this.dispatch(what, Math.ceil(rows / step), step, (ctl) => {
      for (let i = 0; i < args.length; i++) ctl[CTL.ARGS + i] = args[i]!;
      ctl[CTL.KIND] = 1;
      ctl[CTL.FN] = fn;
      ctl[CTL.ROWS] = rows;
      ctl[CTL.NARGS] = args.length;
    });
  }

  /**
   * Publishes a job of `chunks` chunks of `step` (write fills in its kind and arguments), runs
   * chunks on this thread alongside the workers and returns when all have finished.
   */
  private dispatch(what: string, chunks: number, step: number, write: (ctl: Int32Array) => void): void {
    const ctl = this.ctl;
    this.waitFor(CTL.PENDING, 0); // stragglers of the previous job have checked out
    write(ctl);
    ctl[CTL.CHUNKS] = chunks;
    ctl[CTL.STEP] = step;
    ctl[CTL.SCRATCH] = this.scratch[0]!;
    ctl[CTL.SCRATCH_BYTES] = SCRATCH_BYTES;
    Atomics.store(ctl, CTL.NEXT, 0);
    Atomics.store(ctl, CTL.DONE, 0);
    Atomics.store(ctl, CTL.ERROR, 0);
    Atomics.store(ctl, CTL.PENDING, this.threads - 1);
    Atomics.add(ctl, CTL.GEN, 1);
    Atomics.notify(ctl, CTL.GEN);
    claimChunks(ctl, this.kernel, this.scratch[0]!, this.rowFns);
    this.waitFor(CTL.DONE, chunks);
    if (Atomics.load(ctl, CTL.ERROR) !== 0) throw new KilnError('INTERNAL', `${what}: a worker thread failed`);
  }

  /** Terminates the worker threads; idempotent. The memory stays readable. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.ctl, CTL.QUIT, 1);
    Atomics.add(this.ctl, CTL.GEN, 1);
    Atomics.notify(this.ctl, CTL.GEN);
    for (const w of this.workers) void w.terminate();
  }

  /** Spins briefly, then sleeps, until ctl[index] === value (workers notify on it). */
  private waitFor(index: number, value: number): void {
    const ctl = this.ctl;
    for (let i = 0; i < SPIN_ITERATIONS && Atomics.load(ctl, index) !== value; i++);
    for (let v = Atomics.load(ctl, index); v !== value; v = Atomics.load(ctl, index)) {
      Atomics.wait(ctl, index, v);
    }
  }

  /** Throws unless every element base + sum(i_d * stride_d), 0 <= i_d < dim_d, is in the heap. */
  private checkSpan(name: string, base: unknown, dims: [number, number][]): void {
    if (typeof base !== 'number' || !Number.isInteger(base) || base % 4 !== 0) {
      throw bad(`${name}'s byte offset must be a multiple of 4, got ${String(base)}`);
    }
    let lo = base / 4;
    let hi = base / 4;
    for (const [dim, stride] of dims) {
      if (stride < 0) lo += (dim - 1) * stride;
      else hi += (dim - 1) * stride;
    }
    const end = this.memory.buffer.byteLength;
    if (lo * 4 < this.heapBase || (hi + 1) * 4 > end) {
      const shape = dims.map(([d, s]) => `${d}x(stride ${s})`).join(', ');
      throw bad(
        `${name} at byte ${base} with ${shape} spans bytes [${lo * 4}, ${(hi + 1) * 4}), ` + `outside the allocatable memory [${this.heapBase}, ${end})`,
      );
    }
  }
}
