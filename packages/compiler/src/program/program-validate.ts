/**
 * Load-time safety of a compiled program (deserializeProgram runs this after program-check's
 * structural checks, before any backend touches memory). A ProgramProto's bytes are untrusted:
 * backends run contractions, convolutions and flat elementwise kernels as WebAssembly on raw
 * offsets into memory shared with other programs, sized from the buffers' shapes. So every
 * kernel must read and write exactly what its buffers hold:
 *
 * - buffers: arena temporaries at 16-byte-aligned offsets inside the arena, everything else in
 *   its own storage (offset -1); aliases are temporaries over a base buffer of the same size;
 * - kernels write only temporaries and variables (never consts, feeds or aliases);
 * - elementwise: every output has the index space's shape, inputs and strided views broadcast
 *   to it; reduce: inputs broadcast to in_shape, the output holds the kept dims; contraction:
 *   float32 rank-2 operands whose dims agree with the output; view: aliases its input;
 * - op kernels: inputs, outputs and attrs are exactly those of the graph node they name (that
 *   node was rebuilt through Graph.addNode, so its attrs passed the op's own validation:
 *   conv strides > 0 and the like);
 * - expressions read inputs of the dtype of their buffers and produce the dtype they write;
 * - the storage the program needs (arena, consts, feeds, two slots per variable) and the
 *   iterations of any index space stay under `maxBytes` (default 1 GiB, raised by the user
 *   through loadCompiled's option): over it is RESOURCE_EXHAUSTED, everything else CORRUPT_MODEL.
 */
import { type AttrValue, type Attrs, type DType, KilnError, Tensor, fmtShape, getOp, shapesEqual, sizeOf } from '@kiln/graph';
import type { ScalarExpr } from '../lower/scalar-expr.js';
import type { BufferDecl, IndexView, KernelSpec, Program } from './program.js';

/** The default limit on a loaded program's storage (bytes) and on any index space (elements). */
export const DEFAULT_MAX_PROGRAM_BYTES = 2 ** 30;
/** Arena offsets are multiples of this (the memory planner's alignment). */
export const ARENA_ALIGN = 16;

export interface ProgramLimits {
  /** The most bytes of storage a loaded program may need (default DEFAULT_MAX_PROGRAM_BYTES). */
  maxBytes?: number;
}

type Body = Omit<Program, 'toString'>;

function corrupt(message: string): never {
  throw new KilnError('CORRUPT_MODEL', message);
}

const roundUp = (n: number) => Math.ceil(n / ARENA_ALIGN) * ARENA_ALIGN;

/** The storage a backend lays out for the program, in bytes: the arena plus each non-alias buffer's own storage (variables twice: committed and next). */
export function programStorageBytes(p: Pick<Body, 'buffers' | 'stats'>): number {
  let total = roundUp(p.stats.arenaBytes);
  for (const b of p.buffers) {
    if (b.aliasOf !== undefined || b.kind === 'temp') continue;
    total += roundUp(b.bytes) * (b.kind === 'variable' ? 2 : 1);
  }
  return total;
}

/** The limit from the options, checked (a user's option: INVALID_ARGUMENT when it is not a positive integer). */
export function maxProgramBytes(limits: ProgramLimits | undefined, who: string): number {
  const v = limits?.maxBytes;
  if (v === undefined) return DEFAULT_MAX_PROGRAM_BYTES;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new KilnError('INVALID_ARGUMENT', `${who}: maxBytes must be a positive integer number of bytes, got ${String(v)}`);
  }
  return v;
}

/** True when `from` broadcasts to `to` (numpy rules, right-aligned). */
function broadcastsTo(from: readonly number[], to: readonly number[]): boolean {
  if (from.length > to.length) return false;
  const off = to.length - from.length;
  return from.every((d, i) => d === to[off + i] || d === 1);
}

