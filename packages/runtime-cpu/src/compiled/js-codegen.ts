/**
 * CPU code generation for fused elementwise and reduce kernels: renders ScalarExprs and the
 * compiler's index lowering (loops, per-input offsets and strides, guards; see the compiler's
 * lower/index-expr.ts) into the body of a JavaScript function, compiled once per kernel with
 * `new Function` and cached. Broadcast operands are read through zero strides, so a broadcast
 * never materializes. Values follow the compiler's scalar evaluator (lower/scalar-eval.ts):
 * int32 arithmetic wraps (Math.imul, |0), float32 results are rounded per op, bools are 0/1.
 */
import {
  type CallExpr,
  type View,
  type Reducer,
  elementwiseIndexing,
  reduceIndexing,
  type ScalarExpr,
  type TargetCapabilities,
  capabilitiesWithout,
  erfScalar,
  internExprs,
  postorder,
  rewriteForTarget,
  roundHalfEven,
  useCounts,
} from '@kiln/compiler';

/** Helpers visible to generated code (H.*). */
export const helpers = {
  erf: erfScalar,
  roundEven: roundHalfEven,
  sign: (v: number) => (Number.isNaN(v) ? NaN : v > 0 ? 1 : v < 0 ? -1 : 0),
  floordiv: (a: number, b: number) => (b === 0 ? 0 : Math.floor(a / b)),
  idiv: (a: number, b: number) => (b === 0 ? 0 : Math.trunc(a / b) | 0),
  imod: (a: number, b: number) => (b === 0 ? 0 : (a % b) | 0),
  toInt: (v: number) => (Number.isNaN(v) ? 0 : Math.max(-2147483648, Math.min(2147483647, Math.trunc(v)))),
};

function literal(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0';
  return `(${String(v)})`;
}

/** What this generator renders: every scalar function, relu in its branch-free form (see renderCall). */
export const JS_TARGET: TargetCapabilities = capabilitiesWithout('cpu-js', []);

/** Functions whose float32 result may need rounding (the others return one of their operands or an integer). */
const INEXACT = new Set(['toFloat', 'add', 'sub', 'mul', 'div', 'floordiv', 'mod', 'pow', 'exp', 'log', 'log1p', 'sqrt', 'tanh', 'sin', 'cos', 'atan', 'erf']);
/** Deeper inline nesting is bound to a local: V8's parser recurses on the nesting of an expression. */
const MAX_INLINE_DEPTH = 24;

/**
 * Renders one call from its arguments' rendered text. float32 semantics: every inexact
 * float32 result is rounded (Math.fround) as the unfused program stores it, so overflow,
 * cancellation and casts see float32's values; measured, this costs nothing visible since the
 * heavy flat kernels run as WebAssembly.
 */
function renderNode(e: CallExpr, a: string[]): string {
  const int = e.dtype === 'int32';
  if (e.dtype === 'float32' && INEXACT.has(e.fn)) return `Math.fround(${renderCall(e, a, int)})`;
  return renderCall(e, a, int);
}

