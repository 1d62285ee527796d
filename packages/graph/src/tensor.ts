/** Host tensors: concrete values with a fully known shape, stored row-major in a typed array. */
import { type DType, type TypedArray, allocData, castScalar, isDType } from './dtype.js';
import { KilnError, fmtShape } from './errors.js';
import { sizeOf } from './shape.js';

export type NestedArray = number | boolean | NestedArray[];

export class Tensor {
  readonly shape: number[];
  readonly dtype: DType;
  readonly data: TypedArray;

  constructor(dtype: DType, shape: readonly number[], data?: TypedArray) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new KilnError('INVALID_ARGUMENT', `tensor: invalid shape ${fmtShape(shape)}`);
    }
    this.dtype = dtype;
    this.shape = [...shape];
    const n = sizeOf(shape);
    if (data === undefined) {
      this.data = allocData(dtype, n);
    } else {
      if (data.length !== n) {
        throw new KilnError('SHAPE_MISMATCH', `tensor: shape ${fmtShape(shape)} needs ${n} values, got ${data.length}`);
      }
      const expected = allocData(dtype, 0).constructor;
      if (data.constructor !== expected) {
        throw new KilnError('DTYPE_MISMATCH', `tensor: dtype ${dtype} needs a ${expected.name}, got ${data.constructor.name}`);
      }
      this.data = data;
    }
  }

  get size(): number {
    return this.data.length;
  }
  get rank(): number {
    return this.shape.length;
  }

  /** The values as nested JS arrays (a number for a scalar; booleans for bool). */
  toArray(): NestedArray {
    const { shape, data, dtype } = this;
    const conv = (v: number): number | boolean => (dtype === 'bool' ? v !== 0 : v);
    if (shape.length === 0) return conv(data[0]!);
    const build = (dim: number, offset: number, stride: number): NestedArray[] => {
      const n = shape[dim]!;
      const inner = stride / Math.max(n, 1);
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) {
        out.push(dim === shape.length - 1 ? conv(data[offset + i]!) : build(dim + 1, offset + i * inner, inner));
      }
      return out;
    };
    return build(0, 0, data.length === 0 ? sizeOf(shape.map((d) => Math.max(d, 1))) : data.length);
  }

  /** A flat JS array of the values (numbers, bool as 0/1). */
  toFlat(): number[] {
    return Array.from(this.data);
  }

  /** A tensor sharing nothing with this one. */
  clone(): Tensor {
    return new Tensor(this.dtype, this.shape, this.data.slice());
  }

  /** Same data viewed with another shape of equal size. */
  reshape(shape: readonly number[]): Tensor {
    return new Tensor(this.dtype, shape, this.data);
  }

  toString(): string {
    return `Tensor<${this.dtype}${fmtShape(this.shape)}>(${JSON.stringify(this.toArray())})`;
  }
}

function inferShapeOfNested(v: NestedArray, where: string): number[] {
  if (!Array.isArray(v)) return [];
  if (v.length === 0) return [0];
  const inner = inferShapeOfNested(v[0]!, where);
  for (let i = 1; i < v.length; i++) {
    const s = inferShapeOfNested(v[i]!, where);
    if (s.length !== inner.length || s.some((d, j) => d !== inner[j])) {
      throw new KilnError('SHAPE_MISMATCH', `${where}: ragged nested array: element 0 has shape ${fmtShape(inner)} but element ${i} has shape ${fmtShape(s)}`);
    }
  }
  return [v.length, ...inner];
}

function flattenNested(v: NestedArray, out: (number | boolean)[]): void {
  if (Array.isArray(v)) for (const x of v) flattenNested(x, out);
  else out.push(v);
}

function isTypedArray(v: unknown): v is TypedArray | Float64Array | Int8Array | Int16Array | Uint16Array | Uint32Array {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function dtypeOfTyped(v: ArrayBufferView): DType {
  if (v instanceof Int32Array || v instanceof Int16Array || v instanceof Int8Array || v instanceof Uint16Array) return 'int32';
  if (v instanceof Uint8Array) return 'bool';
  return 'float32';
}

/**
 * Creates a host tensor from a typed array, a flat array with a shape, or nested arrays (as
 * tf.tensor does). The dtype defaults to the typed array's, else bool for booleans, else float32.
 */
export function tensor(values: TypedArray | ArrayBufferView | NestedArray | Tensor, shape?: number[], dtype?: DType): Tensor {
  if (dtype !== undefined && !isDType(dtype)) {
    throw new KilnError('INVALID_ARGUMENT', `tensor: unknown dtype '${String(dtype)}' (expected float32, int32 or bool)`);
  }
  if (values instanceof Tensor) {
    const t = dtype && dtype !== values.dtype ? castTensor(values, dtype) : values.clone();
    return shape ? t.reshape(shape) : t;
  }
  let flat: ArrayLike<number | boolean>;
  let inferred: number[];
  let dt: DType;
  if (isTypedArray(values)) {
    flat = values as unknown as ArrayLike<number>;
    inferred = [values.length];
    dt = dtype ?? dtypeOfTyped(values);
  } else {
    inferred = inferShapeOfNested(values as NestedArray, 'tensor');
    const out: (number | boolean)[] = [];
    flattenNested(values as NestedArray, out);
    flat = out;
    dt = dtype ?? (out.length > 0 && typeof out[0] === 'boolean' ? 'bool' : 'float32');
  }
  const finalShape = shape ?? inferred;
  const n = sizeOf(finalShape);
  if (n !== flat.length) {
    throw new KilnError('SHAPE_MISMATCH', `tensor: shape ${fmtShape(finalShape)} needs ${n} values, got ${flat.length}`);
  }
  const data = allocData(dt, n);
  for (let i = 0; i < n; i++) {
    const v = flat[i]!;
    data[i] = castScalar(typeof v === 'boolean' ? (v ? 1 : 0) : v, dt);
  }
  return new Tensor(dt, finalShape, data);
}

/** Converts values to another dtype (float->int truncates toward zero, like tf.cast). */
export function castTensor(t: Tensor, dtype: DType): Tensor {
  const data = allocData(dtype, t.size);
  for (let i = 0; i < t.size; i++) data[i] = castScalar(t.data[i]!, dtype);
  return new Tensor(dtype, t.shape, data);
}

export function scalar(v: number, dtype: DType = 'float32'): Tensor {
  return tensor([v], [], dtype);
}

export function zerosTensor(shape: number[], dtype: DType = 'float32'): Tensor {
  return new Tensor(dtype, shape);
}

export function fillTensor(shape: number[], value: number, dtype: DType = 'float32'): Tensor {
  const t = new Tensor(dtype, shape);
  t.data.fill(castScalar(value, dtype));
  return t;
}