/** Every input leaf of `e` reads a buffer of its own dtype; `dtypeOf(i)` is undefined for leaves that are not buffers. */
function checkLeaves(e: ScalarExpr, dtypeOf: (index: number) => DType | undefined, where: string): void {
  const stack: ScalarExpr[] = [e];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (x.kind === 'call') stack.push(...x.args);
    else if (x.kind === 'input') {
      const want = dtypeOf(x.index);
      if (want !== undefined && want !== x.dtype) corrupt(`${where}: reads %${x.index} as ${x.dtype} but the buffer is ${want}`);
    }
  }
}

function sameAttr(a: AttrValue | undefined, b: AttrValue | undefined): boolean {
  if (a instanceof Tensor || b instanceof Tensor) {
    if (!(a instanceof Tensor && b instanceof Tensor)) return false;
    if (a.dtype !== b.dtype || !shapesEqual(a.shape, b.shape) || a.data.length !== b.data.length) return false;
    for (let i = 0; i < a.data.length; i++) if (!Object.is(a.data[i], b.data[i])) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false;
    return a.every((x, i) => Object.is(x, b[i]));
  }
  return Object.is(a, b);
}

/** The first attr the op declares whose value differs between `a` and `b` (undeclared extra attrs are hints the kernels ignore). */
function differingAttr(op: string, a: Readonly<Attrs>, b: Readonly<Attrs>): string | null {
  for (const k of Object.keys(getOp(op).attrs)) if (!sameAttr(a[k], b[k])) return k;
  return null;
}

class Checker {
  readonly maxBytes: number;
  constructor(
    readonly p: Body,
    limits: ProgramLimits | undefined,
  ) {
    this.maxBytes = maxProgramBytes(limits, 'loadCompiled');
  }

  buf(id: number): BufferDecl {
    return this.p.buffers[id]!;
  }

  type(id: number): string {
    const b = this.buf(id);
    return `%b${id} ${b.dtype}${fmtShape(b.shape)}`;
  }

  placement(): void {
    const arena = this.p.stats.arenaBytes;
    for (const b of this.p.buffers) {
      const where = `buffer %b${b.id} '${b.name}'`;
      if (b.aliasOf !== undefined) {
        if (b.kind !== 'temp') corrupt(`${where}: a ${b.kind} buffer cannot alias another buffer`);
        if (b.offset !== -1) corrupt(`${where}: an alias has no storage of its own, yet it has offset ${b.offset}`);
      } else if (b.kind === 'temp') {
        if (b.offset % ARENA_ALIGN !== 0) corrupt(`${where}: arena offset ${b.offset} is not a multiple of ${ARENA_ALIGN}`);
        if (b.offset + b.bytes > arena) corrupt(`${where}: bytes [${b.offset}, ${b.offset + b.bytes}) lie outside the ${arena}-byte arena`);
      } else if (b.offset !== -1) {
        corrupt(`${where}: a ${b.kind} buffer has its own storage, yet it claims arena offset ${b.offset}`);
      }
    }
    const total = programStorageBytes(this.p);
    if (total > this.maxBytes) {
      throw new KilnError(
        'RESOURCE_EXHAUSTED',
        `loadCompiled: the program needs ${total} bytes of memory (arena ${arena} B plus constants, feeds and variables), over the limit of ${this.maxBytes} bytes; if you trust the file, pass { maxBytes: ${total} } (or more) to loadCompiled`,
      );
    }
  }

  /** A buffer a kernel writes: a temporary or a variable (an in-place update) with storage of its own. */
  writable(id: number, where: string): void {
    const b = this.buf(id);
    if (b.aliasOf !== undefined || (b.kind !== 'temp' && b.kind !== 'variable')) {
      corrupt(`${where}: writes ${this.type(id)}, a ${b.aliasOf !== undefined ? 'view alias' : b.kind} buffer (kernels write only temporaries and variables)`);
    }
  }

