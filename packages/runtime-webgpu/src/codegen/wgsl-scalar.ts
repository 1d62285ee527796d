/**
 * WGSL rendering of scalar expressions: the WGSL table of function renderings over the
 * compiler's shared expression machinery (hash-consing, target rewrites, postorder, use
 * counts; lower/). Values follow the scalar evaluator (lower/scalar-eval.ts): float32 is f32,
 * int32 is i32 (WGSL wraps + - * on i32; division, modulo and pow go through helpers that
 * give 0 on a zero divisor), bool is u32 0/1 (storage has no 8-bit type). NaN rules of max,
 * min, sign, toInt and tanh are explicit helpers (WGSL leaves them to the implementation).
 * Every call node and constant is bound to a `let`, so no WGSL const-expression ever divides
 * by zero or overflows at shader creation, and the text is linear in the DAG's size;
 * non-finite constants come from kiln_f32bits (a function call is never a const-expression).
 */
import type { DType } from '@kiln/graph';
import { type CallExpr, type ScalarExpr, type TargetCapabilities, capabilitiesWithout, internExprs, postorder, rewriteForTarget } from '@kiln/compiler';

/** WGSL renders every function but erf and log1p (decomposed by the target rewrites) and the relu target form. */
export const WGSL_TARGET: TargetCapabilities = capabilitiesWithout('wgsl', ['erf', 'log1p', 'relu']);

/** The WGSL type holding a value of `dtype`. */
export function wgslType(dtype: DType): 'f32' | 'i32' | 'u32' {
  return dtype === 'float32' ? 'f32' : dtype === 'int32' ? 'i32' : 'u32';
}

/** Helper functions by name; a shader includes the ones its expressions use. */
const HELPERS: Record<string, string> = {
  kiln_isnan: 'fn kiln_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }',
  kiln_fmax:
    'fn kiln_fmax(a: f32, b: f32) -> f32 { if (kiln_isnan(a) || kiln_isnan(b)) { return kiln_f32bits(0x7fc00000u); } if (a == b) { return bitcast<f32>(bitcast<u32>(a) & bitcast<u32>(b)); } return select(b, a, a > b); }',
  kiln_fmin:
    'fn kiln_fmin(a: f32, b: f32) -> f32 { if (kiln_isnan(a) || kiln_isnan(b)) { return kiln_f32bits(0x7fc00000u); } if (a == b) { return bitcast<f32>(bitcast<u32>(a) | bitcast<u32>(b)); } return select(b, a, a < b); }',
  kiln_fsign: 'fn kiln_fsign(x: f32) -> f32 { if (kiln_isnan(x)) { return x; } return f32(i32(x > 0.0f) - i32(x < 0.0f)); }',
  kiln_fround: 'fn kiln_fround(x: f32) -> f32 { let r = round(x); return select(r, select(0.0f, x, x == 0.0f), r == 0.0f); }',
  kiln_isinf: 'fn kiln_isinf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }',
  kiln_fmod:
    'fn kiln_fmod(a: f32, b: f32) -> f32 { if (kiln_isnan(a) || kiln_isnan(b) || b == 0.0f || kiln_isinf(a)) { return kiln_f32bits(0x7fc00000u); } var r = abs(a); let m = abs(b); if (r < m) { return a; } for (var i = 0; i < 300 && r >= m; i++) { let fr = frexp(r); let fm = frexp(m); var k = fr.exp - fm.exp; if (fm.fract > fr.fract) { k = k - 1; } r = r - ldexp(m, k); } return select(r, -r, a < 0.0f || (a == 0.0f && bitcast<u32>(a) != 0u)); }',
  kiln_ffloordiv:
    'fn kiln_ffloordiv(a: f32, b: f32) -> f32 { let q = a / b; if (kiln_isnan(q) || kiln_isinf(q) || kiln_isinf(b)) { return floor(q); } let r = kiln_fmod(a, b); var f = round((a - r) / b); if (!(r == 0.0f) && ((r < 0.0f) != (b < 0.0f))) { f = f - 1.0f; } return select(f, floor(q), abs(q) >= 16777216.0f); }',
  kiln_tanh: 'fn kiln_tanh(x: f32) -> f32 { if (kiln_isnan(x)) { return x; } return tanh(clamp(x, -15.0f, 15.0f)); }',
  kiln_fpow:
    'fn kiln_fpow(x: f32, y: f32) -> f32 { let inf = kiln_f32bits(0x7f800000u); if (y == 0.0f) { return 1.0f; } if (kiln_isnan(x) || kiln_isnan(y)) { return kiln_f32bits(0x7fc00000u); } if (y == 1.0f) { return x; } let whole = y == floor(y); let odd = whole && abs(y) < 16777216.0f && !(fract(y * 0.5f) == 0.0f); let neg = bitcast<u32>(x) >= 0x80000000u; if (x == 0.0f) { if (y > 0.0f) { return select(0.0f, x, odd); } return select(inf, select(inf, -inf, neg), odd); } if (kiln_isinf(x)) { if (kiln_isinf(y) && y < 0.0f) { return 0.0f; } if (!neg) { return select(0.0f, inf, y > 0.0f); } if (y > 0.0f) { return select(inf, -inf, odd); } return select(0.0f, -0.0f, odd); } if (x < 0.0f) { if (!whole) { return kiln_f32bits(0x7fc00000u); } let r = pow(-x, y); return select(r, -r, odd); } return pow(x, y); }',
  kiln_toint:
    'fn kiln_toint(x: f32) -> i32 { if (kiln_isnan(x)) { return 0; } if (x >= 2147483648.0f) { return 2147483647; } if (x <= -2147483648.0f) { return -2147483647 - 1; } return i32(x); }',
  kiln_idiv: 'fn kiln_idiv(a: i32, b: i32) -> i32 { if (b == 0) { return 0; } if (b == -1) { return -a; } return a / b; }',
  kiln_imod: 'fn kiln_imod(a: i32, b: i32) -> i32 { if (b == 0 || b == -1) { return 0; } return a % b; }',
  kiln_ifloordiv:
    'fn kiln_ifloordiv(a: i32, b: i32) -> i32 { if (b == 0) { return 0; } if (b == -1) { return -a; } let q = a / b; if ((a % b != 0) && ((a < 0) != (b < 0))) { return q - 1; } return q; }',
  kiln_ipow:
    'fn kiln_ipow(x: i32, y: i32) -> i32 { if (abs(f32(x)) >= 2.0f && f32(y) * log2(abs(f32(x))) >= 84.0f) { return 0; } if (y < 0) { if (x == 1) { return 1; } if (x == -1) { return select(1, -1, (y & 1) != 0); } return 0; } var r = 1; var b = x; var e = y; loop { if (e == 0) { break; } if ((e & 1) != 0) { r = r * b; } b = b * b; e = e >> 1u; } return r; }',
};
const HELPER_DEPS: Record<string, string[]> = {
  kiln_fmax: ['kiln_isnan'],
  kiln_fmin: ['kiln_isnan'],
  kiln_fsign: ['kiln_isnan'],
  kiln_tanh: ['kiln_isnan'],
  kiln_toint: ['kiln_isnan'],
  kiln_fpow: ['kiln_isnan', 'kiln_isinf'],
  kiln_fmod: ['kiln_isnan', 'kiln_isinf'],
  kiln_ffloordiv: ['kiln_isnan', 'kiln_isinf', 'kiln_fmod'],
};

