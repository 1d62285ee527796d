/**
 * Memory planning: every temporary gets an offset in one arena. Liveness intervals come from
 * the kernel order ([kernel that writes it, last kernel that reads it]; fetched buffers live to
 * the end; a view extends the life of the buffer it aliases). Placement is greedy by size,
 * largest first, each at the lowest aligned offset that does not overlap any already placed
 * buffer whose interval intersects (the strategy of TFLite's arena planner and XLA's heap
 * simulator). Also reports the naive total and the live lower bound (the largest total of
 * simultaneously live temporaries in this order), so the plan's quality is visible.
 * In-place reuse: an elementwise kernel's output takes the storage of an input that dies at
 * that kernel when both have the same dtype and shape (each element is read before it is
 * written at the same index, and generated code computes all outputs before writing any).
 * The element width of each dtype and the offset alignment are the target's (a MemoryLayout):
 * the CPU stores bools in 1 byte and aligns to 16; WGSL storage has no 8-bit type (bools take
 * 4 bytes) and WebGPU binds buffers at offsets aligned to minStorageBufferOffsetAlignment.
 */
import { type DType, KilnError, shapesEqual, sizeOf } from '@kiln/graph';
import { type BufferDecl, type Kernel, kernelIO } from './program.js';

/** How a target stores tensors: bytes per element of each dtype, and the alignment of arena offsets. */
export interface MemoryLayout {
  readonly name: string;
  readonly elementBytes: Readonly<Record<DType, number>>;
  /** Every temporary's arena offset is a multiple of this (a power of two). */
  readonly alignment: number;
}

/** The CPU backend's layout: bools are bytes, offsets 16-byte aligned (SIMD loads). */
export const CPU_MEMORY_LAYOUT: MemoryLayout = Object.freeze({ name: 'cpu', elementBytes: Object.freeze({ float32: 4, int32: 4, bool: 1 }), alignment: 16 });

/** A WebGPU layout: 4-byte bools (WGSL storage has no 8-bit type), offsets aligned to the adapter's minStorageBufferOffsetAlignment. */
export function webgpuMemoryLayout(minStorageBufferOffsetAlignment = 256): MemoryLayout {
  return checkMemoryLayout({ name: 'webgpu', elementBytes: { float32: 4, int32: 4, bool: 4 }, alignment: minStorageBufferOffsetAlignment });
}

/** Returns the layout, or throws a KilnError naming the field that is not usable. */
export function checkMemoryLayout(l: MemoryLayout): MemoryLayout {
  const pow2 = Number.isInteger(l.alignment) && l.alignment > 0 && (l.alignment & (l.alignment - 1)) === 0;
  if (!pow2) throw new KilnError('INVALID_ARGUMENT', `memory layout '${l.name}': alignment must be a positive power of two, got ${l.alignment}`);
  for (const dt of ['float32', 'int32', 'bool'] as const) {
    const w = l.elementBytes[dt];
    if (!(Number.isInteger(w) && w >= 1 && w <= 8))
      throw new KilnError('INVALID_ARGUMENT', `memory layout '${l.name}': ${dt} width must be an integer number of bytes in [1, 8], got ${w}`);
  }
  return l;
}

/** The bytes of a tensor of this dtype and shape in the layout. */
export function bufferBytes(dtype: DType, shape: readonly number[], layout: MemoryLayout = CPU_MEMORY_LAYOUT): number {
  return sizeOf(shape) * layout.elementBytes[dtype];
}

export interface MemoryPlan {
  arenaBytes: number;
  naiveBytes: number;
  liveLowerBoundBytes: number;
  /** Per kernel: base temporaries whose last use is that kernel. */
  frees: number[][];
}

