/**
 * Decodes ONNX protobuf messages (ModelProto, GraphProto, NodeProto, AttributeProto,
 * ValueInfoProto, TensorProto) into plain objects, and TensorProtos into Kiln host Tensors.
 * Field numbers follow onnx/onnx.proto. int64 values become int32 (KilnError when one does not
 * fit); only float32, the integer types and bool have a Kiln dtype.
 */
import { type BytesLike, type DType, KilnError, Tensor, allocData, fmtShape, sizeOf, toBytes } from '@kiln/graph';
import { type WireField, corrupt, fieldBytes, fieldFloat, fieldInt, fieldString, pushDoubles, pushFloats, pushInts, readFields } from './wire.js';

export const ONNX_DTYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED',
  1: 'FLOAT',
  2: 'UINT8',
  3: 'INT8',
  4: 'UINT16',
  5: 'INT16',
  6: 'INT32',
  7: 'INT64',
  8: 'STRING',
  9: 'BOOL',
  10: 'FLOAT16',
  11: 'DOUBLE',
  12: 'UINT32',
  13: 'UINT64',
  14: 'COMPLEX64',
  15: 'COMPLEX128',
  16: 'BFLOAT16',
};

export function onnxDTypeName(code: number): string {
  return ONNX_DTYPE_NAMES[code] ?? `type#${code}`;
}

/** The Kiln dtype an ONNX element type maps onto, or undefined when Kiln has none. */
export function kilnDType(code: number): DType | undefined {
  switch (code) {
    case 1: // FLOAT
    case 10: // FLOAT16 (widened exactly)
      return 'float32';
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:
    case 12:
    case 13:
      return 'int32';
    case 9:
      return 'bool';
    default:
      return undefined;
  }
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  raw?: Uint8Array;
  floatData: number[];
  int32Data: bigint[];
  int64Data: bigint[];
  doubleData: number[];
  uint64Data: bigint[];
  external: boolean;
}

export const ATTR_FLOAT = 1;
export const ATTR_INT = 2;
export const ATTR_STRING = 3;
export const ATTR_TENSOR = 4;
export const ATTR_GRAPH = 5;
export const ATTR_FLOATS = 6;
export const ATTR_INTS = 7;
export const ATTR_STRINGS = 8;

export interface OnnxAttr {
  name: string;
  type: number;
  f?: number;
  i?: bigint;
  s?: string;
  t?: OnnxTensor;
  hasGraph: boolean;
  floats: number[];
  ints: bigint[];
  strings: string[];
  refAttrName?: string;
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, OnnxAttr>;
}

export interface OnnxValueInfo {
  name: string;
  /** The tensor element type; undefined for non-tensor types (sequence, map, optional). */
  elemType?: number;
  /** undefined: rank unknown; a string entry is a named symbolic dim; null an anonymous one. */
  shape?: (number | string | null)[];
  kind: 'tensor' | 'sequence' | 'map' | 'optional' | 'unknown';
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  /** Operator set versions by domain ('' is the default ai.onnx domain). */
  opsets: Map<string, number>;
  graph: OnnxGraph;
}

export function decodeTensorProto(buf: Uint8Array, what = 'TensorProto'): OnnxTensor {
  const t: OnnxTensor = { name: '', dims: [], dataType: 0, floatData: [], int32Data: [], int64Data: [], doubleData: [], uint64Data: [], external: false };
  const dims: bigint[] = [];
  for (const f of readFields(buf, what)) {
    switch (f.no) {
      case 1:
        pushInts(f, dims, what);
        break;
      case 2:
        t.dataType = Number(fieldInt(f, what));
        break;
      case 4:
        pushFloats(f, t.floatData, what);
        break;
      case 5:
        pushInts(f, t.int32Data, what);
        break;
      case 7:
        pushInts(f, t.int64Data, what);
        break;
      case 8:
        t.name = fieldString(f, what);
        break;
      case 9:
        t.raw = fieldBytes(f, what);
        break;
      case 10:
        pushDoubles(f, t.doubleData, what);
        break;
      case 11:
        pushInts(f, t.uint64Data, what);
        break;
      case 13:
        t.external = true;
        break;
      case 14:
        if (fieldInt(f, what) === 1n) t.external = true;
        break;
      default:
        break; // segment, string_data, doc_string: not needed
    }
  }
  for (const d of dims) {
    if (d < 0n || d > 0x7fffffffn) throw corrupt(what, `invalid dim ${d}`);
    t.dims.push(Number(d));
  }
  return t;
}

