/**
 * Decodes ONNX protobuf messages (ModelProto, GraphProto, NodeProto, AttributeProto,
 * ValueInfoProto, TensorProto) with protobufjs and ONNX's schema (export/onnx-schema.ts) into
 * plain objects, and TensorProtos into Kiln host Tensors. Malformed bytes are
 * KilnError('CORRUPT_MODEL') naming the message being read. int64 values become int32
 * (KilnError when one does not fit); only float32, the integer types and bool have a Kiln dtype.
 */
import protobuf from 'protobufjs';
import { type BytesLike, type DType, KilnError, Tensor, allocData, fmtShape, sizeOf, toBytes } from '@kiln/graph';
import { onnxType } from './export/onnx-schema.js';

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

/** Whether the import in progress computes float64 (DOUBLE) values in float32 (opted in). */
let float64AsFloat32: { warned: boolean; who: string } | undefined;

/**
 * Runs `fn` with DOUBLE tensors read as float32 (importOnnx's `float64: 'float32'` option): the
 * first DOUBLE value met prints one console warning, since the results lose precision.
 */
export function withFloat64AsFloat32<T>(on: boolean, who: string, fn: () => T): T {
  const outer = float64AsFloat32;
  float64AsFloat32 = on ? { warned: false, who } : undefined;
  try {
    return fn();
  } finally {
    float64AsFloat32 = outer;
  }
}

/** The Kiln dtype an ONNX element type maps onto, or undefined when Kiln has none. */
export function kilnDType(code: number): DType | undefined {
  if (code === 11 && float64AsFloat32) {
    if (!float64AsFloat32.warned) {
      float64AsFloat32.warned = true;
      console.warn(`${float64AsFloat32.who}: float64 (DOUBLE) values are computed in float32, as the float64: 'float32' option asks; results lose precision`);
    }
    return 'float32';
  }
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

/** A protobufjs int64 field: a number, or a Long when long.js is present. */
type Int64 = number | { toString(): string };
/** A decoded message: fields by their .proto (snake_case) names. */
type Msg = Record<string, unknown>;

function big(v: unknown): bigint {
  return typeof v === 'number' ? BigInt(v) : BigInt((v as Int64).toString());
}

function has(m: Msg, field: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, field);
}

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new TextDecoder('utf-8', { fatal: false }).decode(v);
  return '';
}

function list<T>(m: Msg, field: string): T[] {
  const v = m[field];
  return Array.isArray(v) ? (v as T[]) : [];
}

/** The wrapped types, so every nested decode names its message in an error (set up once). */
const named = new WeakSet<protobuf.Type>();

function nameErrors(t: protobuf.Type): void {
  if (named.has(t)) return;
  named.add(t);
  t.setup();
  const generated = t.decode.bind(t);
  t.decode = ((reader: protobuf.Reader | Uint8Array, length?: number) => {
    try {
      return generated(reader, length);
    } catch (e) {
      if (e instanceof KilnError) throw e;
      const where = typeof (reader as protobuf.Reader).pos === 'number' ? ` at byte ${(reader as protobuf.Reader).pos}` : '';
      throw new KilnError('CORRUPT_MODEL', `ONNX ${t.name}${where}: ${(e as Error).message} (the file is truncated or not an ONNX protobuf)`);
    }
  }) as typeof t.decode;
  for (const f of t.fieldsArray) {
    f.resolve();
    if (f.resolvedType && 'fieldsArray' in f.resolvedType) nameErrors(f.resolvedType);
  }
  for (const nested of t.nestedArray) if ('fieldsArray' in nested) nameErrors(nested as protobuf.Type);
}

/** Decodes bytes as one onnx.* message; malformed bytes are CORRUPT_MODEL naming the message. */
function decodeMessage(name: 'ModelProto' | 'TensorProto' | 'SequenceProto' | 'OptionalProto', bytes: Uint8Array): Msg {
  const t = onnxType(name);
  nameErrors(t);
  try {
    return t.decode(protobuf.Reader.create(bytes)) as unknown as Msg;
  } catch (e) {
    if (e instanceof KilnError) throw e;
    // A stack overflow from absurdly nested messages, or anything the decoder did not name.
    throw new KilnError('CORRUPT_MODEL', `ONNX ${name}: ${(e as Error).message} (the file is truncated or not an ONNX protobuf)`);
  }
}

function corrupt(what: string, detail: string): KilnError {
  return new KilnError('CORRUPT_MODEL', `ONNX ${what}: ${detail} (the file is truncated or not an ONNX protobuf)`);
}

