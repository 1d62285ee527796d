/**
 * Runs a compiled Program on the CPU. All storage is one linear memory laid out once per
 * Program: the arena (temporaries, used exactly as planned), constants (copied in once),
 * feed slots, and two slots per variable. Kernels: generated WebAssembly SIMD for flat
 * float32 elementwise kernels, generated JS for the other elementwise kernels and for
 * reductions (compiled once, cached by source), the SIMD engine for contractions and
 * convolutions (then the epilogue on the result), fast op kernels where registered, else the
 * reference kernel.
 *
 * Variables are double-buffered: kernels read the committed slot and in-place updates write
 * the other one, so kernels may run in any dependency order and a failed run changes nothing.
 * On success the written slots become current and come back as `writes` (Tensors viewing the
 * slot); when the Session passes that same Tensor next run, no copy is made. Those Tensors are
 * live views: the run after next overwrites them, and the memory is reused once the program is
 * disposed or collected, so a caller other than the Session must copy what it keeps.
 */
import { type BufferDecl, type Program, kernelIO } from '@kiln/compiler';
import { type DType, KilnError, Tensor, type TypedArray, allocData, fmtShape, sizeOf } from '@kiln/graph';
import { nodeRandom } from '../reference/executor.js';
import { type RefContext, getRefKernel } from '../reference/registry.js';
import { type KernelFn, type ReduceFn, type TypedArrayLike, compileElementwise, compileReduce } from './js-codegen.js';
import { getCpuKernel } from './op-kernels.js';
import { type ConvKernel, planConv } from './conv-kernels.js';
import { type ElementwiseInputKind, type WasmElementwise, compileWasmElementwise } from './wasm-codegen/elementwise-wasm.js';
import { type Heap, gemmOn, heapFor } from './heap.js';

export interface CpuRunInputs {
  feeds: ReadonlyMap<string, Tensor>;
  /** Committed variable values by variable name. */
  variables: ReadonlyMap<string, Tensor>;
  seed: number;
  checkNumerics?: boolean;
}

export interface CpuRunOutputs {
  values: (Tensor | null)[];
  /** Variable writes by variable name (the Session commits them). */
  writes: Map<string, Tensor>;
}

export interface CpuProgramOptions {
  /** Fill freed arena regions with NaN after their last use (catches planning bugs). */
  poisonFreed?: boolean;
  /** Threads for large contractions (default: all the engine has, min(2, cores)). */
  threads?: number;
  /** Record each kernel's wall time of the last run in `lastProfile` (milliseconds). */
  profile?: boolean;
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
  /** The Tensor whose contents the current slot holds (skip the copy when passed again). */
  lastSeen?: Tensor;
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
  | { kind: 'contraction' | 'op'; epilogue?: KernelFn }
  | { kind: 'none' };

export class CpuProgram {
  private readonly heap: Heap & { release(): void };
  /** Per kernel: the engine's convolution for conv ops (when the engine is there). */
  private readonly convs: (ConvKernel | undefined)[];
  private readonly convScratch: number;
  /** Byte offset in the heap of each buffer's storage (variables: see slots). */
  private readonly offsets: number[];
  private readonly slots = new Map<number, VariableSlots>();
  private readonly compiled: Compiled[];
  /** Per-kernel milliseconds of the last run (with the `profile` option). */
  lastProfile: number[] = [];

  constructor(
    readonly program: Program,
    private readonly opts: CpuProgramOptions = {},
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
    this.compiled = program.kernels.map((k) => this.compileKernel(k.spec));
    this.convs = this.heap.engine ? convs : convs.map(() => undefined);
    this.convScratch = scratch + base;
  }

  /** Returns the program's memory region for reuse (also happens when it is collected). */
  dispose(): void {
    this.heap.release();
  }