function decodeAttr(buf: Uint8Array, what: string): OnnxAttr {
  const a: OnnxAttr = { name: '', type: 0, hasGraph: false, floats: [], ints: [], strings: [] };
  for (const f of readFields(buf, what)) {
    switch (f.no) {
      case 1:
        a.name = fieldString(f, what);
        break;
      case 2:
        a.f = fieldFloat(f, what);
        break;
      case 3:
        a.i = fieldInt(f, what);
        break;
      case 4:
        a.s = fieldString(f, what);
        break;
      case 5:
        a.t = decodeTensorProto(fieldBytes(f, what), `${what} tensor`);
        break;
      case 6:
        a.hasGraph = true;
        break;
      case 7:
        pushFloats(f, a.floats, what);
        break;
      case 8:
        pushInts(f, a.ints, what);
        break;
      case 9:
        a.strings.push(fieldString(f, what));
        break;
      case 10:
        a.hasGraph = true;
        break; // graphs
      case 20:
        a.type = Number(fieldInt(f, what));
        break;
      case 21:
        a.refAttrName = fieldString(f, what);
        break;
      default:
        break;
    }
  }
  if (a.type === 0) {
    // Older writers leave `type` out: infer it from the field present.
    if (a.f !== undefined) a.type = ATTR_FLOAT;
    else if (a.i !== undefined) a.type = ATTR_INT;
    else if (a.s !== undefined) a.type = ATTR_STRING;
    else if (a.t) a.type = ATTR_TENSOR;
    else if (a.hasGraph) a.type = ATTR_GRAPH;
    else if (a.floats.length) a.type = ATTR_FLOATS;
    else if (a.ints.length) a.type = ATTR_INTS;
    else if (a.strings.length) a.type = ATTR_STRINGS;
  }
  return a;
}

function decodeNode(buf: Uint8Array, index: number): OnnxNode {
  const what = `NodeProto #${index}`;
  const n: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attrs: new Map() };
  for (const f of readFields(buf, what)) {
    switch (f.no) {
      case 1:
        n.inputs.push(fieldString(f, what));
        break;
      case 2:
        n.outputs.push(fieldString(f, what));
        break;
      case 3:
        n.name = fieldString(f, what);
        break;
      case 4:
        n.opType = fieldString(f, what);
        break;
      case 5: {
        const a = decodeAttr(fieldBytes(f, what), `${what} attribute`);
        n.attrs.set(a.name, a);
        break;
      }
      case 7:
        n.domain = fieldString(f, what);
        break;
      default:
        break;
    }
  }
  if (!n.opType) throw corrupt(what, 'node without op_type');
  return n;
}

function decodeShape(buf: Uint8Array, what: string): (number | string | null)[] {
  const dims: (number | string | null)[] = [];
  for (const f of readFields(buf, what)) {
    if (f.no !== 1) continue;
    let d: number | string | null = null;
    for (const g of readFields(fieldBytes(f, what), what)) {
      if (g.no === 1) d = Number(fieldInt(g, what));
      else if (g.no === 2) d = fieldString(g, what);
    }
    dims.push(d);
  }
  return dims;
}

function decodeValueInfo(buf: Uint8Array, what: string): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '', kind: 'unknown' };
  for (const f of readFields(buf, what)) {
    if (f.no === 1) v.name = fieldString(f, what);
    else if (f.no === 2) {
      for (const g of readFields(fieldBytes(f, what), what)) {
        if (g.no === 1) {
          v.kind = 'tensor';
          for (const h of readFields(fieldBytes(g, what), what)) {
            if (h.no === 1) v.elemType = Number(fieldInt(h, what));
            else if (h.no === 2) v.shape = decodeShape(fieldBytes(h, what), what);
          }
        } else if (g.no === 4) v.kind = 'sequence';
        else if (g.no === 5) v.kind = 'map';
        else if (g.no === 9) v.kind = 'optional';
      }
    }
  }
  return v;
}

function decodeGraph(buf: Uint8Array): OnnxGraph {
  const what = 'GraphProto';
  const g: OnnxGraph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] };
  for (const f of readFields(buf, what)) {
    switch (f.no) {
      case 1:
        g.nodes.push(decodeNode(fieldBytes(f, what), g.nodes.length));
        break;
      case 2:
        g.name = fieldString(f, what);
        break;
      case 5:
        g.initializers.push(decodeTensorProto(fieldBytes(f, what), `initializer #${g.initializers.length}`));
        break;
      case 11:
        g.inputs.push(decodeValueInfo(fieldBytes(f, what), 'graph input'));
        break;
      case 12:
        g.outputs.push(decodeValueInfo(fieldBytes(f, what), 'graph output'));
        break;
      case 13:
        g.valueInfo.push(decodeValueInfo(fieldBytes(f, what), 'value_info'));
        break;
      default:
        break;
    }
  }
  return g;
}