function renderCall(e: CallExpr, a: string[], int: boolean): string {
  switch (e.fn) {
    case 'add':
      return int ? `((${a[0]} + ${a[1]}) | 0)` : `(${a[0]} + ${a[1]})`;
    case 'sub':
      return int ? `((${a[0]} - ${a[1]}) | 0)` : `(${a[0]} - ${a[1]})`;
    case 'mul':
      return int ? `Math.imul(${a[0]}, ${a[1]})` : `(${a[0]} * ${a[1]})`;
    case 'div':
      return int ? `H.idiv(${a[0]}, ${a[1]})` : `(${a[0]} / ${a[1]})`;
    case 'floordiv':
      return int ? `(H.floordiv(${a[0]}, ${a[1]}) | 0)` : `Math.floor(${a[0]} / ${a[1]})`;
    case 'mod':
      return int ? `H.imod(${a[0]}, ${a[1]})` : `(${a[0]} % ${a[1]})`;
    case 'neg':
      return int ? `((-${a[0]}) | 0)` : `(-${a[0]})`;
    case 'abs':
      return int ? `(Math.abs(${a[0]}) | 0)` : `Math.abs(${a[0]})`;
    case 'pow':
      return int ? `(Math.pow(${a[0]}, ${a[1]}) | 0)` : `Math.pow(${a[0]}, ${a[1]})`;
    case 'max':
      return `Math.max(${a[0]}, ${a[1]})`;
    case 'min':
      return `Math.min(${a[0]}, ${a[1]})`;
    case 'exp':
      return `Math.exp(${a[0]})`;
    case 'log':
      return `Math.log(${a[0]})`;
    case 'log1p':
      return `Math.log1p(${a[0]})`;
    case 'sqrt':
      return `Math.sqrt(${a[0]})`;
    case 'tanh':
      return `Math.tanh(${a[0]})`;
    case 'sin':
      return `Math.sin(${a[0]})`;
    case 'cos':
      return `Math.cos(${a[0]})`;
    case 'atan':
      return `Math.atan(${a[0]})`;
    case 'erf':
      return `H.erf(${a[0]})`;
    case 'floor':
      return `Math.floor(${a[0]})`;
    case 'ceil':
      return `Math.ceil(${a[0]})`;
    case 'trunc':
      return `Math.trunc(${a[0]})`;
    case 'roundEven':
      return `H.roundEven(${a[0]})`;
    case 'sign':
      return `H.sign(${a[0]})`;
    case 'lt':
      return `(${a[0]} < ${a[1]} ? 1 : 0)`;
    case 'le':
      return `(${a[0]} <= ${a[1]} ? 1 : 0)`;
    case 'eq':
      return `(${a[0]} === ${a[1]} ? 1 : 0)`;
    case 'ne':
      return `(${a[0]} !== ${a[1]} ? 1 : 0)`;
    case 'and':
      return `(${a[0]} !== 0 && ${a[1]} !== 0 ? 1 : 0)`;
    case 'or':
      return `(${a[0]} !== 0 || ${a[1]} !== 0 ? 1 : 0)`;
    case 'not':
      return `(${a[0]} === 0 ? 1 : 0)`;
    case 'select':
      return `(${a[0]} !== 0 ? ${a[1]} : ${a[2]})`;
    case 'toInt':
      return e.args[0]!.dtype === 'float32' ? `H.toInt(${a[0]})` : a[0]!;
    case 'toFloat':
      return a[0]!;
    case 'toBool':
      return `(${a[0]} !== 0 ? 1 : 0)`;
    // Without an unpredictable branch: on mixed-sign data `x <= 0 ? 0 : x` mispredicts and runs
    // ~5x slower. (x + |x|) / 2 is exact in float64 for finite float32 x, +0 for x <= 0 and NaN
    // for NaN; -Infinity (where it would give NaN) takes a branch that is almost never taken.
    case 'relu':
      return `(${a[0]} === -Infinity ? 0 : (${a[0]} + Math.abs(${a[0]})) * 0.5)`;
  }
}

/**
 * Renders several expressions as statements binding every shared subexpression to a local
 * once (relu(x) = x <= 0 ? 0 : x uses x twice; a multi-output kernel shares subexpressions
 * between outputs), then one value per expression. The expressions are hash-consed first, so
 * structurally equal subexpressions are computed once; every distinct node is rendered once,
 * in postorder, so the source is linear in the DAG's size and nothing recurses on depth.
 */
function renderWithTemps(exprs: readonly ScalarExpr[], read: (index: number) => string): { stmts: string; values: string[] } {
  const roots = internExprs(rewriteForTarget(internExprs(exprs), JS_TARGET));
  const uses = useCounts(roots);
  // relu renders its operand three times: an operand that is a computation gets a local.
  const reused = new Set<ScalarExpr>();
  for (const e of uses.keys()) if (e.kind === 'call' && e.fn === 'relu') reused.add(e.args[0]!);
  const text = new Map<ScalarExpr, string>();
  const depth = new Map<ScalarExpr, number>();
  const stmts: string[] = [];
  for (const e of postorder(roots)) {
    if (e.kind !== 'call') {
      // A float32 constant is the float32 value (an attr like clipValueMax = 0.1 arrives as float64).
      text.set(e, e.kind === 'input' ? read(e.index) : literal(e.dtype === 'float32' ? Math.fround(e.value) : e.value));
      depth.set(e, 1);
      continue;
    }
    const src = renderNode(
      e,
      e.args.map((x) => text.get(x)!),
    );
    const d = 1 + Math.max(...e.args.map((x) => depth.get(x)!));
    if (uses.get(e)! > 1 || reused.has(e) || d > MAX_INLINE_DEPTH) {
      const name = `t${stmts.length}`;
      stmts.push(`const ${name} = ${src};`);
      text.set(e, name);
      depth.set(e, 1);
    } else {
      text.set(e, src);
      depth.set(e, d);
    }
  }
  return { stmts: stmts.join(' '), values: roots.map((r) => text.get(r)!) };
}

