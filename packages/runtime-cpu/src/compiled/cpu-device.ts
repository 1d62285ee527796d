/**
 * The CPU device: a compiled Program's storage and kernels in one linear memory, laid out once
 * per Program: the arena (temporaries, used exactly as planned), constants (copied in once),
 * feed slots, and two slots per variable (double buffering: kernels read the committed slot
 * and in-place updates write the other; commit() flips them). Kernels: generated WebAssembly
 * SIMD for flat float32 elementwise kernels, generated JS for the other elementwise kernels and
 * for reductions (compiled once, cached by source), the SIMD engine for contractions and
 * convolutions (then the epilogue on the result), and the CPU routine table for the other op
 * kernels (routines.ts).
 *
 * Orchestration (feeds, variable identity, checkNumerics, poisoning, commit on success) is
 * the compiler's ProgramRunner; this file only implements its DeviceProgram interface.
 */
import { type BufferDecl, type DeviceProgram, type Program, type RunContext, type ScalarExpr } from '@kiln/compiler';
import { type DType, KilnError, Tensor, type TypedArray, allocData, sizeOf } from '@kiln/graph';
import { type KernelFn, type ReduceFn, type TypedArrayLike, compileElementwise, compileReduce } from './js-codegen.js';
import { type ConvKernel, planConv } from './conv-kernels.js';
import { type ElementwiseInputKind, type WasmElementwise, compileWasmElementwise } from './wasm-codegen/elementwise-wasm.js';
import { type Heap, gemmOn, heapFor } from './heap.js';
import { type CpuRoutine, type VariableAccess, cpuRoutine } from './routines.js';
import type { CpuKernel } from './op-kernels.js';

export interface CpuDeviceOptions {
  /** Threads for large contractions (default: all the engine has, min(2, cores)). */
  threads?: number;
}

function viewOf(dtype: DType, buf: ArrayBufferLike, offset: number, n: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf, offset, n);
    case 'int32':
      return new Int32Array(buf, offset, n);
    case 'bool':
      return new Uint8Array(buf, offset, n);
  }
}

const elems = (b: BufferDecl) => b.bytes / (b.dtype === 'bool' ? 1 : 4);

interface VariableSlots {
  offsets: [number, number];
  current: 0 | 1;
  /** The current slot still holds the zeros of a fresh region (an all-zero value needs no copy). */
  zero: boolean;
}

/** True when every element is +0 (an optimizer slot's initial value; -0 must be copied). */
function allZero(d: ArrayLike<number>): boolean {
  for (let i = 0; i < d.length; i++) if (d[i] !== 0 || 1 / d[i]! < 0) return false;
  return true;
}

type Compiled =
  | { kind: 'elementwise'; n: number; wasm: WasmElementwise; fn?: undefined }
  | { kind: 'elementwise'; n: number; fn: KernelFn; wasm?: undefined }
  | { kind: 'reduce'; fn: ReduceFn; acc: Float64Array; epilogue: KernelFn }
  | { kind: 'contraction'; epilogue?: KernelFn }
  | { kind: 'conv'; conv: ConvKernel; epilogue?: KernelFn }
  | { kind: 'op'; routine: CpuRoutine; epilogue?: KernelFn }
  | { kind: 'none' };

export class CpuDeviceProgram implements DeviceProgram {
  private readonly heap: Heap & { release(): void };
  private readonly convScratch: number;
  /** Byte offset in the heap of each buffer's storage (variables: see slots). */
  private readonly offsets: number[];
  private readonly slots = new Map<number, VariableSlots>();
  private readonly compiled: Compiled[];
  /** Variable buffers written during the current run (their next slot holds the value). */
  private readonly staged = new Set<number>();

  constructor(
    readonly program: Program,
    private readonly opts: CpuDeviceOptions = {},
  ) {
    const bufs = program.buffers;
    let total = program.stats.arenaBytes;
    const place = (bytes: number) => {
      const at = total;
      total += Math.ceil(bytes / 16) * 16;
      return at;
    };
    const offsets = bufs.map((b) => (b.kind === 'temp' && b.aliasOf === undefined ? b.offset : -1));
    for (const b of bufs) {
      if (b.aliasOf !== undefined) continue;
      if (b.kind === 'const' || b.kind === 'feed') offsets[b.id] = place(b.bytes);
      if (b.kind === 'variable') this.slots.set(b.id, { offsets: [place(b.bytes), place(b.bytes)], current: 0, zero: true });
    }
    const convs = program.kernels.map((k) => planConv(k.spec, bufs));
    const scratchBytes = Math.max(0, ...convs.map((c) => c?.scratchBytes ?? 0));
    const scratch = place(scratchBytes);
    this.heap = heapFor(total, this);
    const base = this.heap.base;
    this.offsets = offsets.map((o) => (o >= 0 ? o + base : o));
    for (const s of this.slots.values()) s.offsets = [s.offsets[0] + base, s.offsets[1] + base];
    for (const b of bufs) if (b.kind === 'const' && b.aliasOf === undefined) this.view(b.id).set(b.value!.data);
    this.compiled = program.kernels.map((k, t) => this.compileKernel(k.spec, this.heap.engine ? convs[t] : undefined));
    this.convScratch = scratch + base;
  }

