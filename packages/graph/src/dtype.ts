/** Element types. float32 everywhere; int32 for indices; bool stored one byte per element. */
export type DType = 'float32' | 'int32' | 'bool';
export const DTYPES: readonly DType[] = ['float32', 'int32', 'bool'];

export type TypedArray = Float32Array | Int32Array | Uint8Array;
export type DataFor<D extends DType> = D extends 'float32' ? Float32Array : D extends 'int32' ? Int32Array : Uint8Array;

export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'int32' || x === 'bool';
}

export function allocData(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bool':
      return new Uint8Array(size);
  }
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'bool' ? 1 : 4;
}

/** Converts a JS number to what storing it in `dtype` yields (float32 rounding, int truncation). */
export function castScalar(v: number, dtype: DType): number {
  switch (dtype) {
    case 'float32':
      return Math.fround(v);
    case 'int32':
      return v | 0;
    case 'bool':
      return v !== 0 && !Number.isNaN(v) ? 1 : 0;
  }
}
