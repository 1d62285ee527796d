/**
 * WebAssembly SIMD code generation for flat float32 elementwise kernels. A kernel (one
 * ScalarExpr per output, every input either flat — one element per output element — or a
 * scalar broadcast) becomes one exported function kernel(out0.., in0.., n) over the engine's
 * shared memory (all arguments byte offsets, n elements): a loop of four lanes at a time with
 * v128 loads and stores, then a scalar tail. Scalar inputs and constants are splat once before
 * the loop; a subexpression used more than once (within or across outputs) is computed once
 * per iteration and kept in a local; every value of an index is computed before any output is
 * stored, so an output may share storage with a same-shape input.
 *
 * Only functions whose wasm instruction gives exactly the float32-per-op result of the
 * reference are accepted: add sub mul div neg abs max min sqrt floor ceil trunc, comparisons
 * lt le eq ne as the condition of a select (f32x4 compare + v128.bitselect), select, and
 * constants. f32x4.min/max propagate NaN and order -0 < +0, as Math.min/Math.max do. Anything
 * else (exp, log, int32 or bool values) is not eligible: compileWasmElementwise returns
 * undefined and the JS path runs. Single-threaded.
 */
import { KilnError } from '@kiln/graph';
import { type ScalarExpr, type ScalarFn, internExprs, postorder, structuralKey, useCounts } from '@kiln/compiler';
import type { GemmEngine } from '../wasm/gemm-engine.js';
import { wasm, type WasmModule } from '../wasm/wasm-api.js';
import { ByteWriter, BLOCK_VOID, F32, I32, Op, Simd, V128, type ValType, singleFunctionModule } from './wasm-binary.js';

export type ElementwiseInputKind = 'flat' | 'scalar';

export interface WasmElementwise {
  /**
   * Writes elements [lo, hi) (default [0, n)) of every output. outOffsets/inOffsets: byte
   * offsets in the engine's memory of element 0 of each output / input (a scalar input's
   * single element).
   */
  run(outOffsets: readonly number[], inOffsets: readonly number[], n: number, lo?: number, hi?: number): void;
}

type Call = ScalarExpr & { kind: 'call' };

/** Float32 functions and their instruction in each mode. */
const UNARY: Partial<Record<ScalarFn, [number, number]>> = {
  neg: [Simd.f32x4Neg, Op.f32Neg],
  abs: [Simd.f32x4Abs, Op.f32Abs],
  sqrt: [Simd.f32x4Sqrt, Op.f32Sqrt],
  floor: [Simd.f32x4Floor, Op.f32Floor],
  ceil: [Simd.f32x4Ceil, Op.f32Ceil],
  trunc: [Simd.f32x4Trunc, Op.f32Trunc],
};
const BINARY: Partial<Record<ScalarFn, [number, number]>> = {
  add: [Simd.f32x4Add, Op.f32Add],
  sub: [Simd.f32x4Sub, Op.f32Sub],
  mul: [Simd.f32x4Mul, Op.f32Mul],
  div: [Simd.f32x4Div, Op.f32Div],
  max: [Simd.f32x4Max, Op.f32Max],
  min: [Simd.f32x4Min, Op.f32Min],
};
/** Comparisons: a lane mask (vector) or an i32 0/1 (scalar); used only as select conditions. */
const COMPARE: Partial<Record<ScalarFn, [number, number]>> = {
  lt: [Simd.f32x4Lt, Op.f32Lt],
  le: [Simd.f32x4Le, Op.f32Le],
  eq: [Simd.f32x4Eq, Op.f32Eq],
  ne: [Simd.f32x4Ne, Op.f32Ne],
};

/** A float32 const's identity: its float32 bits (so 0 and -0, or two NaNs, stay apart). */
function constKey(v: number): string {
  return `c${new Uint32Array(new Float32Array([v]).buffer)[0]!.toString(16)}`;
}

/**
 * Whether every node is something this generator renders exactly: per distinct node (the
 * expressions are DAGs), bottom-up, whether it is a float32 value and whether it can be a
 * select condition (a float32 comparison, or a value tested !== 0).
 */