  broadcast(ids: readonly number[], to: readonly number[], what: string, where: string): void {
    for (const id of ids) {
      if (!broadcastsTo(this.buf(id).shape, to)) corrupt(`${where}: ${what} ${this.type(id)} does not broadcast to ${fmtShape(to)}`);
    }
  }

  space(shape: readonly number[], where: string): void {
    const n = sizeOf(shape);
    if (!Number.isSafeInteger(n) || n > this.maxBytes) {
      throw new KilnError(
        'RESOURCE_EXHAUSTED',
        `${where}: an index space of ${fmtShape(shape)} (${n} elements) is over the limit of ${this.maxBytes}; pass a larger maxBytes to loadCompiled if you trust the file`,
      );
    }
  }

  view(v: IndexView, out: readonly number[], i: number, where: string): void {
    if (!broadcastsTo(v.shape, out)) corrupt(`${where}: input view ${i} of shape ${fmtShape(v.shape)} does not broadcast to ${fmtShape(out)}`);
    if (v.strides.length !== v.shape.length) corrupt(`${where}: input view ${i} has ${v.strides.length} strides for rank ${v.shape.length}`);
    if (v.valid && v.valid.length !== v.shape.length) corrupt(`${where}: input view ${i} has ${v.valid.length} valid ranges for rank ${v.shape.length}`);
  }

  kernel(s: KernelSpec, where: string): void {
    switch (s.kind) {
      case 'elementwise': {
        const out = this.buf(s.outputs[0]!).shape;
        s.outputs.forEach((o, i) => {
          this.writable(o, where);
          if (!shapesEqual(this.buf(o).shape, out)) corrupt(`${where}: output ${i} ${this.type(o)} differs from the index space ${fmtShape(out)}`);
          if (s.exprs[i]!.dtype !== this.buf(o).dtype) corrupt(`${where}: expression ${i} gives ${s.exprs[i]!.dtype} for ${this.type(o)}`);
        });
        s.inputs.forEach((id, i) => {
          const v = s.inputViews?.[i];
          if (v) this.view(v, out, i, where);
          else this.broadcast([id], out, `input ${i}`, where);
        });
        s.exprs.forEach((e, i) => checkLeaves(e, (k) => this.buf(s.inputs[k]!).dtype, `${where} expr ${i}`));
        return;
      }
      case 'reduce': {
        const rank = s.inShape.length;
        if (new Set(s.axes).size !== s.axes.length || s.axes.some((a) => !(Number.isInteger(a) && a >= 0 && a < rank))) {
          corrupt(`${where}: axes [${s.axes.join(',')}] are not distinct axes of rank ${rank}`);
        }
        this.broadcast(s.inputs, s.inShape, 'input', where);
        this.space(s.inShape, where);
        this.writable(s.output, where);
        const kept = s.inShape.filter((_, d) => !s.axes.includes(d));
        const out = this.buf(s.output);
        if (sizeOf(out.shape) !== sizeOf(kept))
          corrupt(
            `${where}: reducing ${fmtShape(s.inShape)} over [${s.axes.join(',')}] gives ${sizeOf(kept)} elements, but the output is ${this.type(s.output)}`,
          );
        this.broadcast(s.epilogueInputs, out.shape, 'epilogue input', where);
        checkLeaves(s.prologue, (k) => this.buf(s.inputs[k]!).dtype, `${where} prologue`);
        checkLeaves(s.epilogue, (k) => (k === 0 ? undefined : this.buf(s.epilogueInputs[k - 1]!).dtype), `${where} epilogue`);
        if (s.epilogue.dtype !== out.dtype) corrupt(`${where}: the epilogue gives ${s.epilogue.dtype} for ${this.type(s.output)}`);
        return;
      }
      case 'contraction': {
        const [a, b, out] = [this.buf(s.a), this.buf(s.b), this.buf(s.output)];
        for (const [name, x] of [
          ['a', a],
          ['b', b],
          ['output', out],
        ] as const) {
          if (x.dtype !== 'float32' || x.shape.length !== 2) corrupt(`${where}: contraction ${name} ${this.type(x.id)} must be float32 of rank 2`);
        }
        this.writable(s.output, where);
        const [m, k] = s.transposeA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
        const [k2, n] = s.transposeB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
        if (k !== k2 || out.shape[0] !== m || out.shape[1] !== n) {
          corrupt(
            `${where}: matMul of ${this.type(s.a)}${s.transposeA ? 'ᵀ' : ''} and ${this.type(s.b)}${s.transposeB ? 'ᵀ' : ''} cannot write ${this.type(s.output)}`,
          );
        }
        this.broadcast(s.epilogueInputs, out.shape, 'epilogue input', where);
        checkLeaves(s.epilogue, (i) => (i === 0 ? 'float32' : this.buf(s.epilogueInputs[i - 1]!).dtype), `${where} epilogue`);
        if (s.epilogue.dtype !== 'float32') corrupt(`${where}: the epilogue gives ${s.epilogue.dtype} for a float32 output`);
        return;
      }
      case 'view': {
        const inp = this.buf(s.input);
        const out = this.buf(s.output);
        if (out.aliasOf !== (inp.aliasOf ?? inp.id)) corrupt(`${where}: view output ${this.type(s.output)} does not alias its input ${this.type(s.input)}`);
        return;
      }
      case 'op':
        this.op(s, where);
    }
  }

