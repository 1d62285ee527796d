/**
 * Lowering of elementwise ops to the scalar-expression primitive: one rule per op, keyed by op
 * name, giving the op's value as a ScalarExpr over its inputs. An op with a rule here can be
 * fused into elementwise kernels; every other op is a kernel of its own (reduction,
 * contraction, movement or an opaque kernel). Semantics match the reference kernels (int32
 * division floors, division by zero gives 0 for int32; round is half-to-even; cast to int
 * truncates toward zero and saturates).
 */
import type { Attrs, DType } from '@kiln/graph';
import { type ScalarExpr, call, lit } from './scalar-expr.js';

export type ElementwiseLowering = (xs: ScalarExpr[], attrs: Readonly<Attrs>, outDType: DType) => ScalarExpr;

const rules = new Map<string, ElementwiseLowering>();

export function registerElementwiseLowering(op: string, rule: ElementwiseLowering): void {
  rules.set(op, rule);
}
export function getElementwiseLowering(op: string): ElementwiseLowering | undefined {
  return rules.get(op);
}

const F = 'float32';
const B = 'bool';
const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

const bin =
  (fn: Parameters<typeof call>[0]): ElementwiseLowering =>
  ([a, b], _attrs, dt) =>
    call(fn, dt, a!, b!);
const un =
  (fn: Parameters<typeof call>[0]): ElementwiseLowering =>
  ([x], _attrs, dt) =>
    call(fn, dt, x!);

registerElementwiseLowering('add', bin('add'));
registerElementwiseLowering('sub', bin('sub'));
registerElementwiseLowering('mul', bin('mul'));
registerElementwiseLowering('div', ([a, b], _at, dt) => call(dt === 'int32' ? 'floordiv' : 'div', dt, a!, b!));
registerElementwiseLowering('pow', bin('pow'));
registerElementwiseLowering('maximum', bin('max'));
registerElementwiseLowering('minimum', bin('min'));
registerElementwiseLowering('squaredDifference', ([a, b], _at, dt) => {
  const d = call('sub', dt, a!, b!);
  return call('mul', dt, d, d);
});
registerElementwiseLowering('neg', un('neg'));
registerElementwiseLowering('abs', un('abs'));
registerElementwiseLowering('square', ([x], _at, dt) => call('mul', dt, x!, x!));
registerElementwiseLowering('sign', un('sign'));
registerElementwiseLowering('exp', un('exp'));
registerElementwiseLowering('log', un('log'));
registerElementwiseLowering('sqrt', un('sqrt'));
registerElementwiseLowering('rsqrt', ([x]) => call('div', F, lit(1), call('sqrt', F, x!)));
registerElementwiseLowering('reciprocal', ([x]) => call('div', F, lit(1), x!));
registerElementwiseLowering('floor', un('floor'));
registerElementwiseLowering('ceil', un('ceil'));
registerElementwiseLowering('round', un('roundEven'));
registerElementwiseLowering('sin', un('sin'));
registerElementwiseLowering('cos', un('cos'));
registerElementwiseLowering('tanh', un('tanh'));
registerElementwiseLowering('sigmoid', ([x]) => call('div', F, lit(1), call('add', F, lit(1), call('exp', F, call('neg', F, x!)))));
registerElementwiseLowering('relu', ([x], _at, dt) => call('select', dt, call('le', B, x!, lit(0, dt)), lit(0, dt), x!));
registerElementwiseLowering('relu6', ([x]) => call('min', F, call('max', F, x!, lit(0)), lit(6)));
registerElementwiseLowering('elu', ([x]) => call('select', F, call('lt', B, lit(0), x!), x!, call('sub', F, call('exp', F, x!), lit(1))));
registerElementwiseLowering('selu', ([x]) =>
  call(
    'select',
    F,
    call('lt', B, lit(0), x!),
    call('mul', F, lit(SELU_SCALE), x!),
    call('mul', F, lit(SELU_SCALE * SELU_ALPHA), call('sub', F, call('exp', F, x!), lit(1))),
  ),
);
registerElementwiseLowering('softplus', ([x]) =>
  call('add', F, call('max', F, x!, lit(0)), call('log1p', F, call('exp', F, call('neg', F, call('abs', F, x!))))),
);
registerElementwiseLowering('erf', un('erf'));
registerElementwiseLowering('gelu', ([x], attrs) => {
  if (attrs.approximate) {
    const inner = call('mul', F, lit(Math.sqrt(2 / Math.PI)), call('add', F, x!, call('mul', F, lit(0.044715), call('mul', F, x!, call('mul', F, x!, x!)))));
    return call('mul', F, call('mul', F, lit(0.5), x!), call('add', F, lit(1), call('tanh', F, inner)));
  }
  return call('mul', F, call('mul', F, lit(0.5), x!), call('add', F, lit(1), call('erf', F, call('mul', F, x!, lit(Math.SQRT1_2)))));
});
registerElementwiseLowering('leakyRelu', ([x], attrs) => call('select', F, call('lt', B, lit(0), x!), x!, call('mul', F, lit(attrs.alpha as number), x!)));
registerElementwiseLowering('clipByValue', ([x], attrs, dt) =>
  call('min', dt, call('max', dt, x!, lit(attrs.clipValueMin as number, dt)), lit(attrs.clipValueMax as number, dt)),
);
registerElementwiseLowering('identity', ([x]) => x!);
registerElementwiseLowering('stopGradient', ([x]) => x!);
registerElementwiseLowering('cast', ([x], _at, dt) => call(dt === 'int32' ? 'toInt' : dt === 'bool' ? 'toBool' : 'toFloat', dt, x!));
registerElementwiseLowering('equal', bin('eq'));
registerElementwiseLowering('notEqual', bin('ne'));
registerElementwiseLowering('less', bin('lt'));
registerElementwiseLowering('lessEqual', bin('le'));
registerElementwiseLowering('greater', ([a, b]) => call('lt', B, b!, a!));
registerElementwiseLowering('greaterEqual', ([a, b]) => call('le', B, b!, a!));
registerElementwiseLowering('logicalAnd', bin('and'));
registerElementwiseLowering('logicalOr', bin('or'));
registerElementwiseLowering('logicalNot', un('not'));
registerElementwiseLowering('where', ([c, a, b], _at, dt) => call('select', dt, c!, a!, b!));
// Broadcasts are elementwise identities: the code generators read a broadcast operand through
// zero strides, so no broadcast is ever materialized. broadcastLike's `like` is shape-only.
/** Inputs read only for their shape, by op (no value flows from them). */
export const SHAPE_ONLY_INPUTS: Readonly<Record<string, readonly number[]>> = { broadcastLike: [1] };

registerElementwiseLowering('broadcastTo', ([x]) => x!);
registerElementwiseLowering('broadcastLike', ([x]) => x!);
