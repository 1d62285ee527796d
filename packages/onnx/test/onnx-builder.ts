/**
 * A tiny ONNX protobuf writer for tests: builds ModelProto / TensorProto bytes from plain
 * descriptions (field numbers as in onnx.proto), so tests can make models without ONNX tools.
 */
class Writer {
  private readonly out: number[] = [];
  varint(v: bigint | number): this {
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) b |= 0x80;
      this.out.push(b);
    } while (x !== 0n);
    return this;
  }
  tag(no: number, wire: number): this {
    return this.varint((no << 3) | wire);
  }
  int(no: number, v: bigint | number): this {
    return this.tag(no, 0).varint(v);
  }
  bytes(no: number, b: Uint8Array): this {
    this.tag(no, 2).varint(b.length);
    for (const x of b) this.out.push(x);
    return this;
  }
  string(no: number, s: string): this {
    return this.bytes(no, new TextEncoder().encode(s));
  }
  float(no: number, f: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, f, true);
    this.tag(no, 5);
    for (const x of b) this.out.push(x);
    return this;
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

export const FLOAT = 1;
export const INT32 = 6;
export const INT64 = 7;
export const BOOL = 9;
export const DOUBLE = 11;

export interface TensorSpec {
  name?: string;
  dims: number[];
  type: number;
  values: (number | bigint | boolean)[];
  /** Store values in the typed fields (float_data, int64_data...) instead of raw_data. */
  typedFields?: boolean;
}

export function tensorProto(t: TensorSpec): Uint8Array {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.type);
  if (t.name !== undefined) w.string(8, t.name);
  if (t.typedFields) {
    const packed = new Writer();
    if (t.type === FLOAT) {
      const b = new Uint8Array(4 * t.values.length);
      t.values.forEach((v, i) => new DataView(b.buffer).setFloat32(4 * i, Number(v), true));
      return w.bytes(4, b).finish();
    }
    for (const v of t.values) packed.varint(typeof v === 'boolean' ? (v ? 1 : 0) : BigInt(v));
    return w.bytes(t.type === INT64 ? 7 : 5, packed.finish()).finish();
  }
  const width = t.type === INT64 || t.type === DOUBLE ? 8 : t.type === BOOL ? 1 : 4;
  const raw = new Uint8Array(width * t.values.length);
  const dv = new DataView(raw.buffer);
  t.values.forEach((v, i) => {
    if (t.type === FLOAT) dv.setFloat32(4 * i, Number(v), true);
    else if (t.type === DOUBLE) dv.setFloat64(8 * i, Number(v), true);
    else if (t.type === INT64) dv.setBigInt64(8 * i, BigInt(v), true);
    else if (t.type === BOOL) dv.setUint8(i, v ? 1 : 0);
    else dv.setInt32(4 * i, Number(v), true);
  });
  return w.bytes(9, raw).finish();
}

export type AttrSpec = { i: number | bigint } | { f: number } | { s: string } | { ints: number[] } | { floats: number[] } | { t: TensorSpec };

function attrProto(name: string, a: AttrSpec): Uint8Array {
  const w = new Writer().string(1, name);
  if ('i' in a) w.int(3, a.i).int(20, 2);
  else if ('f' in a) w.float(2, a.f).int(20, 1);
  else if ('s' in a) w.string(4, a.s).int(20, 3);
  else if ('ints' in a) {
    for (const v of a.ints) w.int(8, v);
    w.int(20, 7);
  } else if ('floats' in a) {
    for (const v of a.floats) w.float(7, v);
    w.int(20, 6);
  } else w.bytes(5, tensorProto(a.t)).int(20, 4);
  return w.finish();
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, AttrSpec>;
}

function nodeProto(n: NodeSpec): Uint8Array {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.op);
  for (const [k, v] of Object.entries(n.attrs ?? {})) w.bytes(5, attrProto(k, v));
  if (n.domain) w.string(7, n.domain);
  return w.finish();
}

export interface ValueSpec {
  name: string;
  type: number;
  /** Numbers are fixed dims, strings dim_params; undefined: no shape (unknown rank). */
  dims?: (number | string)[];
}

function valueInfo(v: ValueSpec): Uint8Array {
  const tensorType = new Writer().int(1, v.type);
  if (v.dims) {
    const shape = new Writer();
    for (const d of v.dims) shape.bytes(1, typeof d === 'number' ? new Writer().int(1, d).finish() : new Writer().string(2, d).finish());
    tensorType.bytes(2, shape.finish());
  }
  const type = new Writer().bytes(1, tensorType.finish()).finish();
  return new Writer().string(1, v.name).bytes(2, type).finish();
}

export interface ModelSpec {
  nodes: NodeSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers?: TensorSpec[];
  opset?: number;
}

export function modelProto(m: ModelSpec): Uint8Array {
  const g = new Writer();
  for (const n of m.nodes) g.bytes(1, nodeProto(n));
  g.string(2, 'test_graph');
  for (const t of m.initializers ?? []) g.bytes(5, tensorProto(t));
  for (const v of m.inputs) g.bytes(11, valueInfo(v));
  for (const v of m.outputs) g.bytes(12, valueInfo(v));
  const opset = new Writer()
    .string(1, '')
    .int(2, m.opset ?? 18)
    .finish();
  return new Writer().int(1, 8).bytes(7, g.finish()).bytes(8, opset).finish();
}
