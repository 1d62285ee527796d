/**
 * OnnxGraphBuilder: accumulates the ONNX nodes and initializers of one exported graph, hands
 * out unique value names, and turns Kiln host Tensors and int64 lists into TensorProtos.
 * The op rules (rules-*.ts) write through it; export.ts wraps the result in a ModelProto.
 */
import { type DType, KilnError, type Tensor } from '@kiln/graph';
import { ATTR_TYPE, ONNX_BOOL, ONNX_FLOAT, ONNX_INT32, ONNX_INT64 } from './onnx-schema.js';

/** An ONNX attribute value, tagged with its AttributeType (numbers alone are ambiguous). */
export type OnnxAttr =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'floats'; value: readonly number[] }
  | { type: 'ints'; value: readonly number[] };

export const attr = {
  float: (value: number): OnnxAttr => ({ type: 'float', value }),
  int: (value: number): OnnxAttr => ({ type: 'int', value }),
  string: (value: string): OnnxAttr => ({ type: 'string', value }),
  floats: (value: readonly number[]): OnnxAttr => ({ type: 'floats', value }),
  ints: (value: readonly number[]): OnnxAttr => ({ type: 'ints', value }),
};

export type OnnxAttrs = Record<string, OnnxAttr>;

export interface TensorMsg {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

export interface AttributeMsg {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

export interface NodeMsg {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: AttributeMsg[];
}

/** The ONNX element type of a Kiln dtype. */
export function onnxElemType(dtype: DType): number {
  switch (dtype) {
    case 'float32':
      return ONNX_FLOAT;
    case 'int32':
      return ONNX_INT32;
    case 'bool':
      return ONNX_BOOL;
    default:
      throw new KilnError('UNSUPPORTED', `exportOnnx: dtype '${String(dtype)}' has no ONNX element type`);
  }
}

function attributeMsg(name: string, a: OnnxAttr): AttributeMsg {
  switch (a.type) {
    case 'float':
      return { name, type: ATTR_TYPE.FLOAT, f: a.value };
    case 'int':
      return { name, type: ATTR_TYPE.INT, i: a.value };
    case 'string':
      return { name, type: ATTR_TYPE.STRING, s: new TextEncoder().encode(a.value) };
    case 'floats':
      return { name, type: ATTR_TYPE.FLOATS, floats: [...a.value] };
    case 'ints':
      return { name, type: ATTR_TYPE.INTS, ints: [...a.value] };
  }
}

/** The little-endian bytes of a typed array (a copy, detached from any larger buffer). */
function bytesOf(data: Float32Array | Int32Array | Uint8Array | BigInt64Array): Uint8Array {
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

export class OnnxGraphBuilder {
  readonly nodes: NodeMsg[] = [];
  readonly initializers: TensorMsg[] = [];
  private readonly used = new Set<string>();
  private readonly int64Cache = new Map<string, string>();

  /** Marks `name` as taken (graph inputs, Kiln tensor names). */
  reserve(name: string): void {
    this.used.add(name);
  }

  isUsed(name: string): boolean {
    return this.used.has(name);
  }

  /** A value name not used yet, derived from `hint`. */
  fresh(hint: string): string {
    let name = hint;
    for (let i = 1; this.used.has(name); i++) name = `${hint}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Appends a node; returns its output names. */
  node(opType: string, inputs: readonly string[], outputs: readonly string[], attrs: OnnxAttrs = {}, nodeName?: string): string[] {
    for (const o of outputs) this.used.add(o);
    this.nodes.push({
      name: nodeName ?? this.fresh(`${opType}_node`),
      op_type: opType,
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attrs).map(([k, v]) => attributeMsg(k, v)),
    });
    return [...outputs];
  }

  /** An initializer holding a Kiln host tensor, under exactly `name`. */
  tensor(name: string, t: Tensor): string {
    this.used.add(name);
    this.initializers.push({ name, dims: [...t.shape], data_type: onnxElemType(t.dtype), raw_data: bytesOf(t.data) });
    return name;
  }

  /** An int64 initializer (shapes, axes, pads); identical lists share one initializer. */
  int64(values: readonly number[], shape: readonly number[] = [values.length], hint = 'const_i64'): string {
    const key = `${shape.join('x')}:${values.join(',')}`;
    const cached = this.int64Cache.get(key);
    if (cached) return cached;
    const name = this.fresh(hint);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims: [...shape], data_type: ONNX_INT64, raw_data: bytesOf(data) });
    this.int64Cache.set(key, name);
    return name;
  }

  /** A scalar initializer of a Kiln dtype. */
  scalar(value: number, dtype: DType, hint = 'const'): string {
    const data = dtype === 'float32' ? Float32Array.of(value) : dtype === 'int32' ? Int32Array.of(value) : Uint8Array.of(value ? 1 : 0);
    const name = this.fresh(hint);
    this.initializers.push({ name, dims: [], data_type: onnxElemType(dtype), raw_data: bytesOf(data) });
    return name;
  }

  /** A rank-1 initializer of a Kiln dtype. */
  vector(values: readonly number[], dtype: DType, hint = 'const'): string {
    const data = dtype === 'float32' ? Float32Array.from(values) : dtype === 'int32' ? Int32Array.from(values) : Uint8Array.from(values);
    const name = this.fresh(hint);
    this.initializers.push({ name, dims: [values.length], data_type: onnxElemType(dtype), raw_data: bytesOf(data) });
    return name;
  }
}