  private compileKernel(s: Program['kernels'][number]['spec']): Compiled {
    const shapeOf = (id: number) => this.program.buffers[id]!.shape;
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
        const wasm = engine && f32 && kinds.every((k) => k !== undefined) ? compileWasmElementwise(engine, s.exprs, kinds as ElementwiseInputKind[]) : undefined;
        if (wasm) return { kind: 'elementwise', wasm, n };
        return { kind: 'elementwise', fn: compileElementwise(s.exprs, s.inputs.map(shapeOf), shapeOf(s.outputs[0]!), s.inputViews), n };
      }
      case 'reduce': {
        const out = shapeOf(s.output);
        return {
          kind: 'reduce',
          fn: compileReduce(s.reducer, s.prologue, s.inputs.map(shapeOf), s.inShape, s.axes),
          acc: new Float64Array(sizeOf(out)),
          epilogue: compileElementwise([s.epilogue], [out, ...s.epilogueInputs.map(shapeOf)], out),
        };
      }
      case 'contraction': {
        const out = shapeOf(s.output);
        const identity = s.epilogue.kind === 'input' && s.epilogue.index === 0;
        return { kind: 'contraction', epilogue: identity ? undefined : compileElementwise([s.epilogue], [out, ...s.epilogueInputs.map(shapeOf)], out) };
      }
      case 'op': {
        if (!s.epilogue) return { kind: 'none' };
        const out = shapeOf(s.outputs[0]!);
        return { kind: 'op', epilogue: compileElementwise([s.epilogue], [out, ...(s.epilogueInputs ?? []).map(shapeOf)], out) };
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

  run(inputs: CpuRunInputs): CpuRunOutputs {
    const { program } = this;
    const bufs = program.buffers;
    const writes = new Map<string, Tensor>();
    // Bring feeds and variables into their slots.
    for (const f of program.feeds) {
      const t = inputs.feeds.get(f.name);
      if (!t) throw new KilnError('MISSING_FEED', `placeholder '${f.name}' was not fed`);
      this.view(f.buffer).set(t.data);
    }
    for (const [id, s] of this.slots) {
      const t = inputs.variables.get(bufs[id]!.source!);
      if (!t) throw new KilnError('INTERNAL', `variable '${bufs[id]!.source}' has no value`);
      if (t !== s.lastSeen) {
        // Fresh memory costs a page fault per 4 KiB on first touch (~12 us on this VM), so the
        // zeros of Adam's moments are not copied onto zeros.
        if (!(s.zero && allZero(t.data))) this.view(id).set(t.data);
        s.zero = false;
        s.lastSeen = t;
      }
    }
    const views = new Map<number, TypedArray>();
    const read = (id: number): TypedArray => {
      let v = views.get(id);
      if (!v) views.set(id, (v = this.view(id)));
      return v;
    };
    const written = new Set<number>();
    const write = (id: number): TypedArray => {
      if (this.slots.has(id)) {
        written.add(id);
        return this.view(id, true);
      }
      return read(id);
    };
    const tensorOf = (id: number, data: TypedArray) => new Tensor(bufs[id]!.dtype, bufs[id]!.shape, data);

    const profile = this.opts.profile === true;
    if (profile) this.lastProfile = [];
    program.kernels.forEach((k, t) => {
      const s = k.spec;
      const c = this.compiled[t]!;
      const t0 = profile ? performance.now() : 0;
      if (s.kind === 'elementwise' && c.kind === 'elementwise') {
        if (c.wasm) {
          const outs = s.outputs.map((id) => {
            if (!this.slots.has(id)) return this.offsetOf(id);
            written.add(id);
            return this.offsetOf(id, true);
          });
          c.wasm.run(outs, s.inputs.map((id) => this.offsetOf(id)), c.n);
        } else {
          c.fn!(s.outputs.map(write) as TypedArrayLike[], s.inputs.map(read) as TypedArrayLike[]);
        }
      } else if (s.kind === 'reduce' && c.kind === 'reduce') {
        c.fn(c.acc, s.inputs.map(read) as TypedArrayLike[]);
        c.epilogue([write(s.output)] as TypedArrayLike[], [c.acc, ...s.epilogueInputs.map(read)] as TypedArrayLike[]);
      } else if (s.kind === 'contraction' && c.kind === 'contraction') {
        const [a, b, out] = [bufs[s.a]!, bufs[s.b]!, bufs[s.output]!];
        const [ar, ac] = a.shape as [number, number];
        const [, bc] = b.shape as [number, number];
        const m = s.transposeA ? ac : ar;
        const kk = s.transposeA ? ar : ac;
        const n = out.shape[1]!;
        gemmOn(this.heap, {
          m,
          n,
          k: kk,
          a: this.offsetOf(s.a),
          aRowStride: s.transposeA ? 1 : ac,
          aColStride: s.transposeA ? ac : 1,
          b: this.offsetOf(s.b),
          bRowStride: s.transposeB ? 1 : bc,
          bColStride: s.transposeB ? bc : 1,
          c: this.offsetOf(s.output, this.slots.has(s.output)),
          ldc: n,
        }, this.opts.threads);
        if (c.epilogue) {
          const o = write(s.output);
          c.epilogue([o] as TypedArrayLike[], [o, ...s.epilogueInputs.map(read)] as TypedArrayLike[]);
        }
      } else if (s.kind === 'op' && this.convs[t]) {
        this.convs[t]!.run(this.heap.engine!, s.inputs.map((i) => this.offsetOf(i)), this.offsetOf(s.outputs[0]!), this.convScratch);
      } else if (s.kind === 'op') {
        const fast = getCpuKernel(s.op);
        const ins = s.inputs.map((id) => tensorOf(id, read(id)));
        if (!fast || !fast(ins, s.outputs.map((id) => tensorOf(id, write(id))), s.attrs)) {
          const node = program.graph.nodeByName(s.node)!;
          const ctx: RefContext = {
            node,
            random: nodeRandom(inputs.seed, node.name),
            readVariable: (v) => writes.get(v.name) ?? inputs.variables.get(v.name)!,
            writeVariable: (v, value) => void writes.set(v.name, value),
          };
          const outs = getRefKernel(s.op)(ins, s.attrs, ctx);
          s.outputs.forEach((o, i) => write(o).set(outs[i]!.data));
        }
      }
      if (s.kind === 'op' && c.kind === 'op' && c.epilogue) {
        const o = write(s.outputs[0]!);
        c.epilogue([o] as TypedArrayLike[], [o, ...(s.epilogueInputs ?? []).map(read)] as TypedArrayLike[]);
      }
      if (profile) this.lastProfile.push(performance.now() - t0);
      if (inputs.checkNumerics) this.checkNumerics(k.id, read);
      if (this.opts.poisonFreed) {
        for (const id of program.frees[t]!) {
          const v = read(id);
          if (v instanceof Float32Array) v.fill(NaN);
          else v.fill(0x7f);
        }
      }
    });
    const values = program.fetches.map((id) => {
      if (id < 0) return null;
      const b = bufs[id]!;
      const data = allocData(b.dtype, elems(b));
      data.set(read(id));
      return new Tensor(b.dtype, b.shape, data);
    });
    // Success: the written slots become current.
    for (const id of written) {
      const s = this.slots.get(id)!;
      s.current = s.current === 0 ? 1 : 0;
      const value = tensorOf(id, this.view(id));
      s.lastSeen = value;
      s.zero = false;
      writes.set(bufs[id]!.source!, value);
    }
    return { values, writes };
  }

  /**
   * checkNumerics on a kernel's outputs, in the reference executor's words. Sessions compile
   * unfused when checkNumerics is on, so each kernel is one node and the node is named.
   */
  private checkNumerics(kernelId: number, resolve: (id: number) => TypedArray): void {
    const k = this.program.kernels[kernelId]!;
    const s = k.spec;
    const { reads: ins, writes: outs } = kernelIO(s);
    const firstBad = (id: number) => {
      if (this.program.buffers[id]!.dtype !== 'float32' || this.slots.has(id)) return -1;
      const d = resolve(id);
      for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return i;
      return -1;
    };
    outs.forEach((o, oi) => {
      const at = firstBad(o);
      if (at < 0) return;
      const b = this.program.buffers[o]!;
      const nodeName = k.nodes[k.nodes.length - 1]!;
      const op = this.program.graph.nodeByName(nodeName)?.op ?? (s.kind === 'op' ? s.op : 'kernel');
      const bad = ins.filter((i) => firstBad(i) >= 0).map((i) => `'${this.program.buffers[i]!.name}'`);
      const origin = bad.length ? `input ${bad.join(', ')} already held NaN/Infinity` : 'all its inputs were finite';
      throw new KilnError(
        'NUMERIC_ERROR',
        `${op} '${nodeName}' produced ${resolve(o)[at]} at flat index ${at} of output ${oi} (${b.dtype}${fmtShape(b.shape)}); ${origin}`,
      );
    });
  }
}