function eligible(roots: readonly ScalarExpr[], inputs: readonly ElementwiseInputKind[]): boolean {
  const value = new Map<ScalarExpr, boolean>();
  const cond = new Map<ScalarExpr, boolean>();
  for (const e of postorder(roots)) {
    let v = false;
    let c = false;
    if (e.kind === 'input') v = e.dtype === 'float32' && e.index >= 0 && e.index < inputs.length;
    else if (e.kind === 'const') v = e.dtype === 'float32';
    else if (COMPARE[e.fn]) c = e.dtype === 'bool' && e.args.length === 2 && e.args.every((a) => value.get(a));
    else if (e.dtype === 'float32') {
      const arity = UNARY[e.fn] ? 1 : BINARY[e.fn] ? 2 : e.fn === 'select' ? 3 : 0;
      if (arity > 0 && e.args.length === arity) {
        v = e.fn === 'select' ? cond.get(e.args[0]!)! && value.get(e.args[1]!)! && value.get(e.args[2]!)! : e.args.every((a) => value.get(a));
      }
    }
    value.set(e, v);
    cond.set(e, c || v);
  }
  return roots.every((r) => value.get(r));
}

/** Whether compileWasmElementwise accepts this kernel. */
export function isWasmElementwiseEligible(exprs: readonly ScalarExpr[], inputs: readonly ElementwiseInputKind[]): boolean {
  return exprs.length > 0 && inputs.every((k) => k === 'flat' || k === 'scalar') && eligible(exprs, inputs);
}

/** One step of the iterative emitter: push a node's value, apply its instruction, or test a condition. */
type Task = { visit: ScalarExpr } | { apply: Call } | { condTail: ScalarExpr };

/** Generates the code of one kernel into a function body. */
class KernelWriter {
  readonly code = new ByteWriter();
  readonly locals: ValType[] = [];
  /** The expressions, hash-consed: structurally equal subexpressions are one node. */
  private readonly exprs: readonly ScalarExpr[];
  /** Uses of each distinct node (references from distinct parents, and roots). */
  private readonly uses: Map<ScalarExpr, number>;
  private readonly usedInputs = new Set<number>();
  private readonly params: number;
  private readonly pIndex: number;
  private readonly pEnd4: number;
  private readonly pEnd: number;
  /** Per mode: the local holding each scalar input, each vector constant. */
  private readonly scalarLocal = { v: new Map<number, number>(), s: new Map<number, number>() };
  private readonly constLocal = new Map<string, number>();
  /** node -> local, for the loop body being emitted. */
  private bound = new Map<ScalarExpr, number>();
  private mode: 'v' | 's' = 'v';

  constructor(
    exprs: readonly ScalarExpr[],
    private readonly inputs: readonly ElementwiseInputKind[],
  ) {
    this.exprs = internExprs(exprs);
    this.uses = useCounts(this.exprs);
    for (const e of this.uses.keys()) if (e.kind === 'input') this.usedInputs.add(e.index);
    this.params = exprs.length + inputs.length + 1;
    this.pIndex = this.local(I32);
    this.pEnd4 = this.local(I32);
    this.pEnd = this.local(I32);
  }

  private local(t: ValType): number {
    this.locals.push(t);
    return this.params + this.locals.length - 1;
  }

  private outParam(k: number): number {
    return k;
  }

  private inParam(i: number): number {
    return this.exprs.length + i;
  }

  /** The whole function body. */
  build(): ByteWriter {
    const c = this.code;
    const nParam = this.params - 1;
    // end = n * 4 bytes; end4 = (n & ~3) * 4.
    c.get(nParam).i32Const(2).op(Op.i32Shl).set(this.pEnd);
    c.get(nParam).i32Const(-4).op(Op.i32And).i32Const(2).op(Op.i32Shl).set(this.pEnd4);
    // Scalar inputs: splat once (vector loop) and load once (tail).
    this.inputs.forEach((kind, i) => {
      if (kind !== 'scalar' || !this.used(i)) return;
      const v = this.local(V128);
      c.get(this.inParam(i)).simd(Simd.v128Load32Splat).memarg(2).set(v);
      this.scalarLocal.v.set(i, v);
      const s = this.local(F32);
      c.get(this.inParam(i)).op(Op.f32Load).memarg(2).set(s);
      this.scalarLocal.s.set(i, s);
    });
    this.loop('v', this.pEnd4, 16);
    this.loop('s', this.pEnd, 4);
    return c;
  }

  private used(input: number): boolean {
    return this.usedInputs.has(input);
  }