  /** Returns the program's memory region for reuse (also happens when it is collected). */
  dispose(): void {
    this.heap.release();
  }

  upload(id: number, data: TypedArray): void {
    const s = this.slots.get(id);
    if (s) {
      // Fresh memory costs a page fault per 4 KiB on first touch (~12 us on this VM), so the
      // zeros of Adam's moments are not copied onto zeros.
      const skip = s.zero && allZero(data);
      s.zero = false;
      if (skip) return;
    }
    this.view(id).set(data);
  }

  download(id: number): TypedArray {
    const b = this.program.buffers[id]!;
    const data = allocData(b.dtype, elems(b));
    data.set(this.view(id));
    return data;
  }

  commit(variables: readonly number[]): void {
    for (const id of variables) {
      if (!this.staged.has(id)) continue;
      const s = this.slots.get(id)!;
      s.current = s.current === 0 ? 1 : 0;
      s.zero = false;
    }
    this.staged.clear();
  }

  variableValue(id: number): Tensor {
    const b = this.program.buffers[id]!;
    return new Tensor(b.dtype, b.shape, this.view(id));
  }

  private compileKernel(s: Program['kernels'][number]['spec'], conv: ConvKernel | undefined): Compiled {
    const shapeOf = (id: number) => this.program.buffers[id]!.shape;
    const epilogueFn = (e: ScalarExpr, inputs: number[], out: number[]) => compileElementwise([e], [out, ...inputs.map(shapeOf)], out);
    switch (s.kind) {
      case 'elementwise': {
        // Flat float32 kernels of plain arithmetic run as generated WebAssembly SIMD; the rest
        // (broadcasts, views, transcendental functions, int/bool) as generated JS.
        const n = sizeOf(shapeOf(s.outputs[0]!));
        const kinds = s.inputs.map((id, j): ElementwiseInputKind | undefined =>
          s.inputViews?.[j] ? undefined : sizeOf(shapeOf(id)) === n ? 'flat' : sizeOf(shapeOf(id)) === 1 ? 'scalar' : undefined,
        );
        const f32 = [...s.inputs, ...s.outputs].every((id) => this.program.buffers[id]!.dtype === 'float32');
        const engine = this.heap.engine;
        const wasm =
          engine && f32 && kinds.every((k) => k !== undefined) ? compileWasmElementwise(engine, s.exprs, kinds as ElementwiseInputKind[]) : undefined;
        if (wasm) return { kind: 'elementwise', wasm, n };
        return { kind: 'elementwise', fn: compileElementwise(s.exprs, s.inputs.map(shapeOf), shapeOf(s.outputs[0]!), s.inputViews), n };
      }
      case 'reduce': {
        const out = shapeOf(s.output);
        return {
          kind: 'reduce',
          fn: compileReduce(s.reducer, s.prologue, s.inputs.map(shapeOf), s.inShape, s.axes),
          acc: new Float64Array(sizeOf(out)),
          epilogue: epilogueFn(s.epilogue, s.epilogueInputs, out),
        };
      }
      case 'contraction': {
        const identity = s.epilogue.kind === 'input' && s.epilogue.index === 0;
        return { kind: 'contraction', epilogue: identity ? undefined : epilogueFn(s.epilogue, s.epilogueInputs, shapeOf(s.output)) };
      }
      case 'op': {
        const epilogue = s.epilogue ? epilogueFn(s.epilogue, s.epilogueInputs ?? [], shapeOf(s.outputs[0]!)) : undefined;
        if (conv) return { kind: 'conv', conv, epilogue };
        // The fast kernel is tried once on the kernel's own (not yet live) buffers: whether it
        // handles this kernel depends on shapes, dtypes and attrs only.
        const bufs = this.program.buffers;
        const tensorOf = (id: number) => new Tensor(bufs[id]!.dtype, bufs[id]!.shape, this.view(id));
        const accepts = (fast: CpuKernel) => s.family !== 'state' && fast(s.inputs.map(tensorOf), s.outputs.map(tensorOf), s.attrs);
        return { kind: 'op', routine: cpuRoutine(s.op, accepts), epilogue };
      }
      default:
        return { kind: 'none' };
    }
  }

  /** A typed view of a buffer's storage (a variable's current slot, or `next` for writes). */
  private view(id: number, next = false): TypedArray {
    const b = this.program.buffers[id]!;
    return viewOf(b.dtype, this.heap.memory(), this.offsetOf(id, next), elems(b));
  }

