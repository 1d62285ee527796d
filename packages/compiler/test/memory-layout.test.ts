/**
 * A memory plan per target: element widths and offset alignment come from the target's
 * MemoryLayout (CPU: 1-byte bools, 16-byte alignment; WebGPU: 4-byte bools, the adapter's
 * alignment, 256 here), and program.stats stays honest for each: the naive total is the sum
 * of the temporaries, the arena holds every temporary at an aligned offset, and no two
 * temporaries that are live at the same time share bytes (liveness recomputed here from the
 * kernel order).
 */
import { describe, expect, it } from '@jest/globals';
import { CPU_MEMORY_LAYOUT, type MemoryLayout, type Program, compile, kernelIO, serializeProgram, webgpuMemoryLayout } from '@kiln/compiler';
import { Graph, KilnError, add, exp, less, logicalNot, mul, neg, where } from '@kiln/graph';
import { referenceConstantEvaluator } from '@kiln/runtime-cpu';

function graph() {
  const g = new Graph();
  const x = g.placeholder('float32', [10, 7], 'x');
  const m = less(x, 0);
  const n = logicalNot(m);
  const e = exp(x);
  const y = where(n, mul(e, x), neg(x));
  const z = add(y, e);
  return { g, x, fetches: [m, n, z] };
}

function build(layout: MemoryLayout | undefined, fuse: boolean): Program {
  const { g, x, fetches } = graph();
  return compile(g, { fetches, feeds: [x] }, { fuse, constantEvaluator: referenceConstantEvaluator, ...(layout ? { memoryLayout: layout } : {}) });
}

/** Checks the plan against the layout: widths, alignment, no overlap of simultaneously live temporaries, honest stats. */
function checkPlan(p: Program, layout: MemoryLayout): void {
  for (const b of p.buffers)
    expect({ name: b.name, bytes: b.bytes }).toEqual({ name: b.name, bytes: b.shape.reduce((a, d) => a * d, 1) * layout.elementBytes[b.dtype] });
  const base = (id: number) => p.buffers[id]!.aliasOf ?? id;
  const temps = p.buffers.filter((b) => b.kind === 'temp' && b.aliasOf === undefined);
  const live = new Map<number, [number, number]>();
  p.kernels.forEach((k, t) => {
    const { reads, writes } = kernelIO(k.spec);
    for (const id of [...reads, ...writes].map(base)) {
      if (p.buffers[id]!.kind !== 'temp') continue;
      const [s, e] = live.get(id) ?? [t, t];
      live.set(id, [Math.min(s, t), Math.max(e, t)]);
    }
  });
  for (const f of p.fetches) if (f >= 0 && live.has(base(f))) live.get(base(f))![1] = p.kernels.length;
  for (const b of temps) {
    expect(b.offset % layout.alignment).toBe(0);
    expect(b.offset + b.bytes).toBeLessThanOrEqual(p.stats.arenaBytes);
  }
  for (const a of temps) {
    for (const b of temps) {
      if (a.id >= b.id || a.offset === b.offset) continue; // equal offsets: in-place reuse, checked by the planner's own rule
      const [s1, e1] = live.get(a.id)!;
      const [s2, e2] = live.get(b.id)!;
      const timeOverlap = s1 <= e2 && s2 <= e1;
      const spaceOverlap = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
      expect({ a: a.name, b: b.name, both: timeOverlap && spaceOverlap }).toEqual({ a: a.name, b: b.name, both: false });
    }
  }
  expect(p.stats.arenaBytes % layout.alignment).toBe(0);
  expect(p.stats.liveLowerBoundBytes).toBeLessThanOrEqual(p.stats.arenaBytes);
  expect(p.stats.naiveBytes).toBeGreaterThanOrEqual(p.stats.liveLowerBoundBytes);
}

describe.each([true, false])('memory plans per target (fuse %s)', (fuse) => {
  it('the CPU layout is the default: 1-byte bools, 16-byte alignment', () => {
    const p = build(undefined, fuse);
    checkPlan(p, CPU_MEMORY_LAYOUT);
    expect(p.buffers.find((b) => b.dtype === 'bool')!.bytes).toBe(70);
  });

  it('a WebGPU layout: 4-byte bools, 256-byte aligned offsets, stats in its bytes', () => {
    const cpu = build(undefined, fuse);
    const gpu = build(webgpuMemoryLayout(256), fuse);
    checkPlan(gpu, webgpuMemoryLayout(256));
    expect(gpu.buffers.find((b) => b.dtype === 'bool')!.bytes).toBe(280);
    expect(gpu.stats.arenaBytes).toBeGreaterThan(cpu.stats.arenaBytes);
    expect(gpu.stats.kernels).toBe(cpu.stats.kernels);
    expect(gpu.toString()).toContain('layout webgpu');
  });
});

describe('memory layout errors', () => {
  it('rejects an alignment that is not a power of two, naming it', () => {
    expect(() => webgpuMemoryLayout(100)).toThrow(
      new KilnError('INVALID_ARGUMENT', "memory layout 'webgpu': alignment must be a positive power of two, got 100"),
    );
  });
  it('ProgramProto stores CPU-layout programs only, and says so', () => {
    expect(() => serializeProgram(build(webgpuMemoryLayout(), true))).toThrow(/stores CPU-layout programs only/);
    expect(serializeProgram(build(undefined, true)).length).toBeGreaterThan(0);
  });
});
