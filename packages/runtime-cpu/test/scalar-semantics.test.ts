/**
 * Scalar semantics, defined once (compiler/src/lower/scalar-eval.ts), checked for every code
 * generator: for every ScalarFn and each dtype it takes, the JS generator and (where it accepts
 * the function) the WASM SIMD generator must give the evaluator's value bit for bit on one
 * shared table of edge values (±0, ±Infinity, NaN, denormals, float32 extremes, int32
 * extremes), all pairs for binary functions. Target rewrites are checked the same way: the
 * decompositions a WGSL-like target gets (no erf, log1p or relu) stay within float32 accuracy
 * of the evaluator, and the JS relu form equals the generic select it replaces.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { SCALAR_FN_ARITY, type ScalarExpr, type ScalarFn, call, capabilitiesWithout, evaluateExpr, input, lit, rewriteForTarget } from '@kiln/compiler';
import { type DType, allocData } from '@kiln/graph';
import { GemmEngine } from '../src/compiled/wasm/index.js';
import { compileElementwise } from '../src/compiled/js-codegen.js';
import { compileWasmElementwise, isWasmElementwiseEligible } from '../src/compiled/wasm-codegen/elementwise-wasm.js';
import { B, EDGES, F, SIGNATURES } from '../../../tests/helpers/scalar-edge-table.js';

const engine = await GemmEngine.create({ threads: 1 });
afterAll(() => engine.dispose());

/** Every combination of edge values for the given argument dtypes (each input a flat array). */
function table(args: readonly DType[]): number[][] {
  let rows: number[][] = [[]];
  for (const dt of args) rows = rows.flatMap((r) => EDGES[dt].map((v) => [...r, v]));
  return rows;
}

const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

function columns(rows: readonly number[][], args: readonly DType[]) {
  return args.map((dt, j) => {
    const col = allocData(dt, rows.length);
    rows.forEach((r, i) => (col[i] = r[j]!));
    return col;
  });
}

function runJs(e: ScalarExpr, rows: number[][], args: readonly DType[], out: DType): ArrayLike<number> {
  const n = rows.length;
  const result = allocData(out, n);
  compileElementwise(
    [e],
    args.map(() => [n]),
    [n],
  )([result], columns(rows, args));
  return result;
}

function runWasm(e: ScalarExpr, rows: number[][], args: readonly DType[]): Float32Array {
  const n = rows.length;
  const k = compileWasmElementwise(
    engine,
    [e],
    args.map(() => 'flat'),
  )!;
  const ins = columns(rows, args).map((col) => {
    const at = engine.alloc(n * 4, 4);
    engine.f32(at, n).set(col);
    return at;
  });
  const o = engine.alloc(n * 4, 4);
  k.run([o], ins, n);
  return engine.f32(o, n).slice();
}

function expectEvaluator(got: ArrayLike<number>, e: ScalarExpr, rows: number[][], what: string, close?: (got: number, want: number) => boolean): void {
  rows.forEach((r, i) => {
    const want = evaluateExpr(e, r);
    if (!(same(got[i]!, want) || close?.(got[i]!, want))) throw new Error(`${what}(${r.join(', ')}): got ${got[i]}, evaluator ${want}`);
  });
}

const exprOf = (fn: ScalarFn, args: readonly DType[], out: DType) => call(fn, out, ...args.map((dt, i) => input(i, dt)));

/** Functions the WASM generator renders (all float32; comparisons only as select conditions). */
const WASM_FNS: ScalarFn[] = ['add', 'sub', 'mul', 'div', 'max', 'min', 'neg', 'abs', 'sqrt', 'floor', 'ceil', 'trunc', 'select'];

