/**
 * Elementwise arithmetic: binary ops with NumPy broadcasting and unary math. Dtype rule as in
 * TensorFlow: both operands of a binary op have the same dtype (no silent float/int mixing).
 */
import type { DType } from '../dtype.js';
import { KilnError } from '../errors.js';
import type { SymbolicTensor } from '../graph.js';
import { broadcastShapes } from '../shape.js';
import { type TensorLike, apply1 } from './apply.js';
import { type InferContext, type TensorType, registerOp } from './registry.js';

export function checkDType(what: string, operand: string, got: DType, allowed: readonly DType[]): void {
  if (!allowed.includes(got)) {
    throw new KilnError('DTYPE_MISMATCH', `${what}: ${operand} must be ${allowed.join(' or ')}, got ${got}`);
  }
}

export function sameDType(what: string, a: TensorType, b: TensorType): DType {
  if (a.dtype !== b.dtype) {
    throw new KilnError('DTYPE_MISMATCH', `${what}: operands must have the same dtype, got ${a.dtype} and ${b.dtype} (use cast())`);
  }
  return a.dtype;
}

/** Registers a broadcasting binary op whose operands share a dtype from `allowed`. */
export function defineBinary(name: string, allowed: readonly DType[], doc: string, outDType?: DType): void {
  registerOp({
    name,
    family: 'elementwise',
    doc,
    inputs: [{ name: 'a' }, { name: 'b' }],
    attrs: {},
    infer: ([a, b], _attrs, ctx: InferContext) => {
      const dt = sameDType(ctx.what, a!, b!);
      checkDType(ctx.what, 'operands', dt, allowed);
      return [{ dtype: outDType ?? dt, shape: broadcastShapes(a!.shape, b!.shape, ctx.what) }];
    },
  });
}

/** Registers a unary op on dtypes from `allowed`, shape-preserving. */
export function defineUnary(name: string, allowed: readonly DType[], doc: string, attrs: Record<string, import('./registry.js').AttrSpec> = {}): void {
  registerOp({
    name,
    family: 'elementwise',
    doc,
    inputs: [{ name: 'x' }],
    attrs,
    infer: ([x], _attrs, ctx) => {
      checkDType(ctx.what, 'x', x!.dtype, allowed);
      return [{ dtype: x!.dtype, shape: [...x!.shape] }];
    },
  });
}

const NUM: readonly DType[] = ['float32', 'int32'];
const FLOAT: readonly DType[] = ['float32'];

defineBinary('add', NUM, 'a + b, broadcasting.');
defineUnary('relu', NUM, 'max(x, 0).');

export function add(a: TensorLike, b: TensorLike): SymbolicTensor {
  return apply1('add', [a, b]);
}
export function relu(x: TensorLike): SymbolicTensor {
  return apply1('relu', [x]);
}
export { FLOAT, NUM };
