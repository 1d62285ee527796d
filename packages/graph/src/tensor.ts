/** Host tensors: concrete values with a fully known shape, stored row-major in a typed array. */
import { type DType, type TypedArray, allocData, bytesPerElement, castScalar, isDType } from './dtype.js';
import { KilnError, fmtShape } from './errors.js';
import { sizeOf } from './shape.js';
import { checkedShape, describeValue } from './value-check.js';

export type NestedArray = number | boolean | NestedArray[];

const READ_ONLY: PropertyDescriptor = { writable: false, configurable: false };

/** Zeroed storage for `shape`; a size the engine cannot allocate is RESOURCE_EXHAUSTED, not a RangeError. */
function allocChecked(dtype: DType, shape: readonly number[], who: string): TypedArray {
  const n = sizeOf(shape);
  try {
    return allocData(dtype, n);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new KilnError(
      'RESOURCE_EXHAUSTED',
      `${who}: cannot allocate ${n} ${dtype} values (${n * bytesPerElement(dtype)} bytes) for shape ${fmtShape(shape)}: ${e.message}`,
    );
  }
}

export class Tensor {
  readonly shape: number[];
  readonly dtype: DType;
  readonly data: TypedArray;

  constructor(dtype: DType, shape: readonly number[], data?: TypedArray) {
    if (!isDType(dtype)) {
      throw new KilnError(
        'INVALID_ARGUMENT',
        `tensor: unknown dtype ${typeof dtype === 'string' ? `'${dtype}'` : describeValue(dtype)} (expected 'float32', 'int32' or 'bool')`,
      );
    }
    const dims = checkedShape(shape, 'tensor');
    const n = sizeOf(dims);
    if (data === undefined) {
      data = allocChecked(dtype, dims, 'tensor');
    } else {
      const expected = allocData(dtype, 0).constructor as { name: string };
      if (!ArrayBuffer.isView(data) || data instanceof DataView) {
        throw new KilnError('INVALID_ARGUMENT', `tensor: data must be a ${expected.name} for dtype ${dtype}, got ${describeValue(data)}`);
      }
      if (data.length !== n) {
        throw new KilnError('SHAPE_MISMATCH', `tensor: shape ${fmtShape(dims)} needs ${n} values, got ${data.length}`);
      }
      if (data.constructor !== expected) {
        throw new KilnError('DTYPE_MISMATCH', `tensor: dtype ${dtype} needs a ${expected.name}, got ${data.constructor.name}`);
      }
    }
    this.dtype = dtype;
    // The shape is frozen and the fields read-only, so a tensor's data always matches its shape.
    this.shape = Object.freeze(dims) as number[];
    this.data = data;
    Object.defineProperties(this, { dtype: READ_ONLY, shape: READ_ONLY, data: READ_ONLY });
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

  // Reading as TensorFlow.js does. `data` stays the typed-array field (every executor writes
  // it), so the Promise form of TF.js's data() is `await t.array()` or `t.dataSync()`.

  /** A copy of the values as a flat typed array (tf.Tensor.dataSync). */
  dataSync(): TypedArray {
    return this.data.slice();
  }

  /** The values as nested arrays (tf.Tensor.arraySync); a number for a scalar. */
  arraySync(): NestedArray {
    return this.toArray();
  }

  /** The values as nested arrays, asynchronously (tf.Tensor.array). */
  array(): Promise<NestedArray> {
    return Promise.resolve(this.toArray());
  }

  /** Prints the tensor to the console (tf.Tensor.print). */
  print(): void {
    console.log(this.toString());
  }

  /** `Tensor<float32[2]>([1,NaN])`: NaN and infinities as such (JSON would print null). */
  toString(): string {
    return `Tensor<${this.dtype}${fmtShape(this.shape)}>(${formatNested(this.toArray())})`;
  }
}

function formatNested(v: NestedArray): string {
  if (Array.isArray(v)) return `[${v.map(formatNested).join(',')}]`;
  return String(v);
}

/**
 * The shape of nested arrays and their leaves in row-major order, walked with a loop (any
 * depth). Ragged arrays are SHAPE_MISMATCH; a leaf that is not a number or a boolean is
 * INVALID_ARGUMENT naming its position.
 */
function readNested(v: unknown, where: string): { shape: number[]; flat: (number | boolean)[] } {
  const shape: number[] = [];
  for (let x = v; Array.isArray(x); x = x[0]) {
    shape.push(x.length);
    if (x.length === 0) break;
  }
  const flat: (number | boolean)[] = [];
  const leaf = (x: unknown, at: string | null): void => {
    if (typeof x !== 'number' && typeof x !== 'boolean') {
      const what = at === null ? `got ${describeValue(x)}` : `element ${at} is ${describeValue(x)}`;
      throw new KilnError('INVALID_ARGUMENT', `${where}: values must be numbers or booleans (or nested arrays of them); ${what}`);
    }
    flat.push(x);
  };
  if (shape.length === 0) {
    leaf(v, null);
    return { shape, flat };
  }
  const arrays: unknown[][] = [v as unknown[]];
  const cursor: number[] = [0];
  const at = (i: number) => `[${[...cursor.slice(0, -1), i].join('][')}]`;
  while (arrays.length > 0) {
    const d = arrays.length - 1;
    const arr = arrays[d]!;
    const i = cursor[d]!;
    if (i === arr.length) {
      arrays.pop();
      cursor.pop();
      if (cursor.length > 0) cursor[cursor.length - 1]!++;
      continue;
    }
    const x = arr[i];
    if (d + 1 < shape.length) {
      if (!Array.isArray(x) || x.length !== shape[d + 1]) {
        const got = Array.isArray(x) ? `shape [${x.length},...]` : 'a single value';
        throw new KilnError(
          'SHAPE_MISMATCH',
          `${where}: ragged nested array: element ${at(i)} has ${got} but element ${at(0)} has shape ${fmtShape(shape.slice(d + 1))}`,
        );
      }
      arrays.push(x);
      cursor.push(0);
    } else {
      if (Array.isArray(x))
        throw new KilnError('SHAPE_MISMATCH', `${where}: ragged nested array: element ${at(i)} is an array but element ${at(0)} is a single value`);
      leaf(x, at(i));
      cursor[d]!++;
    }
  }
  return { shape, flat };
}

function isTypedArray(v: unknown): v is TypedArray | Int8Array | Int16Array | Uint16Array | Uint8ClampedArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

/** The dtype a typed array's values take exactly; arrays whose values Kiln cannot hold exactly are refused. */
function dtypeOfTyped(v: ArrayBufferView): DType {
  if (v instanceof Int32Array || v instanceof Int16Array || v instanceof Int8Array || v instanceof Uint16Array) return 'int32';
  if (v instanceof Uint8Array) return 'bool';
  if (v instanceof Float32Array || v instanceof Uint8ClampedArray) return 'float32';
  const name = v.constructor.name;
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
    throw new KilnError(
      'INVALID_ARGUMENT',
      `tensor: a ${name} holds 64-bit integers, which Kiln does not store; convert it to an Int32Array (each value must fit in int32)`,
    );
  }
  throw new KilnError(
    'DTYPE_MISMATCH',
    `tensor: a ${name} cannot be stored exactly as float32, int32 or bool; convert it explicitly (Float32Array.from(values) or Int32Array.from(values))`,
  );
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
    const own = dtypeOfTyped(values);
    flat = values as unknown as ArrayLike<number>;
    inferred = [values.length];
    dt = dtype ?? own;
  } else {
    if (values instanceof DataView)
      throw new KilnError('INVALID_ARGUMENT', 'tensor: a DataView has no element type; pass a typed array (Float32Array, Int32Array, Uint8Array)');
    const nested = readNested(values, 'tensor');
    inferred = nested.shape;
    flat = nested.flat;
    dt = dtype ?? (nested.flat.length > 0 && typeof nested.flat[0] === 'boolean' ? 'bool' : 'float32');
  }
  const finalShape = shape === undefined ? inferred : checkedShape(shape, 'tensor');
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
