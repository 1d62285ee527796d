/**
 * The linear memory a CpuProgram lives in, and the matmul entry point on it. Contractions
 * address operands by byte offset with element strides, so transposed operands are strides,
 * never copies.
 */
export interface Heap {
  /** Byte offset of this program's region. */
  readonly base: number;
  /** The current backing buffer (re-read after growth). */
  memory(): ArrayBufferLike;
}

export interface GemmCall {
  m: number;
  n: number;
  k: number;
  a: number;
  aRowStride: number;
  aColStride: number;
  b: number;
  bRowStride: number;
  bColStride: number;
  c: number;
  ldc: number;
}

export function heapFor(bytes: number): Heap {
  const buf = new ArrayBuffer(Math.max(bytes, 16));
  return { base: 0, memory: () => buf };
}

/** C = A·B on the heap (float64 accumulation, i-p-j order so the inner loop streams rows). */
export function gemmOn(heap: Heap, g: GemmCall): void {
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