function tensorOf(m: Msg, what: string): OnnxTensor {
  const t: OnnxTensor = {
    name: str(m['name']),
    dims: [],
    dataType: Number(m['data_type'] ?? 0),
    floatData: list<number>(m, 'float_data'),
    int32Data: list<number>(m, 'int32_data').map((v) => BigInt(v)),
    int64Data: list<unknown>(m, 'int64_data').map(big),
    doubleData: list<number>(m, 'double_data'),
    uint64Data: list<unknown>(m, 'uint64_data').map(big),
    external: list(m, 'external_data').length > 0 || Number(m['data_location'] ?? 0) === 1,
  };
  const raw = m['raw_data'];
  if (raw instanceof Uint8Array && has(m, 'raw_data')) t.raw = raw;
  for (const d of list<unknown>(m, 'dims').map(big)) {
    if (d < 0n || d > 0x7fffffffn) throw corrupt(what, `field 'dims': invalid dim ${d}`);
    t.dims.push(Number(d));
  }
  return t;
}

/** Decodes a serialized TensorProto. A SequenceProto/OptionalProto value is UNSUPPORTED. */
export function decodeTensorProto(buf: Uint8Array, what = 'TensorProto'): OnnxTensor {
  const m = decodeMessage('TensorProto', buf);
  // A TensorProto never carries a `segment` in a model or test file; a sequence's or optional's
  // element (field 3 of SequenceProto/OptionalProto) lands there when read as a TensorProto.
  if (has(m, 'segment') || looksLikeContainer(buf, m)) {
    throw new KilnError(
      'UNSUPPORTED',
      `${what}: the value is an ONNX sequence or optional (SequenceProto/OptionalProto), not a tensor; Kiln has no sequence/optional values`,
    );
  }
  return tensorOf(m, what);
}

/**
 * Whether bytes that read as a TensorProto are really a SequenceProto/OptionalProto (an ONNX
 * test's sequence or optional input): they read as one, with a printable name (field 1, where a
 * TensorProto has packed dims) and a container element type (field 2: 1 tensor .. 5 optional),
 * and read as a TensorProto they have no name and no raw or float data.
 */
function looksLikeContainer(buf: Uint8Array, tm: Msg): boolean {
  if (has(tm, 'name') || has(tm, 'raw_data') || list(tm, 'float_data').length > 0) return false;
  let seq: Msg;
  try {
    seq = decodeMessage('SequenceProto', buf);
  } catch {
    return false;
  }
  const elem = Number(seq['elem_type'] ?? 0);
  const name = str(seq['name']);
  return has(seq, 'elem_type') && elem >= 1 && elem <= 5 && name.length > 0 && /^[\x20-\x7e]+$/.test(name);
}

