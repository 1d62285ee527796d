/**
 * CPU code generation for fused elementwise kernels: renders a ScalarExpr into the body of a
 * JavaScript function, compiled once per kernel with `new Function` and cached by the
 * executor. Broadcast operands are read through per-dimension strides (0 on broadcast dims),
 * so a broadcast never materializes. int32 arithmetic wraps as the reference does
 * (Math.imul, |0); bool results are 0/1.
 */
import { type ScalarExpr, exprToString } from '@kiln/compiler';
import { erfScalar, roundHalfEven } from '../reference/kernels/elementwise.js';

export type ElementwiseFn = (out: ArrayLike<number> & { [i: number]: number }, ...inputs: ArrayLike<number>[]) => void;

/** Helpers visible to generated code (H.*). */
export const helpers = {
  erf: erfScalar,
  roundEven: roundHalfEven,
  sign: (v: number) => (Number.isNaN(v) ? NaN : v > 0 ? 1 : v < 0 ? -1 : 0),
  floordiv: (a: number, b: number) => (b === 0 ? 0 : Math.floor(a / b)),
  toInt: (v: number) => (Number.isNaN(v) ? 0 : Math.max(-2147483648, Math.min(2147483647, Math.trunc(v)))),
};

function literal(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0';
  return `(${String(v)})`;
}

export function renderExpr(e: ScalarExpr, read: (index: number) => string, temps?: Map<string, string>): string {
  const r = (x: ScalarExpr) => renderExpr(x, read, temps);
  if (e.kind === 'input') return read(e.index);
  const bound = temps?.get(exprToString(e));
  if (bound) return bound;
  if (e.kind === 'const') return literal(e.value);
  const a = e.args.map(r);
  const int = e.dtype === 'int32';
  switch (e.fn) {
    case 'add': return int ? `((${a[0]} + ${a[1]}) | 0)` : `(${a[0]} + ${a[1]})`;
    case 'sub': return int ? `((${a[0]} - ${a[1]}) | 0)` : `(${a[0]} - ${a[1]})`;
    case 'mul': return int ? `Math.imul(${a[0]}, ${a[1]})` : `(${a[0]} * ${a[1]})`;
    case 'div': return `(${a[0]} / ${a[1]})`;
    case 'floordiv': return `H.floordiv(${a[0]}, ${a[1]})`;
    case 'mod': return `(${a[0]} % ${a[1]})`;
    case 'neg': return int ? `((-${a[0]}) | 0)` : `(-${a[0]})`;
    case 'abs': return `Math.abs(${a[0]})`;
    case 'pow': return `Math.pow(${a[0]}, ${a[1]})`;
    case 'max': return `Math.max(${a[0]}, ${a[1]})`;
    case 'min': return `Math.min(${a[0]}, ${a[1]})`;
    case 'exp': return `Math.exp(${a[0]})`;
    case 'log': return `Math.log(${a[0]})`;
    case 'log1p': return `Math.log1p(${a[0]})`;
    case 'sqrt': return `Math.sqrt(${a[0]})`;
    case 'tanh': return `Math.tanh(${a[0]})`;
    case 'sin': return `Math.sin(${a[0]})`;
    case 'cos': return `Math.cos(${a[0]})`;
    case 'erf': return `H.erf(${a[0]})`;
    case 'floor': return `Math.floor(${a[0]})`;
    case 'ceil': return `Math.ceil(${a[0]})`;
    case 'trunc': return `Math.trunc(${a[0]})`;
    case 'roundEven': return `H.roundEven(${a[0]})`;
    case 'sign': return `H.sign(${a[0]})`;
    case 'lt': return `(${a[0]} < ${a[1]} ? 1 : 0)`;
    case 'le': return `(${a[0]} <= ${a[1]} ? 1 : 0)`;
    case 'eq': return `(${a[0]} === ${a[1]} ? 1 : 0)`;
    case 'ne': return `(${a[0]} !== ${a[1]} ? 1 : 0)`;
    case 'and': return `(${a[0]} !== 0 && ${a[1]} !== 0 ? 1 : 0)`;
    case 'or': return `(${a[0]} !== 0 || ${a[1]} !== 0 ? 1 : 0)`;
    case 'not': return `(${a[0]} === 0 ? 1 : 0)`;
    case 'select': return `(${a[0]} !== 0 ? ${a[1]} : ${a[2]})`;
    case 'toInt': return e.args[0]!.dtype === 'float32' ? `H.toInt(${a[0]})` : a[0]!;
    case 'toFloat': return a[0]!;
    case 'toBool': return `(${a[0]} !== 0 ? 1 : 0)`;
  }
}

