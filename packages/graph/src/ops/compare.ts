/**
 * Comparisons (-> bool, broadcasting, operands of one dtype), logical ops on bool tensors, and
 * where(condition, a, b), which broadcasts all three operands together.
 */
import type { DType } from '../dtype.js';
import type { SymbolicTensor } from '../graph.js';
import { broadcastShapes } from '../shape.js';
import { type TensorLike, apply1 } from './apply.js';
import { checkDType, defineBinary, defineUnary, sameDType } from './elementwise.js';
import { registerOp } from './registry.js';

const NUM: readonly DType[] = ['float32', 'int32'];
const ANY: readonly DType[] = ['float32', 'int32', 'bool'];
const BOOL: readonly DType[] = ['bool'];

defineBinary('equal', ANY, 'a == b elementwise, broadcasting.', 'bool', 'compare');
defineBinary('notEqual', ANY, 'a != b elementwise, broadcasting.', 'bool', 'compare');
defineBinary('less', NUM, 'a < b elementwise, broadcasting.', 'bool', 'compare');
defineBinary('lessEqual', NUM, 'a <= b elementwise, broadcasting.', 'bool', 'compare');
defineBinary('greater', NUM, 'a > b elementwise, broadcasting.', 'bool', 'compare');
defineBinary('greaterEqual', NUM, 'a >= b elementwise, broadcasting.', 'bool', 'compare');
defineBinary('logicalAnd', BOOL, 'a AND b on bool tensors, broadcasting.', 'bool', 'compare');
defineBinary('logicalOr', BOOL, 'a OR b on bool tensors, broadcasting.', 'bool', 'compare');
defineUnary('logicalNot', BOOL, 'NOT x on a bool tensor.', {}, 'compare');

registerOp({
  name: 'where',
  family: 'compare',
  doc: 'a where condition is true, else b; condition, a and b broadcast together.',
  inputs: [{ name: 'condition' }, { name: 'a' }, { name: 'b' }],
  attrs: {},
  infer: ([c, a, b], _attrs, ctx) => {
    checkDType(ctx.what, 'condition', c!.dtype, BOOL);
    const dtype = sameDType(ctx.what, a!, b!);
    const ab = broadcastShapes(a!.shape, b!.shape, ctx.what);
    return [{ dtype, shape: broadcastShapes(c!.shape, ab, ctx.what) }];
  },
});

export function equal(a: TensorLike, b: TensorLike): SymbolicTensor {
  return apply1('equal', [a, b]);
}
export function notEqual(a: TensorLike, b: TensorLike): SymbolicTensor {
  return apply1('notEqual', [a, b]);
}
export function less(a: TensorLike, b: TensorLike): SymbolicTensor {
  return apply1('less', [a, b]);
}
export function lessEqual(a: TensorLike, b: TensorLike): SymbolicTensor {
  return apply1('lessEqual', [a, b]);
}
export function greater(a: TensorLike, b: TensorLike): SymbolicTensor {
  return apply1('greater', [a, b]);
}
export function greaterEqual(a: TensorLike, b: TensorLike): SymbolicTensor {
  return apply1('greaterEqual', [a, b]);
}
export function logicalAnd(a: TensorLike, b: TensorLike): SymbolicTensor {
  return apply1('logicalAnd', [a, b]);
}
export function logicalOr(a: TensorLike, b: TensorLike): SymbolicTensor {
  return apply1('logicalOr', [a, b]);
}
export function logicalNot(x: TensorLike): SymbolicTensor {
  return apply1('logicalNot', [x]);
}
export function where(condition: TensorLike, a: TensorLike, b: TensorLike): SymbolicTensor {
  return apply1('where', [condition, a, b]);
}