/** The WGSL source of the helpers named in `used` (with their dependencies), in a stable order. */
export function helperSource(used: ReadonlySet<string>): string {
  const all = new Set<string>();
  for (const h of used) {
    all.add(h);
    for (const d of HELPER_DEPS[h] ?? []) all.add(d);
  }
  return Object.keys(HELPERS)
    .filter((h) => all.has(h))
    .map((h) => HELPERS[h])
    .join('\n');
}

/** A WGSL literal of `v` in the WGSL type of `dtype` (non-finite floats as bit patterns). */
export function wgslLiteral(v: number, dtype: DType): string {
  if (dtype === 'int32') return (v | 0) === -2147483648 ? '(-2147483647 - 1)' : `${v | 0}`;
  if (dtype === 'bool') return v !== 0 ? '1u' : '0u';
  const f = Math.fround(v);
  if (Number.isNaN(f)) return 'kiln_f32bits(0x7fc00000u)';
  if (f === Infinity) return 'kiln_f32bits(0x7f800000u)';
  if (f === -Infinity) return 'kiln_f32bits(0xff800000u)';
  if (Object.is(f, -0)) return '-0.0f';
  const s = String(f);
  return /[.e]/.test(s) ? `${s}f` : `${s}.0f`;
}

/** `x != 0` in x's type: and / or / not / select / toBool test truthiness (NaN is true). */
function truthy(x: string, dtype: DType): string {
  // !(x == 0) rather than x != 0: the shader compiler may make != an ordered compare (false for NaN).
  return dtype === 'float32' ? `(!(${x} == 0.0f))` : dtype === 'int32' ? `(${x} != 0)` : `(${x} != 0u)`;
}
const bit = (cond: string) => `select(0u, 1u, ${cond})`;