/**
 * Nested loops over `shape` (row-major) keeping one running offset per operand (`strides[i]`
 * per loop). Returns the loop head, the offset expression of each operand in the innermost
 * body, and the closing braces. Loop d's index is d{d}.
 */
function nestedLoops(shape: readonly number[], strides: readonly (readonly number[])[], tag: string): { open: string; at: string[]; close: string } {
  const rank = shape.length;
  const name = (i: number, d: number) => `${tag}${i}_${d}`;
  let open = '';
  for (let d = 0; d < rank; d++) {
    open += `for (let d${d} = 0; d${d} < ${shape[d]}; d${d}++) {\n`;
    strides.forEach((st, i) => {
      open += `const ${name(i, d)} = ${d === 0 ? '0' : name(i, d - 1)} + d${d} * ${st[d]};\n`;
    });
  }
  return { open, at: strides.map((_, i) => (rank === 0 ? '0' : name(i, rank - 1))), close: '}'.repeat(rank) };
}

/**
 * JS source of an elementwise kernel: `function(outs, ins)` writing every element of each
 * output (all of shape outShape) from inputs of shapes inShapes, read as the compiler's index
 * lowering says (elementwiseIndexing: flat, broadcast, strided views, guards). All values of
 * one index are computed before any output is written, so an output may share storage with a
 * same-shape input (in-place reuse).
 */
export function elementwiseSource(
  exprs: readonly ScalarExpr[],
  inShapes: readonly (readonly number[])[],
  outShape: readonly number[],
  views: readonly (View | null | undefined)[] = [],
): string {
  const ix = elementwiseIndexing(outShape, inShapes, views);
  const lines: string[] = [];
  inShapes.forEach((_, i) => lines.push(`const in${i} = ins[${i}];`));
  exprs.forEach((_, i) => lines.push(`const out${i} = outs[${i}];`));
  const store = (values: string[], at: string) =>
    values.length === 1
      ? `out0[${at}] = ${values[0]};`
      : `${values.map((v, i) => `const v${i} = ${v};`).join(' ')} ${values.map((_, i) => `out${i}[${at}] = v${i};`).join(' ')}`;
  if (ix.kind === 'flat') {
    ix.inputs.forEach((k, i) => k === 'scalar' && lines.push(`const s${i} = in${i}[0];`));
    const body = renderWithTemps(exprs, (i) => (ix.inputs[i] === 'flat' ? `in${i}[i]` : `s${i}`));
    lines.push(`for (let i = 0; i < ${ix.size}; i++) { ${body.stmts} ${store(body.values, 'i')} }`);
  } else {
    const loops = nestedLoops(
      ix.loops,
      ix.inputs.map((a) => a.strides),
      'p',
    );
    const read = (i: number): string => {
      const a = ix.inputs[i]!;
      const at = `in${i}[${a.offset ? `${a.offset} + ` : ''}${loops.at[i]}]`;
      const outside = a.orElse !== undefined ? read(a.orElse) : literal(a.fill);
      if (a.never) return outside;
      if (a.guards.length === 0) return at;
      const cond = a.guards
        .map((g) => [g.lo > 0 ? `d${g.dim} >= ${g.lo}` : '', g.hi < ix.loops[g.dim]! ? `d${g.dim} < ${g.hi}` : ''].filter(Boolean).join(' && '))
        .join(' && ');
      return `(${cond} ? ${at} : ${outside})`;
    };
    const body = renderWithTemps(exprs, read);
    lines.push(`let o = 0;\n${loops.open}${body.stmts} ${store(body.values, 'o')} o++;\n${loops.close}`);
  }
  return `return function kernel(outs, ins) {\n${lines.join('\n')}\n};`;
}