/**
 * Renders `expr` as statements binding every repeated call subtree to a local once (a fused
 * chain often uses a producer's value twice, e.g. relu(x) = x <= 0 ? 0 : x), then the value.
 */
function renderWithTemps(expr: ScalarExpr, read: (index: number) => string): { stmts: string; value: string } {
  const counts = new Map<string, number>();
  const walk = (e: ScalarExpr): void => {
    if (e.kind !== 'call') return;
    const key = exprToString(e);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (counts.get(key)! === 1) e.args.forEach(walk);
  };
  walk(expr);
  const temps = new Map<string, string>();
  const stmts: string[] = [];
  const bind = (e: ScalarExpr): void => {
    if (e.kind !== 'call') return;
    const key = exprToString(e);
    if (temps.has(key)) return;
    e.args.forEach(bind);
    if ((counts.get(key) ?? 0) > 1) {
      const name = `t${temps.size}`;
      stmts.push(`const ${name} = ${renderExpr(e, read, temps)};`);
      temps.set(key, name);
    }
  };
  bind(expr);
  return { stmts: stmts.join(' '), value: renderExpr(expr, read, temps) };
}

/** Element strides of `shape` broadcast against `out` (0 on broadcast dims), right-aligned. */
function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const rank = out.length;
  const strides = new Array<number>(rank).fill(0);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    strides[rank - shape.length + i] = d === 1 ? 0 : acc;
    acc *= d;
  }
  return strides;
}

/**
 * JS source of an elementwise kernel: `function(out, in0, in1, ...)` writing every element of
 * `out` (shape outShape) from inputs of shapes inShapes (broadcastable to outShape).
 */
export function elementwiseSource(expr: ScalarExpr, inShapes: readonly (readonly number[])[], outShape: readonly number[]): string {
  const n = outShape.reduce((a, b) => a * b, 1);
  const flat = inShapes.map((s) => s.reduce((a, b) => a * b, 1) === n);
  const scalar = inShapes.map((s) => s.reduce((a, b) => a * b, 1) === 1);
  const params = inShapes.map((_, i) => `in${i}`);
  const lines: string[] = [];
  if (inShapes.every((_, i) => flat[i] || scalar[i])) {
    inShapes.forEach((_, i) => scalar[i] && !flat[i] && lines.push(`const s${i} = in${i}[0];`));
    const body = renderWithTemps(expr, (i) => (flat[i] ? `in${i}[i]` : `s${i}`));
    lines.push(`for (let i = 0; i < ${n}; i++) { ${body.stmts} out[i] = ${body.value}; }`);
  } else {
    const rank = outShape.length;
    const strides = inShapes.map((s) => broadcastStrides(s, outShape));
    lines.push('let o = 0;');
    const idx = (i: number, d: number) => `p${i}_${d}`;
    let open = '';
    for (let d = 0; d < rank; d++) {
      open += `for (let d${d} = 0; d${d} < ${outShape[d]}; d${d}++) {\n`;
      for (let i = 0; i < inShapes.length; i++) {
        const prev = d === 0 ? '0' : idx(i, d - 1);
        open += `const ${idx(i, d)} = ${prev} + d${d} * ${strides[i]![d]};\n`;
      }
    }
    const body = renderWithTemps(expr, (i) => `in${i}[${rank === 0 ? '0' : idx(i, rank - 1)}]`);
    lines.push(`${open}${body.stmts} out[o++] = ${body.value};\n${'}'.repeat(rank)}`);
  }
  return `return function kernel(out, ${params.join(', ')}) {\n${lines.join('\n')}\n};`;
}

export function compileElementwise(expr: ScalarExpr, inShapes: readonly (readonly number[])[], outShape: readonly number[]): ElementwiseFn {
  const src = elementwiseSource(expr, inShapes, outShape);
  return new Function('H', src)(helpers) as ElementwiseFn;
}
