/**
 * TensorProto / TensorShapeProto / DataType <-> Tensor, shape and dtype. Tensors are written
 * as raw little-endian tensor_content so values round-trip bit for bit (NaN payloads, -0, Inf);
 * float_val / int_val / bool_val are read too (TensorFlow writes small constants that way).
 * Every decoding problem throws KilnError('CORRUPT_MODEL') naming `where`.
 */
import { type DType, type TypedArray, allocData, bytesPerElement } from '../dtype.js';
import { KilnError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { DT_BOOL, DT_FLOAT, DT_INT32, type Int64, type TensorMsg, type TensorShapeMsg } from './schema.js';

/** Refuse to expand a one-value float_val/int_val/bool_val beyond this many elements (a corrupt shape must not exhaust memory). */
const MAX_FILL_ELEMENTS = 1 << 26;
/** Default total of bytes that one-value fills may expand to over one model (many small fills must not add up to gigabytes). */
export const MAX_FILL_BYTES_TOTAL = 1 << 28;

/** What is left of a model's fill budget (bytes), shared by every tensor of one file. */
export interface FillBudget {
  left: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function corrupt(message: string): never {
  throw new KilnError('CORRUPT_MODEL', message);
}

export function dtypeToProto(dtype: DType): number {
  return dtype === 'float32' ? DT_FLOAT : dtype === 'int32' ? DT_INT32 : DT_BOOL;
}

export function dtypeFromProto(v: unknown, where: string): DType {
  if (v === DT_FLOAT) return 'float32';
  if (v === DT_INT32) return 'int32';
  if (v === DT_BOOL) return 'bool';
  return corrupt(`${where}: unsupported DataType ${String(v)} (Kiln reads DT_FLOAT=1, DT_INT32=3, DT_BOOL=10)`);
}

/** An int64 field as a JS number; it must be a safe integer. */
export function int64ToNumber(v: Int64 | undefined, where: string): number {
  const n = v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber();
  if (!Number.isSafeInteger(n)) corrupt(`${where}: integer ${String(v)} is outside the exactly representable range`);
  return n;
}

/** A Kiln shape as TensorShapeProto: null (unknown) dims become -1. */
export function shapeToProto(shape: readonly (number | null)[]): TensorShapeMsg {
  return { dim: shape.map((d) => ({ size: d === null ? -1 : d })) };
}

/** TensorShapeProto -> shape; -1 becomes null when `allowUnknown`, any other negative size is corrupt. */
export function shapeFromProto(msg: TensorShapeMsg | null | undefined, where: string, allowUnknown: boolean): (number | null)[] {
  if (!msg) return corrupt(`${where}: missing shape`);
  if (msg.unknown_rank) corrupt(`${where}: shape has unknown rank (Kiln shapes always have a known rank)`);
  return (msg.dim ?? []).map((d, i) => {
    const size = int64ToNumber(d.size, `${where}: dim ${i}`);
    if (size === -1 && allowUnknown) return null;
    if (size < 0) corrupt(`${where}: dim ${i} has size ${size} (expected >= 0${allowUnknown ? ', or -1 for unknown' : ''})`);
    return size;
  });
}

/** Reverses every group of `width` bytes in place (only on big-endian hosts). */
function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i + width <= bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

export function tensorToProto(t: Tensor): TensorMsg {
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice();
  if (!LITTLE_ENDIAN) swapBytes(raw, bytesPerElement(t.dtype));
  return { dtype: dtypeToProto(t.dtype), tensor_shape: shapeToProto(t.shape), tensor_content: raw };
}

function fromContent(dtype: DType, size: number, content: Uint8Array, where: string): TypedArray {
  const bpe = bytesPerElement(dtype);
  if (content.length !== size * bpe) {
    corrupt(`${where}: tensor_content has ${content.length} bytes but a ${dtype} tensor of ${size} elements needs ${size * bpe}`);
  }
  const copy = new Uint8Array(content); // an own, aligned copy (protobufjs may hand out a Buffer view)
  if (!LITTLE_ENDIAN) swapBytes(copy, bpe);
  if (dtype === 'float32') return new Float32Array(copy.buffer, 0, size);
  if (dtype === 'int32') return new Int32Array(copy.buffer, 0, size);
  return copy;
}

function fromValues(dtype: DType, size: number, msg: TensorMsg, where: string, budget?: FillBudget): TypedArray {
  const fields: [string, readonly (number | boolean)[] | undefined, DType][] = [
    ['float_val', msg.float_val, 'float32'],
    ['int_val', msg.int_val, 'int32'],
    ['bool_val', msg.bool_val, 'bool'],
  ];
  let values: readonly (number | boolean)[] = [];
  for (const [field, vals, dt] of fields) {
    if (!vals || vals.length === 0) continue;
    if (dt !== dtype) corrupt(`${where}: a ${dtype} tensor holds ${field}`);
    values = vals;
  }
  if (values.length !== size && !(values.length === 1 && size <= MAX_FILL_ELEMENTS)) {
    corrupt(`${where}: ${values.length} values for a tensor of ${size} elements`);
  }
  if (values.length === 1 && size > 1 && budget) {
    const bytes = size * bytesPerElement(dtype);
    if (bytes > budget.left) {
      corrupt(
        `${where}: filling ${size} elements from one value would pass the file's total of ${MAX_FILL_BYTES_TOTAL} bytes of filled tensors (${budget.left} left)`,
      );
    }
    budget.left -= bytes;
  }
  const data = allocData(dtype, size);
  for (let i = 0; i < size; i++) {
    const v = values.length === 1 ? values[0]! : values[i]!;
    data[i] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
  }
  return data;
}

/**
 * The bytes a one-value fill of `msg` would expand to (0 when it is not a fill, or its shape is
 * unreadable: decoding reports that), so a file's fills can be summed before any is allocated.
 */
export function fillBytesOf(msg: TensorMsg | null | undefined): number {
  if (!msg || (msg.tensor_content?.length ?? 0) > 0) return 0;
  const count = (msg.float_val?.length ?? 0) + (msg.int_val?.length ?? 0) + (msg.bool_val?.length ?? 0);
  if (count !== 1) return 0;
  let size = 1;
  for (const d of msg.tensor_shape?.dim ?? []) {
    const n = d.size === undefined ? 0 : typeof d.size === 'number' ? d.size : d.size.toNumber();
    if (!(n >= 0)) return 0;
    size *= n;
  }
  const dtype = msg.dtype === DT_BOOL ? 1 : 4;
  return size > 1 ? size * dtype : 0;
}

/** Decodes a TensorProto; one-value fills are charged to `budget` when given (one budget per file). */
export function tensorFromProto(msg: TensorMsg | null | undefined, where: string, budget?: FillBudget): Tensor {
  if (!msg) return corrupt(`${where}: missing tensor`);
  const dtype = dtypeFromProto(msg.dtype, where);
  const shape = shapeFromProto(msg.tensor_shape, `${where}: tensor_shape`, false) as number[];
  let size = 1;
  for (const d of shape) size *= d;
  if (!Number.isSafeInteger(size)) corrupt(`${where}: shape [${shape.join(',')}] has too many elements`);
  const content = msg.tensor_content;
  const hasValues = (msg.float_val?.length ?? 0) + (msg.int_val?.length ?? 0) + (msg.bool_val?.length ?? 0) > 0;
  let data: TypedArray;
  if (content && content.length > 0) {
    if (hasValues) corrupt(`${where}: tensor has both tensor_content and typed values`);
    data = fromContent(dtype, size, content, where);
  } else if (hasValues) {
    data = fromValues(dtype, size, msg, where, budget);
  } else {
    if (size !== 0) corrupt(`${where}: tensor of ${size} elements has no values`);
    data = allocData(dtype, 0);
  }
  return new Tensor(dtype, shape, data);
}
