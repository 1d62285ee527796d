/**
 * Reference kernels: elementwise family. Math in float64, each result rounded to the output
 * dtype (float32 rounding, int32 wrap-around as two's-complement hardware does).
 */
import { type DType, Tensor, allocData, broadcastShapes, castScalar, stridesOf, sizeOf } from '@kiln/graph';
import { erfScalar, roundHalfEven } from '@kiln/compiler';
import { registerRefKernel } from '../registry.js';

/** Applies f to each broadcast pair of elements (NumPy broadcasting). */
export function broadcastBinary(a: Tensor, b: Tensor, outDType: Tensor['dtype'], f: (x: number, y: number) => number): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, 'broadcast') as number[];
  const rank = shape.length;
  const pad = (s: number[]) => [...Array(rank - s.length).fill(1), ...s] as number[];
  const as = pad(a.shape);
  const bs = pad(b.shape);
  const ast = stridesOf(as).map((st, i) => (as[i] === 1 ? 0 : st));
  const bst = stridesOf(bs).map((st, i) => (bs[i] === 1 ? 0 : st));
  const n = sizeOf(shape);
  const out = allocData(outDType, n);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let ai = 0;
    let bi = 0;
    for (let d = 0; d < rank; d++) {
      ai += idx[d]! * ast[d]!;
      bi += idx[d]! * bst[d]!;
    }
    out[i] = castScalar(f(a.data[ai]!, b.data[bi]!), outDType);
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return new Tensor(outDType, shape, out);
}

/** Applies f to each element. */
export function mapUnary(x: Tensor, f: (v: number) => number, outDType: Tensor['dtype'] = x.dtype): Tensor {
  const out = allocData(outDType, x.size);
  for (let i = 0; i < x.size; i++) out[i] = castScalar(f(x.data[i]!), outDType);
  return new Tensor(outDType, x.shape, out);
}

export { erfScalar, roundHalfEven };

const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

/** Stable log(1 + e^x). */
function softplusScalar(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** Float->int32 truncates toward zero, saturating at the int32 range; NaN becomes 0. */
function toInt32(v: number): number {
  if (Number.isNaN(v)) return 0;
  return Math.max(-2147483648, Math.min(2147483647, Math.trunc(v)));
}

function castValue(v: number, from: DType, to: DType): number {
  if (to === 'bool') return v !== 0 ? 1 : 0; // NaN is nonzero: true, as tf.cast
  if (to === 'int32' && from === 'float32') return toInt32(v);
  return v;
}

const isInt = (t: Tensor): boolean => t.dtype === 'int32';

// ---- binary -------------------------------------------------------------------------------
registerRefKernel('add', ([a, b]) => [broadcastBinary(a!, b!, a!.dtype, (x, y) => x + y)]);
registerRefKernel('sub', ([a, b]) => [broadcastBinary(a!, b!, a!.dtype, (x, y) => x - y)]);
registerRefKernel('mul', ([a, b]) => [broadcastBinary(a!, b!, a!.dtype, isInt(a!) ? Math.imul : (x, y) => x * y)]);
// int32: floor division (tf.div on two int32 tensors is floorDiv); x / 0 gives 0.
registerRefKernel('div', ([a, b]) => [broadcastBinary(a!, b!, a!.dtype, isInt(a!) ? (x, y) => (y === 0 ? 0 : Math.floor(x / y)) : (x, y) => x / y)]);
registerRefKernel('pow', ([a, b]) => [broadcastBinary(a!, b!, a!.dtype, (x, y) => Math.pow(x, y))]);
registerRefKernel('maximum', ([a, b]) => [broadcastBinary(a!, b!, a!.dtype, (x, y) => Math.max(x, y))]);
registerRefKernel('minimum', ([a, b]) => [broadcastBinary(a!, b!, a!.dtype, (x, y) => Math.min(x, y))]);
registerRefKernel('squaredDifference', ([a, b]) => [
  broadcastBinary(a!, b!, a!.dtype, isInt(a!) ? (x, y) => Math.imul((x - y) | 0, (x - y) | 0) : (x, y) => (x - y) * (x - y)),
]);

// ---- unary --------------------------------------------------------------------------------
function unary(op: string, f: (v: number) => number, intF: (v: number) => number = f): void {
  registerRefKernel(op, ([x]) => [mapUnary(x!, isInt(x!) ? intF : f)]);
}
unary('neg', (v) => -v);
unary('abs', Math.abs);
unary(
  'square',
  (v) => v * v,
  (v) => Math.imul(v, v),
);
unary('sign', (v) => (Number.isNaN(v) ? NaN : v > 0 ? 1 : v < 0 ? -1 : 0));
unary('exp', Math.exp);
unary('log', Math.log);
unary('sqrt', Math.sqrt);
unary('rsqrt', (v) => 1 / Math.sqrt(v));
unary('reciprocal', (v) => 1 / v);
unary('floor', Math.floor);
unary('ceil', Math.ceil);
unary('round', roundHalfEven);
unary('sin', Math.sin);
unary('tan', Math.tan);
unary('asin', Math.asin);
unary('acos', Math.acos);
unary('atan', Math.atan);
unary('sinh', Math.sinh);
unary('cosh', Math.cosh);
unary('asinh', Math.asinh);
unary('acosh', Math.acosh);
unary('atanh', Math.atanh);
unary('cos', Math.cos);
unary('tanh', Math.tanh);
unary('sigmoid', (v) => 1 / (1 + Math.exp(-v)));
unary('relu', (v) => (v > 0 ? v : Number.isNaN(v) ? NaN : 0));
unary('relu6', (v) => (Number.isNaN(v) ? NaN : Math.min(Math.max(v, 0), 6)));
unary('elu', (v) => (v > 0 ? v : Math.expm1(v)));
unary('selu', (v) => (v > 0 ? SELU_SCALE * v : SELU_SCALE * SELU_ALPHA * Math.expm1(v)));
unary('softplus', softplusScalar);
unary('erf', erfScalar);

registerRefKernel('gelu', ([x], attrs) => {
  if (attrs.approximate) {
    const k = Math.sqrt(2 / Math.PI);
    return [mapUnary(x!, (v) => 0.5 * v * (1 + Math.tanh(k * (v + 0.044715 * v * v * v))))];
  }
  return [mapUnary(x!, (v) => 0.5 * v * (1 + erfScalar(v / Math.SQRT2)))];
});
registerRefKernel('leakyRelu', ([x], attrs) => {
  const alpha = attrs.alpha as number;
  return [mapUnary(x!, (v) => (v > 0 ? v : alpha * v))];
});
registerRefKernel('clipByValue', ([x], attrs) => {
  const lo = attrs.clipValueMin as number;
  const hi = attrs.clipValueMax as number;
  return [mapUnary(x!, (v) => (Number.isNaN(v) ? NaN : Math.min(Math.max(v, lo), hi)))];
});

// ---- dtype and identity -------------------------------------------------------------------
registerRefKernel('cast', ([x], attrs) => {
  const to = attrs.dtype as DType;
  return [mapUnary(x!, (v) => castValue(v, x!.dtype, to), to)];
});
registerRefKernel('identity', ([x]) => [x!]);
registerRefKernel('stopGradient', ([x]) => [x!]);
