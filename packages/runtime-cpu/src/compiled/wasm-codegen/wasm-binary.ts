/**
 * A minimal WebAssembly binary writer for generated kernels: LEB128 integers, IEEE float
 * immediates, the opcodes the elementwise code generator uses (core and SIMD128), and a module
 * of one exported function that imports the engine's shared memory as `env.memory`.
 * No text format and no wabt at run time: code generators append opcodes to a ByteWriter.
 */

/** Value types. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof V128;

/** Core opcodes (single byte). */
export const Op = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  f32Load: 0x2a,
  f32Store: 0x38,
  i32Const: 0x41,
  f32Const: 0x43,
  i32GeU: 0x4f,
  i32LtU: 0x49,
  f32Eq: 0x5b,
  f32Ne: 0x5c,
  f32Lt: 0x5d,
  f32Le: 0x5f,
  i32Add: 0x6a,
  i32And: 0x71,
  i32Shl: 0x74,
  f32Abs: 0x8b,
  f32Neg: 0x8c,
  f32Ceil: 0x8d,
  f32Floor: 0x8e,
  f32Trunc: 0x8f,
  f32Sqrt: 0x91,
  f32Add: 0x92,
  f32Sub: 0x93,
  f32Mul: 0x94,
  f32Div: 0x95,
  f32Min: 0x96,
  f32Max: 0x97,
} as const;

/** SIMD128 opcodes (after the 0xfd prefix, LEB128-encoded). */
export const Simd = {
  v128Load: 0,
  v128Load32Splat: 9,
  v128Store: 11,
  v128Const: 12,
  f32x4Splat: 19,
  f32x4Eq: 65,
  f32x4Ne: 66,
  f32x4Lt: 67,
  f32x4Le: 69,
  v128Bitselect: 82,
  f32x4Ceil: 103,
  f32x4Floor: 104,
  f32x4Trunc: 105,
  f32x4Abs: 224,
  f32x4Neg: 225,
  f32x4Sqrt: 227,
  f32x4Add: 228,
  f32x4Sub: 229,
  f32x4Mul: 230,
  f32x4Div: 231,
  f32x4Min: 232,
  f32x4Max: 233,
} as const;

/** The empty block type. */
export const BLOCK_VOID = 0x40;

/** A growable byte buffer with the encodings of the binary format. */
export class ByteWriter {
  readonly bytes: number[] = [];

  u8(b: number): this {
    this.bytes.push(b & 0xff);
    return this;
  }

  /** Unsigned LEB128 (u32). */
  u32(v: number): this {
    let x = v >>> 0;
    do {
      const b = x & 0x7f;
      x >>>= 7;
      this.bytes.push(x === 0 ? b : b | 0x80);
    } while (x !== 0);
    return this;
  }

  /** Signed LEB128 (i32). */
  i32(v: number): this {
    let x = v | 0;
    for (;;) {
      const b = x & 0x7f;
      x >>= 7;
      const done = (x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0);
      this.bytes.push(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  /** A float32 immediate, little-endian (the value is rounded to float32; NaN stays NaN). */
  f32(v: number): this {
    const buf = new Uint8Array(new Float32Array([v]).buffer);
    for (const b of buf) this.bytes.push(b);
    return this;
  }

  append(other: ByteWriter | readonly number[]): this {
    const src = other instanceof ByteWriter ? other.bytes : other;
    for (const b of src) this.bytes.push(b);
    return this;
  }

  /** A vector of bytes: its length, then the bytes. */
  sized(other: ByteWriter): this {
    return this.u32(other.bytes.length).append(other);
  }

  name(s: string): this {
    const utf8 = new TextEncoder().encode(s);
    this.u32(utf8.length);
    for (const b of utf8) this.bytes.push(b);
    return this;
  }

  // Instructions.
  op(code: number): this {
    return this.u8(code);
  }

  simd(code: number): this {
    return this.u8(0xfd).u32(code);
  }

  /** A memory access immediate: alignment exponent and constant offset. */
  memarg(alignLog2: number, offset = 0): this {
    return this.u32(alignLog2).u32(offset);
  }

  get(local: number): this {
    return this.u8(Op.localGet).u32(local);
  }

  set(local: number): this {
    return this.u8(Op.localSet).u32(local);
  }

  tee(local: number): this {
    return this.u8(Op.localTee).u32(local);
  }

  i32Const(v: number): this {
    return this.u8(Op.i32Const).i32(v);
  }

  f32Const(v: number): this {
    return this.u8(Op.f32Const).f32(v);
  }

  /** v128.const with four equal float32 lanes. */
  f32x4Const(v: number): this {
    this.simd(Simd.v128Const);
    for (let l = 0; l < 4; l++) this.f32(v);
    return this;
  }
}

export interface FunctionSpec {
  params: readonly ValType[];
  /** Locals after the parameters, in index order. */
  locals: readonly ValType[];
  /** The instructions, without the final `end`. */
  body: ByteWriter;
  exportName: string;
}

/** Limits of the imported memory: shared, in 64 KiB pages. */
export interface SharedMemoryLimits {
  initial: number;
  maximum: number;
}

function section(out: ByteWriter, id: number, content: ByteWriter): void {
  out.u8(id).sized(content);
}

/**
 * A module importing a shared memory as env.memory and exporting one function with no
 * results. An imported memory matches an actual one whose current size is >= initial and
 * whose maximum is <= maximum, so a generous maximum accepts every engine memory.
 */
export function singleFunctionModule(fn: FunctionSpec, memory: SharedMemoryLimits): Uint8Array {
  const out = new ByteWriter();
  out.append([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

  const types = new ByteWriter().u32(1).u8(0x60).u32(fn.params.length);
  for (const p of fn.params) types.u8(p);
  types.u32(0);
  section(out, 1, types);

  const imports = new ByteWriter().u32(1).name('env').name('memory').u8(0x02).u8(0x03).u32(memory.initial).u32(memory.maximum);
  section(out, 2, imports);

  section(out, 3, new ByteWriter().u32(1).u32(0));

  section(out, 7, new ByteWriter().u32(1).name(fn.exportName).u8(0x00).u32(0));

  // Locals are declared as runs of one type.
  const runs: [number, ValType][] = [];
  for (const t of fn.locals) {
    const last = runs[runs.length - 1];
    if (last && last[1] === t) last[0]++;
    else runs.push([1, t]);
  }
  const body = new ByteWriter().u32(runs.length);
  for (const [count, t] of runs) body.u32(count).u8(t);
  body.append(fn.body).op(Op.end);
  section(out, 10, new ByteWriter().u32(1).sized(body));

  return Uint8Array.from(out.bytes);
}