  private offsetOf(id: number, next = false): number {
    const alias = this.program.buffers[id]!.aliasOf;
    if (alias !== undefined) return this.offsetOf(alias, next);
    const s = this.slots.get(id);
    if (s) return s.offsets[next ? (s.current === 0 ? 1 : 0) : s.current];
    return this.offsets[id]!;
  }

  /** Where a kernel writes buffer `id`: a variable's next slot (staged until commit), else its storage. */
  private writeOffset(id: number): number {
    if (!this.slots.has(id)) return this.offsetOf(id);
    this.staged.add(id);
    return this.offsetOf(id, true);
  }

  private writeView(id: number): TypedArray {
    if (!this.slots.has(id)) return this.view(id);
    this.staged.add(id);
    return this.view(id, true);
  }

  runKernel(t: number, run: RunContext): void {
    const bufs = this.program.buffers;
    const k = this.program.kernels[t]!;
    const s = k.spec;
    const c = this.compiled[t]!;
    if (t === 0) this.staged.clear();
    const read = (id: number) => this.view(id);
    if (s.kind === 'elementwise' && c.kind === 'elementwise') {
      if (c.wasm) {
        c.wasm.run(
          s.outputs.map((id) => this.writeOffset(id)),
          s.inputs.map((id) => this.offsetOf(id)),
          c.n,
        );
      } else {
        c.fn!(s.outputs.map((id) => this.writeView(id)) as TypedArrayLike[], s.inputs.map(read) as TypedArrayLike[]);
      }
    } else if (s.kind === 'reduce' && c.kind === 'reduce') {
      c.fn(c.acc, s.inputs.map(read) as TypedArrayLike[]);
      c.epilogue([this.writeView(s.output)] as TypedArrayLike[], [c.acc, ...s.epilogueInputs.map(read)] as TypedArrayLike[]);
    } else if (s.kind === 'contraction' && c.kind === 'contraction') {
      const [a, b, out] = [bufs[s.a]!, bufs[s.b]!, bufs[s.output]!];
      const [ar, ac] = a.shape as [number, number];
      const [, bc] = b.shape as [number, number];
      const n = out.shape[1]!;
      gemmOn(
        this.heap,
        {
          m: s.transposeA ? ac : ar,
          n,
          k: s.transposeA ? ar : ac,
          a: this.offsetOf(s.a),
          aRowStride: s.transposeA ? 1 : ac,
          aColStride: s.transposeA ? ac : 1,
          b: this.offsetOf(s.b),
          bRowStride: s.transposeB ? 1 : bc,
          bColStride: s.transposeB ? bc : 1,
          c: this.writeOffset(s.output),
          ldc: n,
        },
        this.opts.threads,
      );
      if (c.epilogue) this.applyEpilogue(c.epilogue, s.output, s.epilogueInputs);
    } else if (s.kind === 'op' && c.kind === 'conv') {
      c.conv.run(
        this.heap.engine!,
        s.inputs.map((i) => this.offsetOf(i)),
        this.writeOffset(s.outputs[0]!),
        this.convScratch,
      );
      if (c.epilogue) this.applyEpilogue(c.epilogue, s.outputs[0]!, s.epilogueInputs ?? []);
    } else if (s.kind === 'op' && c.kind === 'op') {
      const tensorOf = (id: number, data: TypedArray) => new Tensor(bufs[id]!.dtype, bufs[id]!.shape, data);
      c.routine(
        s.inputs.map((id) => tensorOf(id, read(id))),
        s.outputs.map((id) => tensorOf(id, this.writeView(id))),
        s,
        run,
        this.program.graph,
        this.variableAccess(s.inputs[0]),
      );
      if (c.epilogue) this.applyEpilogue(c.epilogue, s.outputs[0]!, s.epilogueInputs ?? []);
    }
  }

  /** A state routine's access to its variable (the kernel's first input): staged value first. */
  private variableAccess(id: number | undefined): VariableAccess {
    const slot = id === undefined ? undefined : this.slots.get(id);
    const bufs = this.program.buffers;
    return {
      read: () => {
        if (!slot) throw new KilnError('INTERNAL', `CPU device: routine reads a variable but its first input is not one`);
        return new Tensor(bufs[id!]!.dtype, bufs[id!]!.shape, this.view(id!, this.staged.has(id!)));
      },
      write: (value) => {
        if (!slot) throw new KilnError('INTERNAL', `CPU device: routine writes a variable but its first input is not one`);
        this.writeView(id!).set(value.data);
      },
    };
  }

  /** out = epilogue(out, extra inputs), in place on the kernel's (possibly staged) output. */
  private applyEpilogue(fn: KernelFn, output: number, inputs: readonly number[]): void {
    const o = this.writeView(output);
    fn([o] as TypedArrayLike[], [o, ...inputs.map((id) => this.view(id))] as TypedArrayLike[]);
  }
}
