/**
 * Runs a compiled Program on the CPU: one ArrayBuffer arena used exactly as planned, fused
 * elementwise kernels as generated JS (compiled once per Program), views as shared storage,
 * and op kernels (reductions, contractions, movement, state) through the fast CPU op-kernel
 * table when it has one, else through the reference kernel on arena views. Variables are read
 * from the committed values and writes are staged, so a failed run changes nothing.
 */
import type { Program } from '@kiln/compiler';
import { type DType, KilnError, Tensor, type TypedArray, allocData, fmtShape } from '@kiln/graph';
import { nodeRandom } from '../reference/executor.js';
import { type RefContext, getRefKernel } from '../reference/registry.js';
import { type ElementwiseFn, compileElementwise } from './js-codegen.js';
import { getCpuKernel } from './op-kernels.js';

export interface CpuRunInputs {
  feeds: ReadonlyMap<string, Tensor>;
  /** Committed variable values by variable name. */
  variables: ReadonlyMap<string, Tensor>;
  seed: number;
  checkNumerics?: boolean;
}

export interface CpuRunOutputs {
  values: (Tensor | null)[];
  /** Staged variable writes by variable name. */
  writes: Map<string, Tensor>;
}

function view(dtype: DType, buf: ArrayBuffer, offset: number, n: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf, offset, n);
    case 'int32':
      return new Int32Array(buf, offset, n);
    case 'bool':
      return new Uint8Array(buf, offset, n);
  }
}

export class CpuProgram {
  private readonly arena: ArrayBuffer;
  private readonly arenaViews: (TypedArray | undefined)[];
  private readonly fns: (ElementwiseFn | undefined)[];

  constructor(
    readonly program: Program,
    private readonly opts: { poisonFreed?: boolean } = {},
  ) {
    this.arena = new ArrayBuffer(program.stats.arenaBytes);
    this.arenaViews = program.buffers.map((b) =>
      b.kind === 'temp' && b.aliasOf === undefined ? view(b.dtype, this.arena, b.offset, b.bytes / (b.dtype === 'bool' ? 1 : 4)) : undefined,
    );
    this.fns = program.kernels.map((k) => {
      const s = k.spec;
      if (s.kind !== 'elementwise') return undefined;
      const out = program.buffers[s.output]!;
      return compileElementwise(s.expr, s.inputs.map((i) => program.buffers[i]!.shape), out.shape);
    });
  }

  run(inputs: CpuRunInputs): CpuRunOutputs {
    const { program } = this;
    const storage: TypedArray[] = new Array(program.buffers.length);
    const writes = new Map<string, Tensor>();
    const resolve = (id: number): TypedArray => {
      const have = storage[id];
      if (have) return have;
      const b = program.buffers[id]!;
      let data: TypedArray;
      if (b.aliasOf !== undefined) data = resolve(b.aliasOf);
      else if (b.kind === 'temp') data = this.arenaViews[id]!;
      else if (b.kind === 'const') data = b.value!.data;
      else if (b.kind === 'feed') {
        const t = inputs.feeds.get(b.source!);
        if (!t) throw new KilnError('MISSING_FEED', `placeholder '${b.source}' was not fed`);
        data = t.data;
      } else {
        const t = inputs.variables.get(b.source!);
        if (!t) throw new KilnError('INTERNAL', `variable '${b.source}' has no value`);
        data = t.data;
      }
      storage[id] = data;
      return data;
    };
    const tensorOf = (id: number) => new Tensor(program.buffers[id]!.dtype, program.buffers[id]!.shape, resolve(id));

    program.kernels.forEach((k, t) => {
      const s = k.spec;
      if (s.kind === 'elementwise') {
        this.fns[t]!(resolve(s.output), ...s.inputs.map(resolve));
      } else if (s.kind === 'view') {
        resolve(s.output);
      } else {
        const fast = getCpuKernel(s.op);
        const ins = s.inputs.map(tensorOf);
        if (!fast || !fast(ins, s.outputs.map(tensorOf), s.attrs)) {
          const node = program.graph.nodeByName(s.node)!;
          const ctx: RefContext = {
            node,
            random: nodeRandom(inputs.seed, node.name),
            readVariable: (v) => writes.get(v.name) ?? inputs.variables.get(v.name)!,
            writeVariable: (v, value) => void writes.set(v.name, value),
          };
          const outs = getRefKernel(s.op)(ins, s.attrs, ctx);
          s.outputs.forEach((o, i) => resolve(o).set(outs[i]!.data));
        }
      }
      if (inputs.checkNumerics) this.checkNumerics(k.id, resolve);
      if (this.opts.poisonFreed) {
        for (const id of program.frees[t]!) {
          const v = this.arenaViews[id]!;
          if (v instanceof Float32Array) v.fill(NaN);
          else v.fill(0x7f);
        }
      }
    });
    const values = program.fetches.map((id) => {
      if (id < 0) return null;
      const b = program.buffers[id]!;
      const data = allocData(b.dtype, resolve(id).length);
      data.set(resolve(id));
      return new Tensor(b.dtype, b.shape, data);
    });
    return { values, writes };
  }

  /**
   * checkNumerics on a kernel's outputs, in the reference executor's words. Sessions compile
   * unfused when checkNumerics is on, so each kernel is one node and the node is named.
   */
  private checkNumerics(kernelId: number, resolve: (id: number) => TypedArray): void {
    const k = this.program.kernels[kernelId]!;
    const s = k.spec;
    const outs = s.kind === 'op' ? s.outputs : [s.output];
    const ins = s.kind === 'view' ? [s.input] : s.inputs;
    const firstBad = (id: number) => {
      if (this.program.buffers[id]!.dtype !== 'float32') return -1;
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


