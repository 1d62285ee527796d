/**
 * Lowering of elementwise ops to the scalar-expression primitive: one rule per op, keyed by op
 * name, giving the op's value as a ScalarExpr over its inputs. An op with a rule here can be
 * fused into elementwise kernels; every other op is a kernel of its own (reduction,
 * contraction, movement or an opaque kernel). Semantics match the reference kernels (int32
 * division floors, division by zero gives 0 for int32; round is half-to-even; cast to int
 * truncates toward zero and saturates).
 */
import { type Attrs, type DType, type OpName, isOpName } from '@kiln/graph';
import { type ScalarExpr, call, lit } from './scalar-expr.js';

export type ElementwiseLowering = (xs: ScalarExpr[], attrs: Readonly<Attrs>, outDType: DType) => ScalarExpr;

/** Lowerings of ops registered at run time (a test's or an extension's op, outside OpName). */
const extra = new Map<string, ElementwiseLowering>();

export function registerElementwiseLowering(op: string, rule: ElementwiseLowering): void {
  extra.set(op, rule);
}
export function getElementwiseLowering(op: string): ElementwiseLowering | undefined {
  return extra.get(op) ?? (isOpName(op) ? (ELEMENTWISE_LOWERINGS[op] ?? undefined) : undefined);
}

const F = 'float32';
const B = 'bool';
const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

/** asin(x) as atan(x / sqrt(1 - x^2)), the one inverse trig function the scalar level has. */
function asinExpr(x: ScalarExpr): ScalarExpr {
  return call('atan', F, call('div', F, x, call('sqrt', F, call('sub', F, lit(1), call('mul', F, x, x)))));
}

const bin =
  (fn: Parameters<typeof call>[0]): ElementwiseLowering =>
  ([a, b], _attrs, dt) =>
    call(fn, dt, a!, b!);
const un =
  (fn: Parameters<typeof call>[0]): ElementwiseLowering =>
  ([x], _attrs, dt) =>
    call(fn, dt, x!);

/**
 * The elementwise lowering of every op: a complete record over OpName (a new op without an
 * entry is a type error); null for ops that are not elementwise (reductions, contractions,
 * movement, routines). Broadcasts are elementwise identities: the code generators read a
 * broadcast operand through zero strides, so no broadcast is ever materialized.
 */