  /** while (i < end) { body; i += step } as block { br_if i >= end; loop { body; i += step; br_if i < end } }. */
  private loop(mode: 'v' | 's', end: number, step: number): void {
    const c = this.code;
    this.mode = mode;
    this.bound = new Map();
    c.op(Op.block).u8(BLOCK_VOID);
    c.get(this.pIndex).get(end).op(Op.i32GeU).op(Op.brIf).u32(0);
    c.op(Op.loop).u8(BLOCK_VOID);
    this.body();
    c.get(this.pIndex).i32Const(step).op(Op.i32Add).tee(this.pIndex);
    c.get(end).op(Op.i32LtU).op(Op.brIf).u32(0);
    c.op(Op.end).op(Op.end);
  }

  /** One iteration: every output value, then every store. */
  private body(): void {
    const c = this.code;
    const vec = this.mode === 'v';
    const store = () => (vec ? c.simd(Simd.v128Store).memarg(2) : c.op(Op.f32Store).memarg(2));
    if (this.exprs.length === 1) {
      this.address(this.outParam(0));
      this.value(this.exprs[0]!);
      store();
      return;
    }
    const values = this.exprs.map((e) => {
      this.value(e);
      const l = this.local(vec ? V128 : F32);
      c.set(l);
      return l;
    });
    values.forEach((l, k) => {
      this.address(this.outParam(k));
      c.get(l);
      store();
    });
  }

  private address(param: number): void {
    this.code.get(param).get(this.pIndex).op(Op.i32Add);
  }

  /**
   * Pushes the value of e (v128 or f32). Iterative: a shared node (used more than once) is
   * computed at its first use and kept in a local (tee), later uses read the local; a node used
   * once is computed where it is used, so every node is computed once per iteration.
   */
  private value(root: ScalarExpr): void {
    const c = this.code;
    const vec = this.mode === 'v';
    const stack: Task[] = [{ visit: root }];
    while (stack.length > 0) {
      const t = stack.pop()!;
      if ('apply' in t) {
        const type = this.apply(t.apply);
        if ((this.uses.get(t.apply) ?? 0) > 1) this.bind(t.apply, type);
        continue;
      }
      if ('condTail' in t) {
        // A value used as a condition: value !== 0 (a comparison is its own mask).
        if (vec) c.get(this.vectorConst(0)).simd(Simd.f32x4Ne);
        else c.f32Const(0).op(Op.f32Ne);
        continue;
      }
      const e = t.visit;
      if (e.kind === 'const') {
        if (vec) c.get(this.vectorConst(e.value));
        else c.f32Const(e.value);
        continue;
      }
      if (e.kind === 'input' && this.inputs[e.index] === 'scalar') {
        c.get((vec ? this.scalarLocal.v : this.scalarLocal.s).get(e.index)!);
        continue;
      }
      const have = this.bound.get(e);
      if (have !== undefined) {
        c.get(have);
        continue;
      }
      if (e.kind === 'input') {
        this.address(this.inParam(e.index));
        if (vec) c.simd(Simd.v128Load).memarg(2);
        else c.op(Op.f32Load).memarg(2);
        if ((this.uses.get(e) ?? 0) > 1) this.bind(e, vec ? V128 : F32);
        continue;
      }
      // Arguments are pushed in reverse so they are visited (and their values pushed) in order.
      stack.push({ apply: e });
      if (e.fn === 'select') {
        const cnd = e.args[0]!;
        if (!(cnd.kind === 'call' && COMPARE[cnd.fn])) stack.push({ condTail: cnd });
        stack.push({ visit: cnd }, { visit: e.args[2]! }, { visit: e.args[1]! });
      } else {
        for (let i = e.args.length - 1; i >= 0; i--) stack.push({ visit: e.args[i]! });
      }
    }
  }

  /** Keeps the value on top of the stack in a new local (tee) for later uses of `e`. */
  private bind(e: ScalarExpr, type: ValType): void {
    const l = this.local(type);
    this.code.tee(l);
    this.bound.set(e, l);
  }

  /** Applies a call's instruction to its argument values on the stack; returns its type (comparisons: v128 mask or i32). */
  private apply(e: Call): ValType {
    const c = this.code;
    const vec = this.mode === 'v';
    const emit = (ops: [number, number]) => (vec ? c.simd(ops[0]) : c.op(ops[1]));
    const un = UNARY[e.fn];
    const bin = BINARY[e.fn] ?? COMPARE[e.fn];
    if (un) emit(un);
    else if (bin) {
      emit(bin);
      if (COMPARE[e.fn]) return vec ? V128 : I32;
    } else if (e.fn === 'select') {
      if (vec) c.simd(Simd.v128Bitselect);
      else c.op(Op.select);
    } else {
      throw new KilnError('INTERNAL', `elementwise wasm: ${e.fn} is not supported (the eligibility check missed it)`);
    }
    return vec ? V128 : F32;
  }

