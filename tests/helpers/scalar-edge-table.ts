/**
 * The one table of scalar edge values (±0, ±Infinity, NaN, subnormals, float32 and int32
 * extremes) and the dtype signatures of every ScalarFn, shared by the tests that check each code
 * generator (JS and WASM: packages/runtime-cpu/test/scalar-semantics.test.ts; WGSL:
 * tests/webgpu-scalar.test.ts) against the scalar evaluator.
 */
import type { ScalarFn } from '@kiln/compiler';
import type { DType } from '@kiln/graph';

export const EDGES: Record<DType, readonly number[]> = {
  float32: [
    0,
    -0,
    1,
    -1,
    0.5,
    -0.5,
    1.5,
    2.5,
    -2.5,
    0.1,
    3,
    -7,
    100,
    -100,
    1e30,
    -1e30,
    3.4028234663852886e38,
    -3.4028234663852886e38,
    1.401298464324817e-45,
    -1.401298464324817e-45,
    1.1754942106924411e-38,
    5.877471754111438e-39,
    16777216,
    16777217,
    2147483648,
    -2147483904,
    Infinity,
    -Infinity,
    NaN,
  ],
  int32: [0, 1, -1, 2, -2, 3, -7, 46341, -46341, 65536, 16777217, 2147483647, -2147483648, -2147483647],
  bool: [0, 1],
};

/** The dtype signatures of each function: [argument dtypes, result dtype]. */
export const F = 'float32';
export const I = 'int32';
export const B = 'bool';
export type Sig = [DType[], DType];
const numeric2 = (): Sig[] => [
  [[F, F], F],
  [[I, I], I],
];
export const SIGNATURES: Record<ScalarFn, Sig[]> = {
  add: numeric2(),
  sub: numeric2(),
  mul: numeric2(),
  div: numeric2(),
  floordiv: numeric2(),
  mod: numeric2(),
  pow: numeric2(),
  max: numeric2(),
  min: numeric2(),
  neg: [
    [[F], F],
    [[I], I],
  ],
  abs: [
    [[F], F],
    [[I], I],
  ],
  sign: [
    [[F], F],
    [[I], I],
  ],
  exp: [[[F], F]],
  log: [[[F], F]],
  log1p: [[[F], F]],
  sqrt: [[[F], F]],
  tanh: [[[F], F]],
  sin: [[[F], F]],
  cos: [[[F], F]],
  atan: [[[F], F]],
  erf: [[[F], F]],
  floor: [[[F], F]],
  ceil: [[[F], F]],
  roundEven: [[[F], F]],
  trunc: [[[F], F]],
  relu: [[[F], F]],
  lt: [
    [[F, F], B],
    [[I, I], B],
  ],
  le: [
    [[F, F], B],
    [[I, I], B],
  ],
  eq: [
    [[F, F], B],
    [[I, I], B],
  ],
  ne: [
    [[F, F], B],
    [[I, I], B],
  ],
  and: [[[B, B], B]],
  or: [[[B, B], B]],
  not: [[[B], B]],
  select: [
    [[B, F, F], F],
    [[B, I, I], I],
  ],
  toInt: [
    [[F], I],
    [[B], I],
    [[I], I],
  ],
  toFloat: [
    [[I], F],
    [[B], F],
    [[F], F],
  ],
  toBool: [
    [[F], B],
    [[I], B],
  ],
};

/** Whether v is a float32 subnormal (nonzero, below the smallest normal). */
export function isSubnormal(v: number): boolean {
  return v !== 0 && Math.abs(v) < 1.1754943508222875e-38;
}