const ELEMENTWISE_LOWERINGS: Readonly<Record<OpName, ElementwiseLowering | null>> = {
  abs: un('abs'),
  add: bin('add'),
  argMax: null,
  argMin: null,
  assign: null,
  assignAdd: null,
  assignSub: null,
  avgPool: null,
  avgPoolGrad: null,
  batchNorm: null,
  broadcastLike: ([x]) => x!,
  broadcastTo: ([x]) => x!,
  cast: ([x], _at, dt) => call(dt === 'int32' ? 'toInt' : dt === 'bool' ? 'toBool' : 'toFloat', dt, x!),
  ceil: un('ceil'),
  clipByValue: ([x], attrs, dt) => call('min', dt, call('max', dt, x!, lit(attrs.clipValueMin as number, dt)), lit(attrs.clipValueMax as number, dt)),
  concat: null,
  const: null,
  conv2d: null,
  conv2dBackpropFilter: null,
  conv2dBackpropInput: null,
  conv2dTranspose: null,
  cos: un('cos'),
  cumsum: null,
  depthwiseConv2d: null,
  depthwiseConv2dBackpropFilter: null,
  depthwiseConv2dBackpropInput: null,
  div: ([a, b], _at, dt) => call(dt === 'int32' ? 'floordiv' : 'div', dt, a!, b!),
  dropout: null,
  multinomial: null,
  randomNormal: null,
  randomUniform: null,
  truncatedNormal: null,
  elu: ([x]) => call('select', F, call('lt', B, lit(0), x!), x!, call('sub', F, call('exp', F, x!), lit(1))),
  equal: bin('eq'),
  erf: un('erf'),
  exp: un('exp'),
  expandDims: null,
  floor: un('floor'),
  gather: null,
  gelu: ([x], attrs) => {
    if (attrs.approximate) {
      const inner = call('mul', F, lit(Math.sqrt(2 / Math.PI)), call('add', F, x!, call('mul', F, lit(0.044715), call('mul', F, x!, call('mul', F, x!, x!)))));
      return call('mul', F, call('mul', F, lit(0.5), x!), call('add', F, lit(1), call('tanh', F, inner)));
    }
    return call('mul', F, call('mul', F, lit(0.5), x!), call('add', F, lit(1), call('erf', F, call('mul', F, x!, lit(Math.SQRT1_2)))));
  },
  greater: ([a, b]) => call('lt', B, b!, a!),
  greaterEqual: ([a, b]) => call('le', B, b!, a!),
  identity: ([x]) => x!,
  layerNorm: null,
  leakyRelu: ([x], attrs) => call('select', F, call('lt', B, lit(0), x!), x!, call('mul', F, lit(attrs.alpha as number), x!)),
  less: bin('lt'),
  lessEqual: bin('le'),
  log: un('log'),
  logSoftmax: null,
  logicalAnd: bin('and'),
  logicalNot: un('not'),
  logicalOr: bin('or'),
  matMul: null,
  max: null,
  maxPool: null,
  maxPoolGrad: null,
  maxPoolGradGrad: null,
  maximum: bin('max'),
  mean: null,
  min: null,
  minimum: bin('min'),
  mul: bin('mul'),
  neg: un('neg'),
  noOp: null,
  notEqual: bin('ne'),
  oneHot: null,
  pad: null,
  placeholder: null,
  pow: bin('pow'),
  prod: null,
  reciprocal: ([x]) => call('div', F, lit(1), x!),
  relu: ([x], _at, dt) => call('select', dt, call('le', B, x!, lit(0, dt)), lit(0, dt), x!),
  relu6: ([x]) => call('min', F, call('max', F, x!, lit(0)), lit(6)),
  reshape: null,
  round: un('roundEven'),
  rsqrt: ([x]) => call('div', F, lit(1), call('sqrt', F, x!)),
  selu: ([x]) =>
    call(
      'select',
      F,
      call('lt', B, lit(0), x!),
      call('mul', F, lit(SELU_SCALE), x!),
      call('mul', F, lit(SELU_SCALE * SELU_ALPHA), call('sub', F, call('exp', F, x!), lit(1))),
    ),
  sigmoid: ([x]) => call('div', F, lit(1), call('add', F, lit(1), call('exp', F, call('neg', F, x!)))),
  sign: un('sign'),
  sin: un('sin'),
  tan: ([x]) => call('div', F, call('sin', F, x!), call('cos', F, x!)),
  atan: un('atan'),
  // asin(x) = atan(x / sqrt(1 - x^2)): x = +-1 divides by 0 into atan(+-Infinity) = +-pi/2.
  asin: ([x]) => asinExpr(x!),
  acos: ([x]) => call('sub', F, lit(Math.PI / 2), asinExpr(x!)),
  sinh: ([x]) => call('mul', F, lit(0.5), call('sub', F, call('exp', F, x!), call('exp', F, call('neg', F, x!)))),
  cosh: ([x]) => call('mul', F, lit(0.5), call('add', F, call('exp', F, x!), call('exp', F, call('neg', F, x!)))),
  // asinh is odd: sign(x) * log(|x| + sqrt(x^2 + 1)) keeps negative inputs accurate.
  asinh: ([x]) => {
    const a = call('abs', F, x!);
    return call('mul', F, call('sign', F, x!), call('log', F, call('add', F, a, call('sqrt', F, call('add', F, call('mul', F, a, a), lit(1))))));
  },
  acosh: ([x]) => call('log', F, call('add', F, x!, call('sqrt', F, call('sub', F, call('mul', F, x!, x!), lit(1))))),
  atanh: ([x]) => call('mul', F, lit(0.5), call('sub', F, call('log1p', F, x!), call('log1p', F, call('neg', F, x!)))),
  slice: null,
  softmax: null,
  softplus: ([x]) => call('add', F, call('max', F, x!, lit(0)), call('log1p', F, call('exp', F, call('neg', F, call('abs', F, x!))))),
  split: null,
  sqrt: un('sqrt'),
  square: ([x], _at, dt) => call('mul', dt, x!, x!),
  squaredDifference: ([a, b], _at, dt) => {
    const d = call('sub', dt, a!, b!);
    return call('mul', dt, d, d);
  },
  squeeze: null,
  stack: null,
  stopGradient: ([x]) => x!,
  sub: bin('sub'),
  sum: null,
  tanh: un('tanh'),
  tile: null,
  transpose: null,
  unsortedSegmentSum: null,
  variable: null,
  where: ([c, a, b], _at, dt) => call('select', dt, c!, a!, b!),
};

/** Inputs read only for their shape, by op (no value flows from them): broadcastLike's `like`. */
export const SHAPE_ONLY_INPUTS: Readonly<Record<string, readonly number[]>> = { broadcastLike: [1] };