/** Decodes a serialized ModelProto. Corrupt or non-ONNX bytes throw KilnError('CORRUPT_MODEL'). */
export function decodeModel(input: BytesLike, who = 'importOnnx'): OnnxModel {
  const bytes = toBytes(input, who);
  if (bytes.length === 0) throw new KilnError('CORRUPT_MODEL', 'ONNX ModelProto: the file is empty');
  const what = 'ModelProto';
  let irVersion = 0;
  let graphBytes: Uint8Array | undefined;
  const opsets = new Map<string, number>();
  let fields: WireField[];
  try {
    fields = readFields(bytes, what);
  } catch (e) {
    if (e instanceof KilnError) throw e;
    throw new KilnError('CORRUPT_MODEL', `ONNX ${what}: ${(e as Error).message}`);
  }
  for (const f of fields) {
    if (f.no === 1) irVersion = Number(fieldInt(f, what));
    else if (f.no === 7) graphBytes = fieldBytes(f, what);
    else if (f.no === 8) {
      let domain = '';
      let version = 0;
      for (const g of readFields(fieldBytes(f, what), 'OperatorSetIdProto')) {
        if (g.no === 1) domain = fieldString(g, what);
        else if (g.no === 2) version = Number(fieldInt(g, what));
      }
      opsets.set(domain === 'ai.onnx' ? '' : domain, version);
    }
  }
  if (!graphBytes) {
    throw new KilnError('CORRUPT_MODEL', 'ONNX ModelProto: no graph found (not an ONNX model, or the file is truncated)');
  }
  return { irVersion, opsets, graph: decodeGraph(graphBytes) };
}

function toInt32(v: bigint, what: string, index: number, saturate: boolean): number {
  if (v < -2147483648n || v > 2147483647n) {
    if (saturate) return v < 0n ? -2147483648 : 2147483647;
    throw new KilnError('UNSUPPORTED', `${what}: int64 value ${v} at index ${index} does not fit in int32 (Kiln stores integers as int32)`);
  }
  return Number(v);
}

/** Converts a TensorProto to a Kiln host tensor (int64 -> int32, checked). `what` names it for errors. */
export function tensorFromProto(t: OnnxTensor, what: string, opts: { saturate?: boolean } = {}): Tensor {
  const sat = opts.saturate ?? false;
  const dtype = kilnDType(t.dataType);
  if (!dtype) {
    throw new KilnError('UNSUPPORTED', `${what}: element type ${onnxDTypeName(t.dataType)} has no Kiln dtype (float32, int32, int64->int32, bool)`);
  }
  if (t.external) throw new KilnError('UNSUPPORTED', `${what}: tensor data stored in an external file is not supported`);
  const n = sizeOf(t.dims);
  const data = allocData(dtype, n);
  const raw = t.raw;
  const code = t.dataType;
  const bad = (got: number): KilnError =>
    new KilnError('CORRUPT_MODEL', `${what}: shape ${fmtShape(t.dims)} needs ${n} ${onnxDTypeName(code)} values, got ${got}`);
  if (raw && raw.length > 0) {
    const width: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 12: 4, 13: 8 };
    const w = width[code]!;
    if (raw.length !== n * w) throw bad(raw.length / w);
    // A view of exactly the raw bytes: `raw` may sit at any byteOffset (and alignment) of a
    // larger buffer (a Node Buffer of the whole file, a subarray), so never assume offset 0.
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < n; i++) {
      const o = i * w;
      switch (code) {
        case 1:
          data[i] = dv.getFloat32(o, true);
          break;
        case 2:
          data[i] = dv.getUint8(o);
          break;
        case 3:
          data[i] = dv.getInt8(o);
          break;
        case 4:
          data[i] = dv.getUint16(o, true);
          break;
        case 5:
          data[i] = dv.getInt16(o, true);
          break;
        case 6:
          data[i] = dv.getInt32(o, true);
          break;
        case 7:
          data[i] = toInt32(dv.getBigInt64(o, true), what, i, sat);
          break;
        case 9:
          data[i] = dv.getUint8(o) !== 0 ? 1 : 0;
          break;
        case 10:
          data[i] = halfToFloat(dv.getUint16(o, true));
          break;
        case 12:
          data[i] = toInt32(BigInt(dv.getUint32(o, true)), what, i, sat);
          break;
        case 13:
          data[i] = toInt32(dv.getBigUint64(o, true), what, i, sat);
          break;
      }
    }
  } else {
    let src: ArrayLike<number | bigint>;
    if (code === 1) src = t.floatData;
    else if (code === 7) src = t.int64Data;
    else if (code === 12 || code === 13) src = t.uint64Data;
    else src = t.int32Data;
    if (src.length !== n) throw bad(src.length);
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      if (code === 1) data[i] = v as number;
      else if (code === 9) data[i] = v !== 0n ? 1 : 0;
      else if (code === 10) data[i] = halfToFloat(Number(v));
      else data[i] = toInt32(BigInt(v), what, i, sat);
    }
  }
  return new Tensor(dtype, t.dims, data);
}

/** IEEE half -> float (exact). */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
