/**
 * Target rewrites: a code generator declares the scalar functions it renders (its
 * capabilities); before rendering, an expression is rewritten so that it uses only those.
 * A function the target lacks is decomposed into ones it has (WGSL has no erf or log1p), and
 * a target form the target has replaces the generic pattern it stands for (the CPU's
 * branch-free relu for select(le(x, 0), 0, x)). Generators then render functions one to one,
 * with no special cases. Every rewrite keeps the meaning defined in scalar-eval.ts (the
 * decompositions to float32 accuracy: erf within 2e-7, log1p within a few ulps).
 */
import { postorder } from './expr-dag.js';
import { type CallExpr, type ScalarExpr, type ScalarFn, SCALAR_FN_ARITY, call, lit } from './scalar-expr.js';

export interface TargetCapabilities {
  /** For messages: 'cpu-js', 'wgsl', ... */
  readonly name: string;
  /** The scalar functions the target renders natively. */
  readonly functions: ReadonlySet<ScalarFn>;
}

const ALL = Object.keys(SCALAR_FN_ARITY) as ScalarFn[];

/** Capabilities of a target that has every function but `missing`. */
export function capabilitiesWithout(name: string, missing: readonly ScalarFn[]): TargetCapabilities {
  return { name, functions: new Set(ALL.filter((f) => !missing.includes(f))) };
}

const F = 'float32';
const f = (fn: ScalarFn, ...args: ScalarExpr[]) => call(fn, F, ...args);
const isPositiveZero = (e: ScalarExpr | undefined) => e?.kind === 'const' && Object.is(e.value, 0);

/** select(le(x, 0), +0, x) on float32: x, else undefined. */
function reluOperand(e: CallExpr): ScalarExpr | undefined {
  if (e.fn !== 'select' || e.dtype !== F) return undefined;
  const [c, zero, x] = e.args;
  if (c?.kind !== 'call' || c.fn !== 'le' || c.args[0] !== x || c.args[1]?.kind !== 'const' || c.args[1].value !== 0 || !isPositiveZero(zero)) return undefined;
  return x;
}

/** relu(x) = select(le(x, 0), 0, x). */
const reluGeneric = (x: ScalarExpr) => f('select', call('le', 'bool', x, lit(0)), lit(0), x);

/**
 * erf(x) from exp and arithmetic: the Taylor series to x^11 for |x| < 0.5, Abramowitz and
 * Stegun 7.1.26 beyond (absolute error below 1.5e-7), with the sign of x.
 */
function erfDecomposed(x: ScalarExpr): ScalarExpr {
  const ax = f('abs', x);
  const x2 = f('mul', x, x);
  // 2/sqrt(pi) * x * (1 - x^2/3 + x^4/10 - x^6/42 + x^8/216 - x^10/1320)
  const taylorCoeffs = [1, -1 / 3, 1 / 10, -1 / 42, 1 / 216, -1 / 1320];
  let poly = lit(taylorCoeffs[taylorCoeffs.length - 1]!);
  for (let i = taylorCoeffs.length - 2; i >= 0; i--) poly = f('add', f('mul', poly, x2), lit(taylorCoeffs[i]!));
  const taylor = f('mul', f('mul', lit(2 / Math.sqrt(Math.PI)), x), poly);
  const t = f('div', lit(1), f('add', lit(1), f('mul', lit(0.3275911), ax)));
  const a = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429];
  let p = lit(a[4]!);
  for (let i = 3; i >= 0; i--) p = f('add', f('mul', p, t), lit(a[i]!));
  const tail = f('sub', lit(1), f('mul', f('mul', p, t), f('exp', f('neg', x2))));
  const far = f('select', call('lt', 'bool', x, lit(0)), f('neg', tail), tail);
  // NaN fails |x| < 0.5 and reaches `far`, where it stays NaN.
  return f('select', call('lt', 'bool', ax, lit(0.5)), taylor, far);
}

/** log1p(x) = log(u) * x / (u - 1) with u = 1 + x (exact where u rounds to 1), x at +Infinity. */
function log1pDecomposed(x: ScalarExpr): ScalarExpr {
  const u = f('add', lit(1), x);
  const general = f('mul', f('log', u), f('div', x, f('sub', u, lit(1))));
  return f('select', call('eq', 'bool', u, lit(1)), x, f('select', call('eq', 'bool', x, lit(Infinity)), x, general));
}

/**
 * Rewrites `exprs` to use only the target's functions. Iterative over the DAG (each distinct
 * node once); nodes the rewrites do not touch keep their identity.
 */
export function rewriteForTarget(exprs: readonly ScalarExpr[], target: TargetCapabilities): ScalarExpr[] {
  const has = (fn: ScalarFn) => target.functions.has(fn);
  const out = new Map<ScalarExpr, ScalarExpr>();
  for (const e of postorder(exprs)) {
    if (e.kind !== 'call') {
      out.set(e, e);
      continue;
    }
    const args = e.args.map((a) => out.get(a)!);
    let r: ScalarExpr = args.some((a, i) => a !== e.args[i]) ? { ...e, args } : e;
    const c = r as CallExpr;
    const relu = has('relu') ? reluOperand(c) : undefined;
    if (relu) r = f('relu', relu);
    else if (c.fn === 'relu' && !has('relu')) r = reluGeneric(args[0]!);
    else if (c.fn === 'erf' && !has('erf')) r = erfDecomposed(args[0]!);
    else if (c.fn === 'log1p' && !has('log1p')) r = log1pDecomposed(args[0]!);
    out.set(e, r);
  }
  return exprs.map((e) => out.get(e)!);
}
