/**
 * Export rules for the elementwise and compare families. Most ops are one ONNX operator;
 * the rest are short compositions with Kiln's exact semantics: rsqrt = 1/sqrt, square = x*x,
 * gelu from Erf or Tanh, relu6 = Clip(0, 6), int32 div = floor division (x / 0 = 0), and
 * squaredDifference = (a-b)^2. ONNX Round rounds half to even, as Kiln's round.
 */
import { attr } from './builder.js';
import { type ExportContext, registerExportRule } from './rule.js';

const UNARY: Record<string, string> = {
  abs: 'Abs',
  neg: 'Neg',
  exp: 'Exp',
  log: 'Log',
  sqrt: 'Sqrt',
  reciprocal: 'Reciprocal',
  sign: 'Sign',
  sin: 'Sin',
  cos: 'Cos',
  tanh: 'Tanh',
  sigmoid: 'Sigmoid',
  erf: 'Erf',
  tan: 'Tan',
  asin: 'Asin',
  acos: 'Acos',
  atan: 'Atan',
  sinh: 'Sinh',
  cosh: 'Cosh',
  asinh: 'Asinh',
  acosh: 'Acosh',
  atanh: 'Atanh',
  softplus: 'Softplus',
  identity: 'Identity',
  stopGradient: 'Identity',
  logicalNot: 'Not',
};
for (const [op, onnx] of Object.entries(UNARY)) registerExportRule(op, (ctx) => ctx.emit(onnx, [ctx.in(0)]));

// Rounding an int32 is the identity (ONNX's Floor/Ceil/Round take floats only).
for (const [op, onnx] of [
  ['floor', 'Floor'],
  ['ceil', 'Ceil'],
  ['round', 'Round'],
] as const) {
  registerExportRule(op, (ctx) => ctx.emit(ctx.inDType(0) === 'int32' ? 'Identity' : onnx, [ctx.in(0)]));
}

const BINARY: Record<string, string> = {
  add: 'Add',
  sub: 'Sub',
  mul: 'Mul',
  pow: 'Pow',
  maximum: 'Max',
  minimum: 'Min',
  equal: 'Equal',
  less: 'Less',
  lessEqual: 'LessOrEqual',
  greater: 'Greater',
  greaterEqual: 'GreaterOrEqual',
  logicalAnd: 'And',
  logicalOr: 'Or',
};
for (const [op, onnx] of Object.entries(BINARY)) registerExportRule(op, (ctx) => ctx.emit(onnx, [ctx.in(0), ctx.in(1)]));

registerExportRule('notEqual', (ctx) => ctx.emit('Not', [ctx.tmp('Equal', [ctx.in(0), ctx.in(1)])]));
registerExportRule('where', (ctx) => ctx.emit('Where', [ctx.in(0), ctx.in(1), ctx.in(2)]));

/** int32 a / b as floor division with b == 0 giving 0: (a - mod(a, b')) / b' with b' = b or 1. */
function intFloorDiv(ctx: ExportContext): void {
  const zero = ctx.b.scalar(0, 'int32', 'zero_i32');
  const one = ctx.b.scalar(1, 'int32', 'one_i32');
  const isZero = ctx.tmp('Equal', [ctx.in(1), zero]);
  const safe = ctx.tmp('Where', [isZero, one, ctx.in(1)]);
  const rem = ctx.tmp('Mod', [ctx.in(0), safe], { fmod: attr.int(0) });
  const q = ctx.tmp('Div', [ctx.tmp('Sub', [ctx.in(0), rem]), safe]);
  ctx.emit('Where', [isZero, zero, q]);
}
registerExportRule('div', (ctx) => (ctx.inDType(0) === 'int32' ? intFloorDiv(ctx) : ctx.emit('Div', [ctx.in(0), ctx.in(1)])));

registerExportRule('squaredDifference', (ctx) => {
  const d = ctx.tmp('Sub', [ctx.in(0), ctx.in(1)]);
  ctx.emit('Mul', [d, d]);
});
registerExportRule('square', (ctx) => ctx.emit('Mul', [ctx.in(0), ctx.in(0)]));
registerExportRule('rsqrt', (ctx) => ctx.emit('Reciprocal', [ctx.tmp('Sqrt', [ctx.in(0)])]));
registerExportRule('relu', (ctx) =>
  ctx.inDType(0) === 'int32' ? ctx.emit('Max', [ctx.in(0), ctx.b.scalar(0, 'int32', 'zero_i32')]) : ctx.emit('Relu', [ctx.in(0)]),
);
registerExportRule('relu6', (ctx) => ctx.emit('Clip', [ctx.in(0), ctx.b.scalar(0, 'float32', 'zero'), ctx.b.scalar(6, 'float32', 'six')]));
registerExportRule('leakyRelu', (ctx) => ctx.emit('LeakyRelu', [ctx.in(0)], { alpha: attr.float(ctx.attrs.alpha as number) }));
registerExportRule('elu', (ctx) => ctx.emit('Elu', [ctx.in(0)], { alpha: attr.float(1) }));
registerExportRule('selu', (ctx) => ctx.emit('Selu', [ctx.in(0)], { alpha: attr.float(1.6732632423543772), gamma: attr.float(1.0507009873554805) }));
registerExportRule('clipByValue', (ctx) => {
  const dt = ctx.inDType(0);
  ctx.emit('Clip', [ctx.in(0), ctx.b.scalar(ctx.attrs.clipValueMin as number, dt, 'clip_min'), ctx.b.scalar(ctx.attrs.clipValueMax as number, dt, 'clip_max')]);
});

registerExportRule('gelu', (ctx) => {
  const x = ctx.in(0);
  const half = ctx.b.scalar(0.5, 'float32', 'half');
  const one = ctx.b.scalar(1, 'float32', 'one');
  let inner: string;
  if (ctx.attrs.approximate) {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    const cube = ctx.tmp('Mul', [ctx.tmp('Mul', [x, x]), x]);
    const poly = ctx.tmp('Add', [x, ctx.tmp('Mul', [cube, ctx.b.scalar(0.044715, 'float32', 'gelu_c')])]);
    inner = ctx.tmp('Tanh', [ctx.tmp('Mul', [poly, ctx.b.scalar(Math.sqrt(2 / Math.PI), 'float32', 'gelu_k')])]);
  } else {
    // 0.5 x (1 + erf(x / sqrt(2)))
    inner = ctx.tmp('Erf', [ctx.tmp('Mul', [x, ctx.b.scalar(Math.SQRT1_2, 'float32', 'rsqrt2')])]);
  }
  ctx.emit('Mul', [ctx.tmp('Mul', [x, half]), ctx.tmp('Add', [inner, one])]);
});

const ONNX_TO: Record<string, number> = { float32: 1, int32: 6, bool: 9 };
registerExportRule('cast', (ctx) => ctx.emit('Cast', [ctx.in(0)], { to: attr.int(ONNX_TO[ctx.attrs.dtype as string]!) }));
