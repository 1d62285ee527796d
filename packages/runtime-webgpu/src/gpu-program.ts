/**
 * A Program loaded on a WebGPU device (the compiler's DeviceProgram). Storage is ONE GPU
 * buffer: the memory plan's arena as planned, then constants (written once), feed slots, and
 * two slots per variable (committed, staging). Kernels index it by element offsets passed in
 * a uniform block, so the whole Program binds one bind group, created at load with the
 * uniforms, the readback buffer and all pipelines (compiled in parallel, awaited by the
 * first run).
 *
 * A run records its work (feed writes, dispatches, poison writes between kernels) and
 * executes it at the first download, or at commit when nothing is read: the writes go by
 * writeBuffer, the dispatches into ONE command encoder, ONE submit, and ONE mapAsync reads
 * back every fetched tensor and written variable together. Kernels write variables into
 * their staging slot, and so do uploads of variable values; commit() schedules the
 * staging-to-committed copies (one copy dispatch) at the head of the next run's encoder, so a
 * run that fails changes no variable. Runs of one Program execute in
 * order (each waits for the previous one's readback).
 */
import { type BufferDecl, type DeviceProgram, type Kernel, type Program, type RunContext, kernelIO } from '@kiln/compiler';
import { type DType, KilnError, Tensor, type TypedArray, sizeOf } from '@kiln/graph';
import { COPY_REGIONS, copyKernels } from './codegen/copy-wgsl.js';
import { PARAM_SLOTS } from './codegen/wgsl-common.js';
import type { GpuContext } from './device.js';
import { generateKernel } from './kernels.js';
import { PipelineError, type PipelineCache } from './pipelines.js';

const ALIGN = 256;

/** Buffers a kernel writes, a state routine's variable (its first input) included. */
function writesOf(k: Kernel): number[] {
  const s = k.spec;
  if (s.kind === 'view') return [];
  return s.kind === 'op' && s.family === 'state' ? [s.inputs[0]!, ...s.outputs] : kernelIO(s).writes;
}
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
const UNIFORM_BLOCK = PARAM_SLOTS * 4;

type Op = { kind: 'write'; at: number; data: Uint8Array } | { kind: 'dispatch'; d: number };

/** A region to read back: element offset and count, and how to turn it into a TypedArray. */
interface Target {
  key: string;
  at: number;
  count: number;
  dtype: DType;
}

function toGpu(dtype: DType, data: TypedArray): Uint8Array {
  const words = dtype === 'bool' ? Uint32Array.from(data as Uint8Array) : data;
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
}

function fromGpu(dtype: DType, bytes: ArrayBuffer): TypedArray {
  if (dtype === 'float32') return new Float32Array(bytes);
  if (dtype === 'int32') return new Int32Array(bytes);
  return Uint8Array.from(new Uint32Array(bytes));
}

/** Shared by the device's Programs: the GPU device, its pipeline cache and its fault state. */
export interface GpuShared {
  /** Holds Dawn's GPU object alive as long as any Program of the device. */
  readonly context: GpuContext;
  readonly device: GPUDevice;
  readonly pipelines: PipelineCache;
  /** Set when the device is lost: every later operation fails with this message. */
  lost?: string;
}

export class WebGpuProgram implements DeviceProgram {
  private readonly storage: GPUBuffer;
  private readonly uniforms: GPUBuffer;
  private readonly readback: GPUBuffer | null;
  private readonly bindGroup: GPUBindGroup;
  /** Element offset of each base buffer (variables: committed slot). */
  private readonly offsets: number[];
  private readonly staging = new Map<number, number>();
  /** Per dispatch: workgroup counts (and pipelines, once compiled); per kernel: its dispatches. */
  private readonly workgroups: [number, number, number][];
  private readonly dispatchesOf: number[][];
  private pipelines: GPUComputePipeline[] = [];
  private copyPipeline: GPUComputePipeline | null = null;
  /** The first uniform block of the commit copies, and the variable set they were last written for. */
  private readonly commitBlock: number;
  private commitKey = '';
  private readonly ready: Promise<void>;
  /** The regions one run reads back: fetches and written variables' staging slots. */
  private readonly runTargets: Target[];
  private readonly readbackOffsets = new Map<string, number>();
  private readonly writtenVariables: number[];
  private ops: Op[] = [];
  private readonly pendingCommits = new Set<number>();
  private kernelsDone = false;
  private batch: Promise<Map<string, TypedArray>> | null = null;
  private batchKeys = new Set<string>();
  private chain: Promise<unknown> = Promise.resolve();
  private scratch: GPUBuffer | null = null;
  private disposed = false;