function attrOf(m: Msg, what: string): OnnxAttr {
  const a: OnnxAttr = {
    name: str(m['name']),
    type: Number(m['type'] ?? 0),
    hasGraph: has(m, 'g') || list(m, 'graphs').length > 0,
    floats: list<number>(m, 'floats'),
    ints: list<unknown>(m, 'ints').map(big),
    strings: list<unknown>(m, 'strings').map(str),
  };
  if (has(m, 'f')) a.f = m['f'] as number;
  if (has(m, 'i')) a.i = big(m['i']);
  if (has(m, 's')) a.s = str(m['s']);
  if (has(m, 't')) a.t = tensorOf(m['t'] as Msg, `${what} '${a.name}' tensor`);
  if (has(m, 'ref_attr_name')) a.refAttrName = str(m['ref_attr_name']);
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

function nodeOf(m: Msg, index: number): OnnxNode {
  const what = `NodeProto #${index}`;
  const n: OnnxNode = {
    name: str(m['name']),
    opType: str(m['op_type']),
    domain: str(m['domain']),
    inputs: list<string>(m, 'input'),
    outputs: list<string>(m, 'output'),
    attrs: new Map(),
  };
  for (const am of list<Msg>(m, 'attribute')) {
    const a = attrOf(am, `${what} attribute`);
    n.attrs.set(a.name, a);
  }
  if (!n.opType) throw corrupt(what, "field 'op_type': node without op_type");
  return n;
}

function valueInfoOf(m: Msg): OnnxValueInfo {
  const v: OnnxValueInfo = { name: str(m['name']), kind: 'unknown' };
  const type = m['type'] as Msg | undefined;
  if (!type) return v;
  if (has(type, 'tensor_type')) {
    v.kind = 'tensor';
    const tt = type['tensor_type'] as Msg;
    if (has(tt, 'elem_type')) v.elemType = Number(tt['elem_type']);
    if (has(tt, 'shape')) {
      v.shape = list<Msg>(tt['shape'] as Msg, 'dim').map((d) =>
        has(d, 'dim_value') ? Number(big(d['dim_value'])) : has(d, 'dim_param') ? str(d['dim_param']) : null,
      );
    }
  } else if (has(type, 'sequence_type')) v.kind = 'sequence';
  else if (has(type, 'map_type')) v.kind = 'map';
  else if (has(type, 'optional_type')) v.kind = 'optional';
  return v;
}

function graphOf(m: Msg): OnnxGraph {
  return {
    name: str(m['name']),
    nodes: list<Msg>(m, 'node').map((n, i) => nodeOf(n, i)),
    initializers: list<Msg>(m, 'initializer').map((t, i) => tensorOf(t, `initializer #${i}`)),
    inputs: list<Msg>(m, 'input').map(valueInfoOf),
    outputs: list<Msg>(m, 'output').map(valueInfoOf),
    valueInfo: list<Msg>(m, 'value_info').map(valueInfoOf),
  };
}

/** Decodes a serialized ModelProto. Corrupt or non-ONNX bytes throw KilnError('CORRUPT_MODEL'). */
export function decodeModel(input: BytesLike, who = 'importOnnx'): OnnxModel {
  const bytes = toBytes(input, who);
  if (bytes.length === 0) throw new KilnError('CORRUPT_MODEL', 'ONNX ModelProto: the file is empty');
  const m = decodeMessage('ModelProto', bytes);
  const opsets = new Map<string, number>();
  for (const o of list<Msg>(m, 'opset_import')) {
    const domain = str(o['domain']);
    opsets.set(domain === 'ai.onnx' ? '' : domain, Number(big(o['version'] ?? 0)));
  }
  if (!has(m, 'graph')) {
    throw new KilnError('CORRUPT_MODEL', "ONNX ModelProto: field 'graph' missing (not an ONNX model, or the file is truncated)");
  }
  return { irVersion: Number(big(m['ir_version'] ?? 0)), opsets, graph: graphOf(m['graph'] as Msg) };
}

function toInt32(v: bigint, what: string, index: number, saturate: boolean): number {
  if (v < -2147483648n || v > 2147483647n) {
    if (saturate) return v < 0n ? -2147483648 : 2147483647;
    throw new KilnError('UNSUPPORTED', `${what}: int64 value ${v} at index ${index} does not fit in int32 (Kiln stores integers as int32)`);
  }
  return Number(v);
}

/** The default of ImportOptions.maxBytes: the most bytes of tensor data one import may decode. */
export const DEFAULT_ONNX_MAX_BYTES = 2 ** 31;

/** The byte budget of the import in progress (imports are synchronous, so one at a time). */
let budget: { left: number; limit: number } | undefined;

/** Runs `fn` with a budget of `maxBytes` for every tensor it decodes (initializers, Constant values). */
export function withTensorBudget<T>(maxBytes: number, fn: () => T): T {
  const outer = budget;
  budget = { left: maxBytes, limit: maxBytes };
  try {
    return fn();
  } finally {
    budget = outer;
  }
}

function chargeBudget(bytes: number, what: string): void {
  if (!budget) return;
  if (bytes > budget.left) {
    throw new KilnError(
      'RESOURCE_EXHAUSTED',
      `${what}: ${bytes} more bytes of tensor data would pass the import's limit of ${budget.limit} bytes (${budget.limit - budget.left} already decoded); pass a larger maxBytes to importOnnx if you trust the model`,
    );
  }
  budget.left -= bytes;
}

/** Converts a TensorProto to a Kiln host tensor (int64 -> int32, checked). `what` names it for errors. */
export function tensorFromProto(t: OnnxTensor, what: string, opts: { saturate?: boolean } = {}): Tensor {
  const sat = opts.saturate ?? false;
  const dtype = kilnDType(t.dataType);
  if (!dtype) {
    const hint = t.dataType === 11 ? "; pass float64: 'float32' to compute it in float32" : '';
    throw new KilnError('UNSUPPORTED', `${what}: element type ${onnxDTypeName(t.dataType)} has no Kiln dtype (float32, int32, int64->int32, bool)${hint}`);
  }
  if (t.external) throw new KilnError('UNSUPPORTED', `${what}: tensor data stored in an external file is not supported`);
  const n = sizeOf(t.dims);
  const raw = t.raw;
  const code = t.dataType;
  const bad = (got: number): KilnError =>
    new KilnError('CORRUPT_MODEL', `${what}: shape ${fmtShape(t.dims)} needs ${n} ${onnxDTypeName(code)} values, got ${got}`);
  // The declared size is checked against the values present (and the import's budget) before
  // anything is allocated: dims [100000, 100000] with no data must not allocate 40 GB.
  const width: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8 };
  const w = width[code]!;
  const present =
    raw && raw.length > 0
      ? raw.length / w
      : code === 1
        ? t.floatData.length
        : code === 11
          ? t.doubleData.length
          : code === 7
            ? t.int64Data.length
            : code === 12 || code === 13
              ? t.uint64Data.length
              : t.int32Data.length;
  if (!Number.isSafeInteger(n) || n !== present) throw bad(present);
  chargeBudget(n * (dtype === 'bool' ? 1 : 4), what);
  const data = allocData(dtype, n);
  if (raw && raw.length > 0) {
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
        case 11:
          data[i] = dv.getFloat64(o, true);
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
    else if (code === 11) src = t.doubleData;
    else if (code === 7) src = t.int64Data;
    else if (code === 12 || code === 13) src = t.uint64Data;
    else src = t.int32Data;
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      if (code === 1 || code === 11) data[i] = v as number;
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