  /** A v128 local holding `v` in four lanes, set before the loops. */
  private vectorConst(v: number): number {
    const k = constKey(v);
    let l = this.constLocal.get(k);
    if (l === undefined) {
      l = this.local(V128);
      this.constLocal.set(k, l);
      // Set at function entry: prepend to the code emitted so far.
      this.prelude.f32x4Const(v).set(l);
    }
    return l;
  }

  /** Constant splats, emitted before everything else in the function. */
  readonly prelude = new ByteWriter();
}

/** The binary of a kernel's module (exported as `kernel`). */
export function elementwiseWasmBinary(exprs: readonly ScalarExpr[], inputs: readonly ElementwiseInputKind[]): Uint8Array {
  const w = new KernelWriter(exprs, inputs);
  const code = w.build();
  const body = new ByteWriter().append(w.prelude).append(code);
  const params: ValType[] = new Array<ValType>(exprs.length + inputs.length + 1).fill(I32);
  return singleFunctionModule({ params, locals: w.locals, body, exportName: 'kernel' }, { initial: 1, maximum: 65536 });
}

/** Compiled modules by kernel key (process-wide; a module is memory-independent). */
const modules = new Map<string, WasmModule>();
const MODULE_CACHE_LIMIT = 1024;
/** Per engine: kernels instantiated on its memory, by kernel key. */
const instances = new WeakMap<GemmEngine, Map<string, WasmElementwise>>();

function kernelKey(exprs: readonly ScalarExpr[], inputs: readonly ElementwiseInputKind[]): string {
  return `${structuralKey(exprs)}|${inputs.map((k) => (k === 'flat' ? 'f' : 's')).join('')}`;
}

function moduleFor(key: string, exprs: readonly ScalarExpr[], inputs: readonly ElementwiseInputKind[]): WasmModule {
  let m = modules.get(key);
  if (!m) {
    if (modules.size >= MODULE_CACHE_LIMIT) modules.delete(modules.keys().next().value!);
    m = new wasm.Module(elementwiseWasmBinary(exprs, inputs));
    modules.set(key, m);
  }
  return m;
}

function bad(msg: string): KilnError {
  return new KilnError('INVALID_ARGUMENT', `WasmElementwise.run: ${msg}`);
}

/**
 * A SIMD kernel computing `exprs` (one per output) over inputs of the given kinds on the
 * engine's memory, or undefined when the kernel is not eligible (the JS path runs instead).
 * Kernels are cached per engine by (exprs, input kinds); n is a run-time argument.
 */
export function compileWasmElementwise(engine: GemmEngine, exprs: readonly ScalarExpr[], inputs: readonly ElementwiseInputKind[]): WasmElementwise | undefined {
  if (!isWasmElementwiseEligible(exprs, inputs)) return undefined;
  const key = kernelKey(exprs, inputs);
  let perEngine = instances.get(engine);
  if (!perEngine) instances.set(engine, (perEngine = new Map()));
  const hit = perEngine.get(key);
  if (hit) return hit;
  const instance = new wasm.Instance(moduleFor(key, exprs, inputs), { env: { memory: engine.memory } });
  const fn = instance.exports.kernel as (...args: number[]) => void;
  const outs = exprs.length;
  const flat = inputs.map((k) => k === 'flat');
  const args = new Array<number>(outs + inputs.length + 1).fill(0);
  const kernel: WasmElementwise = {
    run(outOffsets, inOffsets, n, lo = 0, hi = n) {
      if (outOffsets.length !== outs || inOffsets.length !== flat.length) {
        throw bad(`expected ${outs} output and ${flat.length} input offsets, got ${outOffsets.length} and ${inOffsets.length}`);
      }
      if (!Number.isInteger(n) || n < 0 || !Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > n || lo > hi) {
        throw bad(`need integers 0 <= lo <= hi <= n, got n = ${n}, lo = ${lo}, hi = ${hi}`);
      }
      const skip = lo * 4;
      for (let k = 0; k < outs; k++) args[k] = outOffsets[k]! + skip;
      for (let i = 0; i < flat.length; i++) args[outs + i] = flat[i] ? inOffsets[i]! + skip : inOffsets[i]!;
      args[args.length - 1] = hi - lo;
      fn(...args);
    },
  };
  perEngine.set(key, kernel);
  return kernel;
}