  constructor(
    readonly program: Program,
    private readonly gpu: GpuShared,
  ) {
    const bufs = program.buffers;
    const dev = gpu.device;
    // A program planned for another element width (the CPU's 1-byte bools) gets one region per
    // temporary instead of its arena plan (correct, without the plan's sharing).
    const planned = !bufs.some((b) => b.dtype === 'bool' && (program.memoryLayout?.elementBytes.bool ?? 1) !== 4);
    let total = planned ? align(program.stats.arenaBytes) : 0;
    const place = (elements: number) => {
      const at = total;
      total += align(elements * 4);
      return at / 4;
    };
    this.offsets = bufs.map((b) => (planned && b.kind === 'temp' && b.aliasOf === undefined ? b.offset / 4 : -1));
    for (const b of bufs) {
      if (b.aliasOf !== undefined || (planned && b.kind === 'temp')) continue;
      this.offsets[b.id] = place(sizeOf(b.shape));
      if (b.kind === 'variable') this.staging.set(b.id, place(sizeOf(b.shape)));
    }
    // Scratch of routines (softmax rows, ...): one region after the buffers, reused by every kernel.
    const scratchBase = total;
    let scratchEnd = total;
    let scratchAt = total;
    const stateWritten = new Set<number>();
    const placement = {
      readAt: (id: number) => this.readAt(id),
      writeAt: (id: number) => this.writeAt(id),
      stateReadAt: (id: number) => (stateWritten.has(this.base(id)) ? this.writeAt(id) : this.readAt(id)),
      scratch: (elements: number) => {
        const at = scratchAt;
        scratchAt += align(elements * 4);
        scratchEnd = Math.max(scratchEnd, scratchAt);
        return at / 4;
      },
    };
    // Dispatches in kernel order; each has its own uniform block (a dynamic offset) and pipeline.
    const generated = program.kernels.flatMap((k, t) => {
      scratchAt = scratchBase;
      const out = generateKernel(k, bufs, placement);
      for (const id of writesOf(k)) stateWritten.add(this.base(id));
      return out.filter((g) => g.workgroups[0] > 0).map((g) => ({ t, g }));
    });
    total = scratchEnd;
    const limits = dev.limits;
    const max = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    if (total > max) {
      throw new KilnError(
        'RESOURCE_EXHAUSTED',
        `WebGPU device: the program needs ${total} bytes of storage (arena ${program.stats.arenaBytes} B plus constants, feeds and two slots per variable); the adapter binds at most ${max} bytes (maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}, maxBufferSize ${limits.maxBufferSize})`,
      );
    }
    this.checkLost();
    this.storage = dev.createBuffer({ size: Math.max(total, ALIGN), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
    for (const b of bufs)
      if (b.kind === 'const' && b.aliasOf === undefined) dev.queue.writeBuffer(this.storage, this.offsets[b.id]! * 4, toGpu(b.dtype, b.value!.data));

    this.dispatchesOf = program.kernels.map(() => []);
    generated.forEach(({ t }, d) => this.dispatchesOf[t]!.push(d));
    this.workgroups = generated.map(({ g }) => g.workgroups);
    // Uniform blocks after the kernels' hold the commit copies (see copyKernels), written when the set changes.
    const variables = bufs.filter((b) => b.kind === 'variable' && b.aliasOf === undefined).length;
    this.commitBlock = generated.length;
    const blocks = Math.max(generated.length + Math.ceil(variables / COPY_REGIONS), 1);
    this.uniforms = dev.createBuffer({ size: blocks * UNIFORM_BLOCK, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const params = new Int32Array((blocks * UNIFORM_BLOCK) / 4);
    generated.forEach(({ g }, d) => params.set(g.params, (d * UNIFORM_BLOCK) / 4));
    dev.queue.writeBuffer(this.uniforms, 0, params);
    this.bindGroup = dev.createBindGroup({
      layout: gpu.pipelines.bindGroupLayout,
      entries: [
        { binding: 0, resource: { buffer: this.storage } },
        { binding: 1, resource: { buffer: this.uniforms, size: UNIFORM_BLOCK } },
      ],
    });
    const copy = variables > 0 ? gpu.pipelines.get(copyKernels([{ from: 0, to: 0, count: 0 }])[0]!.wgsl) : Promise.resolve(null);
    this.ready = Promise.all([
      ...generated.map(({ t, g }) =>
        gpu.pipelines.get(g.wgsl).catch((e: unknown) => {
          throw this.compileError(t, e);
        }),
      ),
      copy,
    ]).then((ps) => {
      this.copyPipeline = ps.pop() ?? null;
      this.pipelines = ps as GPUComputePipeline[];
    });
    this.ready.catch(() => undefined);

    const isVar = (id: number) => bufs[id]!.kind === 'variable' && bufs[id]!.aliasOf === undefined;
    this.writtenVariables = [...new Set(program.kernels.flatMap((k) => writesOf(k).filter(isVar)))];
    const targets: Target[] = [];
    for (const id of new Set(program.fetches.filter((f) => f >= 0))) targets.push(this.target(`r${id}`, this.readAt(id), bufs[id]!));
    for (const id of this.writtenVariables) targets.push(this.target(`s${id}`, this.staging.get(id)!, bufs[id]!));
    this.runTargets = targets;
    let rb = 0;
    for (const t of targets) {
      this.readbackOffsets.set(t.key, rb);
      rb += align(t.count * 4);
    }
    this.readback = rb > 0 ? dev.createBuffer({ size: rb, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }) : null;
  }

  private target(key: string, at: number, b: BufferDecl): Target {
    return { key, at, count: sizeOf(b.shape), dtype: b.dtype };
  }

  private compileError(t: number, e: unknown): KilnError {
    const k = this.program.kernels[t]!;
    const details = e instanceof PipelineError ? e.details : String((e as Error)?.message ?? e);
    return new KilnError('INTERNAL', `WebGPU: the WGSL of kernel k${k.id} (${k.spec.kind}; nodes ${k.nodes.join(', ')}) failed to compile:\n  ${details}`);
  }

  private checkLost(): void {
    if (this.gpu.lost) throw new KilnError('INTERNAL', `WebGPU device lost (${this.gpu.lost}); create a new session`);
    if (this.disposed) throw new KilnError('INTERNAL', 'WebGPU device: the program was disposed');
  }

  private base(id: number): number {
    return this.program.buffers[id]!.aliasOf ?? id;
  }

  /** Element offset where kernels read buffer `id` (a variable's committed slot). */
  readAt(id: number): number {
    return this.offsets[this.base(id)]!;
  }

  /** Element offset where kernels write buffer `id` (a variable's staging slot). */
  writeAt(id: number): number {
    const b = this.base(id);
    return this.staging.get(b) ?? this.offsets[b]!;
  }

  /** Resolves once every pipeline of the program is compiled (rejects with the first WGSL error). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  upload(id: number, data: TypedArray): void {
    this.checkLost();
    this.startRunIfFinished();
    const b = this.base(id);
    // A variable's value goes to its staging slot and is committed by the copy at the head of the run.
    const slot = this.staging.get(b);
    if (slot !== undefined) this.pendingCommits.add(b);
    this.ops.push({ kind: 'write', at: slot ?? this.offsets[b]!, data: toGpu(this.program.buffers[id]!.dtype, data).slice() });
  }

  runKernel(t: number, _run: RunContext): void {
    this.checkLost();
    if (t === 0) this.startRunIfFinished(true);
    for (const d of this.dispatchesOf[t]!) this.ops.push({ kind: 'dispatch', d });
    if (t === this.program.kernels.length - 1) this.kernelsDone = true;
  }

  download(id: number): Promise<TypedArray> {
    this.checkLost();
    return this.read(`r${id}`, this.readAt(id), this.program.buffers[id]!);
  }

  commit(variables: readonly number[]): void {
    this.checkLost();
    if (this.ops.length > 0 || !this.batch) {
      // Nothing was read back: execute the run now (reading the written variables).
      this.flush(this.kernelsDone || this.program.kernels.length === 0 ? this.runTargets.filter((t) => t.key.startsWith('s')) : []);
    }
    for (const id of variables) if (this.writtenVariables.includes(this.base(id))) this.pendingCommits.add(this.base(id));
    this.kernelsDone = false;
    this.finished = true;
  }

  variableValue(id: number): Promise<Tensor> {
    const b = this.program.buffers[id]!;
    const staged = this.batchKeys.has(`s${this.base(id)}`);
    const data = staged ? this.read(`s${this.base(id)}`, this.writeAt(id), b) : this.read(`r${id}`, this.readAt(id), b);
    return data.then((d) => new Tensor(b.dtype, b.shape, d));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const bufs = [this.storage, this.uniforms, this.readback, this.scratch];
    // Destroy after the last queued run so no mapAsync is left pending on a destroyed buffer.
    void this.chain.finally(() => bufs.forEach((b) => b?.destroy()));
  }

  /** Set by commit: the next upload or kernel starts a new run (the previous readback is dropped). */
  private finished = false;

  private startRunIfFinished(force = false): void {
    if (this.finished || (force && this.kernelsDone)) {
      this.finished = false;
      this.batch = null;
      this.batchKeys = new Set();
      this.kernelsDone = false;
    }
  }

  /** The data of a region: from this run's readback, or a new flush reading it (with the run's targets when its kernels are done). */
  private read(key: string, at: number, b: BufferDecl): Promise<TypedArray> {
    if (this.batch && this.batchKeys.has(key) && this.ops.length === 0) return this.batch.then((m) => m.get(key)!);
    const own = this.target(key, at, b);
    const targets = this.kernelsDone ? [...this.runTargets.filter((t) => t.key !== key), own] : [own];
    return this.flush(targets).then((m) => m.get(key)!);
  }

  /** Executes the recorded work in one encoder and one submit, reading `targets` back with one mapAsync. */
  private flush(targets: Target[]): Promise<Map<string, TypedArray>> {
    const ops = this.ops;
    this.ops = [];
    const commits = [...this.pendingCommits];
    this.pendingCommits.clear();
    const prev = this.chain;
    const p = (async () => {
      await prev.catch(() => undefined);
      await this.ready;
      this.checkLost();
      return this.execute(ops, commits, targets);
    })();
    this.chain = p.catch(() => undefined);
    this.batch = p;
    this.batchKeys = new Set(targets.map((t) => t.key));
    return p;
  }

  private async execute(ops: Op[], commits: number[], targets: Target[]): Promise<Map<string, TypedArray>> {
    const dev = this.gpu.device;
    const bufs = this.program.buffers;
    dev.pushErrorScope('out-of-memory');
    dev.pushErrorScope('validation');
    const firstDispatch = ops.findIndex((o) => o.kind === 'dispatch');
    const late = firstDispatch < 0 ? [] : ops.slice(firstDispatch).filter((o): o is Op & { kind: 'write' } => o.kind === 'write');
    const lateBytes = late.reduce((s, o) => s + align(o.data.byteLength), 0);
    if (lateBytes > 0 && (!this.scratch || this.scratch.size < lateBytes)) {
      this.scratch?.destroy();
      this.scratch = dev.createBuffer({ size: lateBytes, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    }
    const enc = dev.createCommandEncoder();
    let pass: GPUComputePassEncoder | null = null;
    if (commits.length > 0) {
      const sorted = [...commits].sort((a, b) => a - b);
      const copies = copyKernels(sorted.map((id) => ({ from: this.staging.get(id)!, to: this.offsets[id]!, count: sizeOf(bufs[id]!.shape) })));
      const key = sorted.join(',');
      if (key !== this.commitKey) {
        const params = new Int32Array((copies.length * UNIFORM_BLOCK) / 4);
        copies.forEach((c, i) => params.set(c.params, (i * UNIFORM_BLOCK) / 4));
        dev.queue.writeBuffer(this.uniforms, this.commitBlock * UNIFORM_BLOCK, params);
        this.commitKey = key;
      }
      pass = enc.beginComputePass();
      pass.setPipeline(this.copyPipeline!);
      copies.forEach((c, i) => {
        if (c.workgroups[0] === 0) return;
        pass!.setBindGroup(0, this.bindGroup, [(this.commitBlock + i) * UNIFORM_BLOCK]);
        pass!.dispatchWorkgroups(...c.workgroups);
      });
    }
    let scratchAt = 0;
    for (const [i, op] of ops.entries()) {
      if (op.kind === 'write') {
        if (firstDispatch < 0 || i < firstDispatch) {
          dev.queue.writeBuffer(this.storage, op.at * 4, op.data);
          continue;
        }
        // A write between kernels (poison): staged in scratch, copied in order.
        pass?.end();
        pass = null;
        dev.queue.writeBuffer(this.scratch!, scratchAt, op.data);
        enc.copyBufferToBuffer(this.scratch!, scratchAt, this.storage, op.at * 4, op.data.byteLength);
        scratchAt += align(op.data.byteLength);
        continue;
      }
      pass ??= enc.beginComputePass();
      pass.setPipeline(this.pipelines[op.d]!);
      pass.setBindGroup(0, this.bindGroup, [op.d * UNIFORM_BLOCK]);
      const [x, y, z] = this.workgroups[op.d]!;
      pass.dispatchWorkgroups(x, y, z);
    }
    pass?.end();
    const own = targets.some((t) => !this.readbackOffsets.has(t.key) || !this.runTargets.some((r) => r.key === t.key));
    let rbSize = 0;
    const rbAt = new Map<string, number>();
    for (const t of targets) {
      rbAt.set(t.key, own ? rbSize : this.readbackOffsets.get(t.key)!);
      rbSize += align(t.count * 4);
    }
    const rb =
      targets.length === 0 ? null : own ? dev.createBuffer({ size: rbSize, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }) : this.readback!;
    for (const t of targets) if (t.count > 0) enc.copyBufferToBuffer(this.storage, t.at * 4, rb!, rbAt.get(t.key)!, t.count * 4);
    dev.queue.submit([enc.finish()]);
    const validation = await dev.popErrorScope();
    const oom = await dev.popErrorScope();
    if (oom) throw new KilnError('RESOURCE_EXHAUSTED', `WebGPU: out of memory running the program: ${oom.message}`);
    if (validation) throw new KilnError('INTERNAL', `WebGPU: the run was rejected: ${validation.message}`);
    const out = new Map<string, TypedArray>();
    if (!rb) return out;
    try {
      await rb.mapAsync(GPUMapMode.READ);
      this.checkLost();
      for (const t of targets) {
        const at = rbAt.get(t.key)!;
        out.set(t.key, fromGpu(t.dtype, rb.getMappedRange(at, align(t.count * 4)).slice(0, t.count * 4)));
      }
      rb.unmap();
    } finally {
      if (own) rb.destroy();
    }
    return out;
  }
}