  op(s: Extract<KernelSpec, { kind: 'op' }>, where: string): void {
    const node = this.p.graph.nodeByName(s.node)!;
    const what = `${where}: ${s.op} '${s.node}'`;
    if (s.inputs.length !== node.inputs.length) corrupt(`${what}: ${s.inputs.length} inputs, the node has ${node.inputs.length}`);
    s.inputs.forEach((id, i) => {
      const t = node.inputs[i]!;
      const b = this.buf(id);
      if (b.dtype !== t.dtype || !shapesEqual(b.shape, t.shape))
        corrupt(`${what}: input ${i} is ${this.type(id)} but the node reads ${t.dtype}${fmtShape(t.shape)}`);
    });
    const expected = s.epilogue ? [node.output] : node.outputs;
    if (s.outputs.length !== expected.length) corrupt(`${what}: ${s.outputs.length} outputs, the node has ${expected.length}`);
    s.outputs.forEach((id, i) => {
      const t = expected[i]!;
      const b = this.buf(id);
      this.writable(id, what);
      if (b.dtype !== t.dtype || !shapesEqual(b.shape, t.shape))
        corrupt(`${what}: output ${i} is ${this.type(id)} but the node gives ${t.dtype}${fmtShape(t.shape)}`);
    });
    const differs = differingAttr(s.op, s.attrs, node.attrs);
    if (differs !== null) corrupt(`${what}: attr '${differs}' differs from the graph node's`);
    if (s.epilogue) {
      const out = this.buf(s.outputs[0]!);
      this.broadcast(s.epilogueInputs ?? [], out.shape, 'epilogue input', what);
      checkLeaves(s.epilogue, (i) => (i === 0 ? out.dtype : this.buf(s.epilogueInputs![i - 1]!).dtype), `${what} epilogue`);
      if (s.epilogue.dtype !== out.dtype) corrupt(`${what}: the epilogue gives ${s.epilogue.dtype} for ${this.type(out.id)}`);
    }
  }
}

/**
 * Checks that the (structurally valid) program can only touch its own memory and does what
 * its buffers say; see the file comment. Throws CORRUPT_MODEL, or RESOURCE_EXHAUSTED over
 * the limit.
 */
export function validateProgramSafety(p: Body, limits?: ProgramLimits): void {
  const c = new Checker(p, limits);
  c.placement();
  p.kernels.forEach((k, i) => c.kernel(k.spec, `kernel k${i}`));
}
