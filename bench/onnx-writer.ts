/**
 * A tiny ONNX ModelProto writer for the benchmark models: a hand-written protobuf wire encoder
 * (varints and length-delimited fields) and the handful of onnx.proto messages the models need
 * (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto). Field
 * numbers follow onnx/onnx.proto; only float32 tensors and static shapes are supported.
 */

/** Protobuf wire writer: small fields go to a byte list, large payloads stay as chunks. */
class Writer {
  private chunks: Uint8Array[] = [];
  private bytes: number[] = [];

  private flush(): void {
    if (this.bytes.length) this.chunks.push(Uint8Array.from(this.bytes));
    this.bytes = [];
  }

  private varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.bytes.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.bytes.push(Number(x));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number): this {
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    this.bytes.push(...new Uint8Array(new Float32Array([v]).buffer));
    return this;
  }

  raw(field: number, data: Uint8Array): this {
    this.tag(field, 2);
    this.varint(data.length);
    this.flush();
    this.chunks.push(data);
    return this;
  }

  str(field: number, s: string): this {
    return this.raw(field, new TextEncoder().encode(s));
  }

  msg(field: number, m: Writer): this {
    return this.raw(field, m.finish());
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of this.chunks) (out.set(c, o), (o += c.length));
    return out;
  }
}

const FLOAT = 1; // TensorProto.DataType.FLOAT
const INT64 = 7; // TensorProto.DataType.INT64

export type Attr = number | number[] | string;

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, Attr>;
}

export interface OnnxModel {
  inputs: { name: string; shape: number[] }[];
  outputs: { name: string; shape: number[] }[];
  /** Float32 initializers (weights). */
  initializers: { name: string; shape: number[]; data: Float32Array }[];
  /** Int64 initializers (e.g. Reshape's shape). */
  int64Initializers?: { name: string; values: number[] }[];
  nodes: OnnxNode[];
  opset?: number;
}

function attribute(name: string, v: Attr): Writer {
  const a = new Writer().str(1, name);
  if (typeof v === 'string') return a.raw(4, new TextEncoder().encode(v)).int(20, 3); // STRING
  if (Array.isArray(v)) {
    for (const x of v) a.int(8, x); // ints (unpacked is valid wire format)
    return a.int(20, 7); // INTS
  }
  if (Number.isInteger(v)) return a.int(3, v).int(20, 2); // INT
  return a.float(2, v).int(20, 1); // FLOAT
}

function valueInfo(name: string, shape: number[]): Writer {
  const dims = new Writer();
  for (const d of shape) dims.msg(1, new Writer().int(1, d));
  const tensorType = new Writer().int(1, FLOAT).msg(2, dims);
  return new Writer().str(1, name).msg(2, new Writer().msg(1, tensorType));
}

/** Encodes `m` as ONNX ModelProto bytes (IR version 8, default opset 13). */
export function encodeOnnxModel(m: OnnxModel): Uint8Array {
  const graph = new Writer();
  m.nodes.forEach((n, i) => {
    const node = new Writer();
    for (const x of n.inputs) node.str(1, x);
    for (const y of n.outputs) node.str(2, y);
    node.str(3, `${n.op}_${i}`).str(4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) node.msg(5, attribute(k, v));
    graph.msg(1, node);
  });
  graph.str(2, 'bench');
  for (const t of m.initializers) {
    const tp = new Writer();
    for (const d of t.shape) tp.int(1, d);
    tp.int(2, FLOAT).str(8, t.name);
    tp.raw(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    graph.msg(5, tp);
  }
  for (const t of m.int64Initializers ?? []) {
    const tp = new Writer().int(1, t.values.length).int(2, INT64).str(8, t.name);
    const raw = new BigInt64Array(t.values.map((v) => BigInt(v)));
    tp.raw(9, new Uint8Array(raw.buffer));
    graph.msg(5, tp);
  }
  for (const x of m.inputs) graph.msg(11, valueInfo(x.name, x.shape));
  for (const y of m.outputs) graph.msg(12, valueInfo(y.name, y.shape));
  return new Writer()
    .int(1, 8) // ir_version
    .str(2, 'kiln-bench')
    .msg(7, graph)
    .msg(8, new Writer().str(1, '').int(2, m.opset ?? 13))
    .finish();
}
