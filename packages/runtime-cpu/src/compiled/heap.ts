/**
 * The linear memory compiled CPU programs live in, and the contraction entry points on it.
 *
 * One process-wide GemmEngine (WebAssembly SIMD GEMM on a shared WebAssembly.Memory, with
 * worker threads) is started when this module loads. Each CpuProgram takes one region of
 * its memory (arena, constants, feed and variable slots); a region is returned to a free
 * list when its program is disposed or garbage-collected. Contractions address operands by
 * byte offset with element strides, so transposed operands are strides, never copies.
 * Where shared WebAssembly memory is unavailable, programs fall back to an ArrayBuffer and a
 * JS matmul.
 */
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
/** Freed regions [offset, bytes], reused first-fit. */
const freeList: [number, number][] = [];
const released = new FinalizationRegistry<[number, number]>((r) => releaseRegion(r));

function releaseRegion(r: [number, number]): void {
  freeList.push(r);
}

/** A region of at least `bytes` for `owner`, released when `owner` is collected. */
export function heapFor(bytes: number, owner: object): Heap & { release(): void } {
  const size = Math.ceil(Math.max(bytes, 16) / REGION_ALIGN) * REGION_ALIGN;
  if (!engine) {
    const buf = new ArrayBuffer(size);
    return { base: 0, memory: () => buf, release: () => undefined };
  }
  const e = engine;
  // A freed region of up to twice the size is reused (zeroed, as fresh memory is).
  const at = freeList.findIndex(([, b]) => b >= size && b <= 2 * size);
  let region: [number, number];
  if (at >= 0) {
    region = freeList[at]!;
    freeList.splice(at, 1);
    new Uint8Array(e.memory.buffer, region[0], region[1]).fill(0);
  } else {
    region = [e.alloc(size, REGION_ALIGN), size];
  }
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