export function planMemory(buffers: BufferDecl[], kernels: Kernel[], fetches: number[], layout: MemoryLayout = CPU_MEMORY_LAYOUT): MemoryPlan {
  const ALIGN = checkMemoryLayout(layout).alignment;
  const base = (id: number): number => buffers[id]!.aliasOf ?? id;
  const isArena = (id: number) => buffers[id]!.kind === 'temp' && buffers[id]!.aliasOf === undefined;
  const start = new Map<number, number>();
  const end = new Map<number, number>();
  kernels.forEach((k, t) => {
    const { reads, writes } = kernelIO(k.spec);
    for (const w of writes) {
      const b = base(w);
      if (isArena(b) && !start.has(b)) start.set(b, t);
      if (isArena(b)) end.set(b, Math.max(end.get(b) ?? t, t));
    }
    for (const r of reads) {
      const b = base(r);
      if (isArena(b)) end.set(b, Math.max(end.get(b) ?? t, t));
    }
  });
  for (const f of fetches) {
    if (f >= 0 && isArena(base(f))) end.set(base(f), kernels.length);
  }
  const naiveBytes = [...start.keys()].reduce((s, id) => s + buffers[id]!.bytes, 0);
  // In-place reuse: union an elementwise output with an input that dies at its kernel.
  const parent = new Map<number, number>();
  const find = (id: number): number => {
    let r = id;
    while (parent.has(r)) r = parent.get(r)!;
    return r;
  };
  kernels.forEach((k, t) => {
    const s = k.spec;
    if (s.kind !== 'elementwise') return;
    const taken = new Set<number>();
    // Storage read anywhere in this kernel at other indices than the output's (a strided view
    // or a broadcast) must not be overwritten while the kernel runs.
    const out0 = buffers[s.outputs[0]!]!;
    const irregular = new Set(s.inputs.filter((i, ii) => s.inputViews?.[ii] || !shapesEqual(buffers[i]!.shape, out0.shape)).map((i) => find(base(i))));
    for (const o of s.outputs) {
      if (!isArena(o)) continue;
      const out = buffers[o]!;
      for (const [ii, i] of s.inputs.entries()) {
        if (s.inputViews?.[ii]) continue; // read through strides: not at the output's index
        const r = find(base(i));
        if (!isArena(base(i)) || irregular.has(r) || taken.has(r) || end.get(r) !== t || s.outputs.includes(i)) continue;
        const inp = buffers[i]!;
        const same = inp.dtype === out.dtype && inp.bytes === out.bytes && shapesEqual(inp.shape, out.shape);
        if (!same) continue;
        taken.add(r);
        parent.set(o, r);
        end.set(r, Math.max(end.get(r)!, end.get(o)!));
        break;
      }
    }
  });
  const ids = [...start.keys()].filter((id) => !parent.has(id));
  // Sweep over kernel steps: +bytes where a buffer starts, -bytes after its last use.
  const delta = new Array<number>(kernels.length + 2).fill(0);
  for (const id of ids) {
    delta[start.get(id)!]! += buffers[id]!.bytes;
    delta[end.get(id)! + 1]! -= buffers[id]!.bytes;
  }
  let liveLowerBoundBytes = 0;
  let live = 0;
  for (const d of delta) liveLowerBoundBytes = Math.max(liveLowerBoundBytes, (live += d));
  const placed: number[] = [];
  const sorted = [...ids].sort((a, b) => buffers[b]!.bytes - buffers[a]!.bytes || start.get(a)! - start.get(b)!);
  let arenaBytes = 0;
  for (const id of sorted) {
    const size = Math.max(buffers[id]!.bytes, 1);
    const conflicts = placed
      .filter((o) => start.get(o)! <= end.get(id)! && start.get(id)! <= end.get(o)!)
      .map((o) => [buffers[o]!.offset, buffers[o]!.offset + Math.max(buffers[o]!.bytes, 1)] as const)
      .sort((a, b) => a[0] - b[0]);
    // Best fit: the smallest gap that holds the buffer; else after the last conflict.
    let best = -1;
    let bestGap = Infinity;
    let cursor = 0;
    for (const [lo, hi] of conflicts) {
      const gap = lo - cursor;
      if (gap >= size && gap < bestGap) {
        best = cursor;
        bestGap = gap;
      }
      cursor = Math.max(cursor, Math.ceil(hi / ALIGN) * ALIGN);
    }
    const offset = best >= 0 ? best : cursor;
    buffers[id]!.offset = offset;
    arenaBytes = Math.max(arenaBytes, offset + size);
    placed.push(id);
  }
  for (const id of parent.keys()) buffers[id]!.offset = buffers[find(id)]!.offset;
  const frees: number[][] = kernels.map(() => []);
  for (const id of ids) {
    const e = end.get(id)!;
    if (e < kernels.length) frees[e]!.push(id);
  }
  return { arenaBytes: Math.ceil(arenaBytes / ALIGN) * ALIGN, naiveBytes, liveLowerBoundBytes, frees };
}