/** The rendering of one call from its arguments' text; `use` records the helpers it needs. */
function renderCall(e: CallExpr, a: string[], use: (h: string) => string): string {
  const at = e.args[0]!.dtype;
  const int = at === 'int32';
  const fl = at === 'float32';
  switch (e.fn) {
    case 'add':
      return `(${a[0]} + ${a[1]})`;
    case 'sub':
      return `(${a[0]} - ${a[1]})`;
    case 'mul':
      return `(${a[0]} * ${a[1]})`;
    case 'div':
      return int ? `${use('kiln_idiv')}(${a[0]}, ${a[1]})` : `(${a[0]} / ${a[1]})`;
    case 'floordiv':
      return int ? `${use('kiln_ifloordiv')}(${a[0]}, ${a[1]})` : `${use('kiln_ffloordiv')}(${a[0]}, ${a[1]})`;
    case 'mod':
      return int ? `${use('kiln_imod')}(${a[0]}, ${a[1]})` : `${use('kiln_fmod')}(${a[0]}, ${a[1]})`;
    case 'neg':
      return `(-${a[0]})`;
    case 'abs':
      return `abs(${a[0]})`;
    case 'pow':
      return int ? `${use('kiln_ipow')}(${a[0]}, ${a[1]})` : `${use('kiln_fpow')}(${a[0]}, ${a[1]})`;
    case 'max':
      return fl ? `${use('kiln_fmax')}(${a[0]}, ${a[1]})` : `max(${a[0]}, ${a[1]})`;
    case 'min':
      return fl ? `${use('kiln_fmin')}(${a[0]}, ${a[1]})` : `min(${a[0]}, ${a[1]})`;
    case 'exp':
      return `exp(${a[0]})`;
    case 'log':
      return `log(${a[0]})`;
    case 'sqrt':
      return `sqrt(${a[0]})`;
    case 'tanh':
      return `${use('kiln_tanh')}(${a[0]})`;
    case 'sin':
      return `sin(${a[0]})`;
    case 'cos':
      return `cos(${a[0]})`;
    case 'atan':
      return `atan(${a[0]})`;
    case 'floor':
      return fl ? `floor(${a[0]})` : a[0]!;
    case 'ceil':
      return fl ? `ceil(${a[0]})` : a[0]!;
    case 'trunc':
      return fl ? `trunc(${a[0]})` : a[0]!;
    case 'roundEven':
      return fl ? `${use('kiln_fround')}(${a[0]})` : a[0]!;
    case 'sign':
      return fl ? `${use('kiln_fsign')}(${a[0]})` : int ? `sign(${a[0]})` : a[0]!;
    case 'lt':
      return bit(`${a[0]} < ${a[1]}`);
    case 'le':
      return bit(`${a[0]} <= ${a[1]}`);
    case 'eq':
      return bit(`${a[0]} == ${a[1]}`);
    case 'ne':
      return bit(`!(${a[0]} == ${a[1]})`);
    case 'and':
      return bit(`${truthy(a[0]!, at)} && ${truthy(a[1]!, e.args[1]!.dtype)}`);
    case 'or':
      return bit(`${truthy(a[0]!, at)} || ${truthy(a[1]!, e.args[1]!.dtype)}`);
    case 'not':
      return bit(`!${truthy(a[0]!, at)}`);
    case 'select':
      return `select(${a[2]}, ${a[1]}, ${truthy(a[0]!, at)})`;
    case 'toInt':
      return fl ? `${use('kiln_toint')}(${a[0]})` : int ? a[0]! : `i32(${a[0]})`;
    case 'toFloat':
      return fl ? a[0]! : `f32(${a[0]})`;
    case 'toBool':
      return bit(truthy(a[0]!, at));
    case 'erf':
    case 'log1p':
    case 'relu':
      // Removed by rewriteForTarget(WGSL_TARGET) before rendering.
      throw new Error(`wgsl: ${e.fn} reached the renderer`);
  }
}

/** Float arithmetic whose result is pinned (kiln_round, see wgsl-common.ts) so the compiler keeps each op's float32 rounding. */
const ROUNDED = new Set(['add', 'sub', 'mul', 'div']);

export interface RenderedExprs {
  /** `let` statements, one per distinct call node and constant. */
  stmts: string[];
  /** One WGSL value per expression (of the expression's dtype's WGSL type). */
  values: string[];
}

/**
 * Renders `exprs` (rewritten for WGSL, hash-consed) as lets: each distinct node once, in
 * postorder. `read(i)` is the WGSL text of input slot i (already of the input's type);
 * `prefix` keeps names of several rendered groups apart; helpers used are added to `used`.
 */
export function renderExprs(exprs: readonly ScalarExpr[], read: (index: number, dtype: DType) => string, prefix: string, used: Set<string>): RenderedExprs {
  const roots = internExprs(rewriteForTarget(internExprs(exprs), WGSL_TARGET));
  const text = new Map<ScalarExpr, string>();
  const stmts: string[] = [];
  const use = (h: string) => (used.add(h), h);
  for (const e of postorder(roots)) {
    const name = `${prefix}${stmts.length}`;
    let src =
      e.kind === 'input'
        ? read(e.index, e.dtype)
        : e.kind === 'const'
          ? wgslLiteral(e.value, e.dtype)
          : renderCall(
              e,
              e.args.map((x) => text.get(x)!),
              use,
            );
    if (e.kind === 'call' && e.dtype === 'float32' && ROUNDED.has(e.fn)) src = `kiln_round(${src})`;
    stmts.push(`let ${name}: ${wgslType(e.dtype)} = ${src};`);
    text.set(e, name);
  }
  return { stmts, values: roots.map((r) => text.get(r)!) };
}

/** WGSL text converting `x` of WGSL type `from` to the type of `to`. */
export function convert(x: string, from: DType, to: DType): string {
  if (from === to) return x;
  if (to === 'float32') return `f32(${x})`;
  if (to === 'int32') return from === 'float32' ? `i32(${x})` : `i32(${x})`;
  return bit(truthy(x, from));
}