/**
 * Generated functions by source text, shared by every Program in the process: kernels are
 * pure functions of their arguments, and V8 starts each new function in its interpreter (the
 * first call of a 400k-element update runs ~10x slower than later ones), so a recompiled
 * program (another batch size, a new session on the same model) reuses warm code.
 */
const kernelCache = new Map<string, unknown>();
const KERNEL_CACHE_LIMIT = 4096;

function cached(src: string): unknown {
  let fn = kernelCache.get(src);
  if (!fn) {
    if (kernelCache.size >= KERNEL_CACHE_LIMIT) kernelCache.delete(kernelCache.keys().next().value!);
    fn = new Function('H', 'Math', 'NaN', 'Infinity', src)(helpers, Math, NaN, Infinity);
    kernelCache.set(src, fn);
  }
  return fn;
}

export type KernelFn = (outs: TypedArrayLike[], ins: TypedArrayLike[]) => void;
export type TypedArrayLike = ArrayLike<number> & { [i: number]: number };

export function compileElementwise(
  exprs: readonly ScalarExpr[],
  inShapes: readonly (readonly number[])[],
  outShape: readonly number[],
  views?: readonly (View | null | undefined)[],
): KernelFn {
  return cached(elementwiseSource(exprs, inShapes, outShape, views)) as KernelFn;
}

const REDUCE_INIT = { sum: '0', prod: '1', max: '-Infinity', min: 'Infinity' } as const;
const reduceStep = (r: Reducer, acc: string, v: string) =>
  r === 'sum' ? `${acc} += ${v};` : r === 'prod' ? `${acc} *= ${v};` : `${acc} = Math.${r}(${acc}, ${v});`;

/**
 * JS source of a reduction: `function(acc, ins)` folding prologue(ins) over `axes` of inShape
 * into `acc` (a Float64Array of the output's size; float64 accumulation as the reference).
 * Trailing axes with flat operands take a row loop with a scalar accumulator; other layouts
 * walk the input once in row-major order, adding into acc at the output index.
 */
export function reduceSource(
  reducer: Reducer,
  prologue: ScalarExpr,
  inShapes: readonly (readonly number[])[],
  inShape: readonly number[],
  axes: readonly number[],
): string {
  const ix = reduceIndexing(inShape, inShapes, axes);
  const lines: string[] = [];
  inShapes.forEach((_, i) => lines.push(`const in${i} = ins[${i}];`));
  lines.push(`acc.fill(${REDUCE_INIT[reducer]});`);
  if (ix.kind === 'rows') {
    ix.inputs.forEach((k, i) => k === 'scalar' && lines.push(`const s${i} = in${i}[0];`));
    const body = renderWithTemps([prologue], (i) => (ix.inputs[i] === 'flat' ? `in${i}[i]` : `s${i}`));
    if (ix.inner > 0) {
      lines.push(
        `for (let o = 0, i = 0; o < ${ix.outer}; o++) { let a = ${REDUCE_INIT[reducer]}; for (let j = 0; j < ${ix.inner}; j++, i++) { ${body.stmts} ${reduceStep(reducer, 'a', body.values[0]!)} } acc[o] = a; }`,
      );
    }
  } else {
    const loops = nestedLoops(ix.loops, [...ix.inputStrides, ix.accStrides], 'p');
    const body = renderWithTemps([prologue], (i) => `in${i}[${loops.at[i]}]`);
    const a = `acc[${loops.at[inShapes.length]}]`;
    lines.push(`${loops.open}${body.stmts} ${reduceStep(reducer, a, body.values[0]!)}\n${loops.close}`);
  }
  return `return function reduce(acc, ins) {\n${lines.join('\n')}\n};`;
}

export type ReduceFn = (acc: Float64Array, ins: TypedArrayLike[]) => void;

export function compileReduce(
  reducer: Reducer,
  prologue: ScalarExpr,
  inShapes: readonly (readonly number[])[],
  inShape: readonly number[],
  axes: readonly number[],
): ReduceFn {
  return cached(reduceSource(reducer, prologue, inShapes, inShape, axes)) as ReduceFn;
}