describe('every generator gives the evaluator value on the edge table', () => {
  const cases = (Object.keys(SCALAR_FN_ARITY) as ScalarFn[]).flatMap((fn) => SIGNATURES[fn].map(([args, out]) => [fn, args, out] as const));
  it('covers every ScalarFn with its arity', () => {
    for (const fn of Object.keys(SCALAR_FN_ARITY) as ScalarFn[]) {
      expect({ fn, arities: SIGNATURES[fn].map(([a]) => a.length) }).toEqual({ fn, arities: SIGNATURES[fn].map(() => SCALAR_FN_ARITY[fn]) });
    }
  });
  it.each(cases.map(([fn, args, out]) => [`${fn}(${args.join(', ')}) -> ${out}`, fn, args, out] as const))('%s', (name, fn, args, out) => {
    const e = exprOf(fn, args, out);
    const rows = table(args);
    expectEvaluator(runJs(e, rows, args, out), e, rows, `js ${name}`);
    const wasmOk = isWasmElementwiseEligible(
      [e],
      args.map(() => 'flat'),
    );
    expect({ name, wasm: wasmOk }).toEqual({ name, wasm: WASM_FNS.includes(fn) && out === F && fn !== 'select' });
    if (wasmOk) expectEvaluator(runWasm(e, rows, args), e, rows, `wasm ${name}`);
  });
  it.each(['lt', 'le', 'eq', 'ne'] as const)('wasm select(%s(a, b), a, b) and select on a float condition', (cmp) => {
    const [a, b, c] = [input(0, F), input(1, F), input(2, F)];
    const rows = table([F, F]);
    const e = call('select', F, call(cmp, B, a, b), a, b);
    expectEvaluator(runWasm(e, rows, [F, F]), e, rows, `wasm select(${cmp})`);
    expectEvaluator(runJs(e, rows, [F, F], F), e, rows, `js select(${cmp})`);
    const byValue = call('select', F, c, a, b);
    const rows3 = table([F, F]).map(([x, y]) => [x!, y!, x!]);
    expectEvaluator(runWasm(byValue, rows3, [F, F, F]), byValue, rows3, 'wasm select on a value');
  });
});

describe('target rewrites', () => {
  const x = input(0, F);
  const rows = table([F]);
  const wgslLike = capabilitiesWithout('wgsl-like', ['erf', 'log1p', 'relu']);
  const within = (atol: number, rtol: number) => (got: number, want: number) => Math.abs(got - want) <= atol + rtol * Math.abs(want);

  it('decomposes erf for a target without it (within 2e-7 of the evaluator)', () => {
    const [r] = rewriteForTarget([call('erf', F, x)], wgslLike);
    expect(JSON.stringify(r)).not.toContain('"erf"');
    const dense = Array.from({ length: 2001 }, (_, i) => [(i - 1000) / 200]);
    for (const rs of [rows, dense]) {
      expectEvaluator(runJs(r!, rs, [F], F), call('erf', F, x), rs, 'js erf decomposed', within(2e-7, 0));
      rs.forEach((v) =>
        expect(within(2e-7, 0)(evaluateExpr(r!, v), evaluateExpr(call('erf', F, x), v)) || same(evaluateExpr(r!, v), evaluateExpr(call('erf', F, x), v))).toBe(
          true,
        ),
      );
    }
  });

  it('decomposes log1p for a target without it (within 4 float32 ulps)', () => {
    const [r] = rewriteForTarget([call('log1p', F, x)], wgslLike);
    expect(JSON.stringify(r)).not.toContain('log1p');
    const dense = Array.from({ length: 2001 }, (_, i) => [Math.fround(Math.expm1((i - 1000) / 50))]);
    for (const rs of [rows, dense]) expectEvaluator(runJs(r!, rs, [F], F), call('log1p', F, x), rs, 'js log1p decomposed', within(1e-44, 5e-7));
  });

  it('turns relu into the generic select for a target without it, and the select into relu for the JS target', () => {
    const [generic] = rewriteForTarget([call('relu', F, x)], wgslLike);
    expect(JSON.stringify(generic)).not.toContain('relu');
    expectEvaluator(
      rows.map((r) => evaluateExpr(generic!, r)),
      call('relu', F, x),
      rows,
      'relu as select',
    );
    const sel = call('select', F, call('le', B, x, lit(0)), lit(0), x);
    const [js] = rewriteForTarget([sel], capabilitiesWithout('js', []));
    expect(js?.kind === 'call' && js.fn).toBe('relu');
    expectEvaluator(runJs(sel, rows, [F], F), sel, rows, 'js relu form');
    // -0 as the selected constant is not relu (it would give -0 for x <= 0): left alone.
    const negZero = call('select', F, call('le', B, x, lit(0)), lit(-0), x);
    expect(rewriteForTarget([negZero], capabilitiesWithout('js', []))[0]).toBe(negZero);
    expectEvaluator(runJs(negZero, rows, [F], F), negZero, rows, 'js select with -0');
  });
});
