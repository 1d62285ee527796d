/**
 * The WebAssembly SIMD elementwise code generator (compiled/wasm-codegen) against a float32-
 * per-op JS evaluation (Math.fround after every op: exactly what the unfused float32 program
 * computes), bit for bit (all NaNs equal, -0 !== +0), on data with NaN, ±Inf, ±0 and
 * subnormals, for n around the vector width (0, 1, 3, 4, 5, 1000, 1003): every function,
 * Math.max/Math.min's NaN and signed-zero rules, selects, scalar inputs, multi-output kernels
 * sharing subexpressions, in-place outputs, sub-ranges, the Adam update compiled from a real
 * training graph (also against the JS code generator, which fuses in float64: rtol 1e-6),
 * the kernel cache, and kernels that must be refused.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { Graph, KilnError, Tensor, matMul, softmaxCrossEntropy } from '@kiln/graph';
import { type ScalarExpr, type ScalarFn, call, compile, input, lit, train } from '@kiln/compiler';
import { GemmEngine } from '../src/compiled/wasm/index.js';
import { compileElementwise } from '../src/compiled/js-codegen.js';
import { compileWasmElementwise, type ElementwiseInputKind } from '../src/compiled/wasm-codegen/elementwise-wasm.js';
import { makeRandom } from '../src/reference/random.js';

const engine = await GemmEngine.create({ threads: 1 });
afterAll(() => engine.dispose());

const f = Math.fround;
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 1.4e-45, -3e-39, 1, -1, 0.5, -2.5, 3.4e38, -3.4e38, 2.5, -0.5];

/** The float32-per-op value of e at one index (comparisons give booleans). */
function evalF32(e: ScalarExpr, x: readonly number[]): number | boolean {
  if (e.kind === 'input') return x[e.index]!;
  if (e.kind === 'const') return f(e.value);
  const a = e.args.map((arg) => evalF32(arg, x));
  const [p, q] = a as [number, number];
  const ops: Partial<Record<ScalarFn, () => number | boolean>> = {
    add: () => f(p + q),
    sub: () => f(p - q),
    mul: () => f(p * q),
    div: () => f(p / q),
    max: () => Math.max(p, q),
    min: () => Math.min(p, q),
    neg: () => -p,
    abs: () => Math.abs(p),
    sqrt: () => f(Math.sqrt(p)),
    floor: () => Math.floor(p),
    ceil: () => Math.ceil(p),
    trunc: () => Math.trunc(p),
    lt: () => p < q,
    le: () => p <= q,
    eq: () => p === q,
    ne: () => p !== q,
    select: () => ((typeof a[0] === 'boolean' ? a[0] : a[0] !== 0) ? a[1]! : a[2]!),
  };
  return ops[e.fn]!();
}

/** Seeded data: a quarter special values, the rest uniform in [-4, 4) (scaled by `scale`). */
function randomData(seed: number, n: number, scale = 1): Float32Array {
  const r = makeRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r() < 0.25 ? SPECIAL[Math.floor(r() * SPECIAL.length)]! : (r() * 8 - 4) * scale;
  return out;
}

const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

function expectSame(got: Float32Array, want: ArrayLike<number>, what: string): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!same(got[i]!, want[i]!)) throw new Error(`${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
  }
}

/** Runs a wasm kernel on engine memory over `data` (one array per input; scalars have length 1). */
function runWasm(exprs: ScalarExpr[], kinds: ElementwiseInputKind[], data: Float32Array[], n: number): Float32Array[] {
  const k = compileWasmElementwise(engine, exprs, kinds);
  if (!k) throw new Error('kernel not eligible');
  const ins = data.map((d) => {
    const at = engine.alloc(Math.max(d.length, 1) * 4, 4);
    engine.f32(at, d.length).set(d);
    return at;
  });
  const outs = exprs.map(() => engine.alloc(Math.max(n, 1) * 4, 4));
  for (const o of outs) engine.f32(o, n).fill(12345);
  k.run(outs, ins, n);
  return outs.map((o) => engine.f32(o, n).slice());
}

function expected(exprs: ScalarExpr[], kinds: ElementwiseInputKind[], data: Float32Array[], n: number): Float64Array[] {
  const outs = exprs.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const x = data.map((d, j) => (kinds[j] === 'scalar' ? d[0]! : d[i]!));
    exprs.forEach((e, k) => (outs[k]![i] = evalF32(e, x) as number));
  }
  return outs;
}

function check(exprs: ScalarExpr[], kinds: ElementwiseInputKind[], n: number, seed: number, what: string): void {
  const data = kinds.map((k, j) => randomData(seed * 31 + j, k === 'scalar' ? 1 : n));
  const got = runWasm(exprs, kinds, data, n);
  const want = expected(exprs, kinds, data, n);
  got.forEach((g, k) => expectSame(g, want[k]!, `${what} output ${k} (n = ${n})`));
}

const X = input(0, 'float32');
const Y = input(1, 'float32');
const Z = input(2, 'float32');
const F = (fn: ScalarFn, ...args: ScalarExpr[]) => call(fn, 'float32', ...args);
const B = (fn: ScalarFn, ...args: ScalarExpr[]) => call(fn, 'bool', ...args);
const SIZES = [0, 1, 3, 4, 5, 1000, 1003];

describe('compileWasmElementwise: single functions', () => {
  const unary: ScalarFn[] = ['neg', 'abs', 'sqrt', 'floor', 'ceil', 'trunc'];
  const binary: ScalarFn[] = ['add', 'sub', 'mul', 'div', 'max', 'min'];
  for (const fn of unary) {
    it(`${fn} matches float32 per op bit for bit`, () => {
      for (const n of SIZES) check([F(fn, X)], ['flat'], n, n + 1, fn);
    });
  }
  for (const fn of binary) {
    it(`${fn} matches float32 per op bit for bit`, () => {
      for (const n of SIZES) check([F(fn, X, Y)], ['flat', 'flat'], n, n + 7, fn);
    });
  }
});

describe('compileWasmElementwise: max/min follow Math.max/Math.min', () => {
  it('on every pair of special values (NaN wins, max(+0, -0) = +0, min(+0, -0) = -0)', () => {
    const xs: number[] = [];
    const ys: number[] = [];
    for (const a of SPECIAL) for (const b of SPECIAL) (xs.push(a), ys.push(b));
    const n = xs.length;
    const [mx, mn] = runWasm([F('max', X, Y), F('min', X, Y)], ['flat', 'flat'], [Float32Array.from(xs), Float32Array.from(ys)], n);
    const fx = Float32Array.from(xs);
    const fy = Float32Array.from(ys);
    expectSame(
      mx!,
      Array.from(fx, (a, i) => Math.max(a, fy[i]!)),
      'max',
    );
    expectSame(
      mn!,
      Array.from(fx, (a, i) => Math.min(a, fy[i]!)),
      'min',
    );
    const zeroVsMinusZero = 3 * SPECIAL.length + 4; // SPECIAL[3] = 0, SPECIAL[4] = -0
    expect(Object.is(mx![zeroVsMinusZero], 0)).toBe(true);
    expect(Object.is(mn![zeroVsMinusZero], -0)).toBe(true);
  });
});

describe('compileWasmElementwise: selects and comparisons', () => {
  for (const cmp of ['lt', 'le', 'eq', 'ne'] as ScalarFn[]) {
    it(`select(${cmp}(x, y), x * 2, z) matches`, () => {
      for (const n of SIZES) check([F('select', B(cmp, X, Y), F('mul', X, lit(2)), Z)], ['flat', 'flat', 'flat'], n, n + 3, cmp);
    });
  }
  it('select on a float condition (true when !== 0, NaN included)', () => {
    for (const n of SIZES) check([F('select', F('sub', X, Y), Y, F('neg', X))], ['flat', 'flat'], n, n + 11, 'float condition');
  });
  it('relu as select(le(x, 0), 0, x) gives +0 for -0 and NaN for NaN', () => {
    for (const n of SIZES) check([F('select', B('le', X, lit(0)), lit(0), X)], ['flat'], n, n + 13, 'relu');
  });
  it('a comparison shared by two selects', () => {
    const c = B('lt', X, lit(0.5));
    for (const n of SIZES) check([F('add', F('select', c, X, Y), F('select', c, Y, lit(-1)))], ['flat', 'flat'], n, n + 17, 'shared comparison');
  });
});

describe('compileWasmElementwise: scalar inputs, constants and several outputs', () => {
  it('splats scalar inputs in any position', () => {
    const e = F('div', F('add', F('mul', X, Y), Z), F('sub', Y, lit(0.25)));
    for (const n of SIZES) {
      check([e], ['flat', 'scalar', 'flat'], n, n + 19, 'scalar y');
      check([e], ['scalar', 'flat', 'scalar'], n, n + 23, 'scalar x, z');
    }
  });
  it('keeps special constants exact (NaN, ±Inf, -0, subnormal)', () => {
    const e = [F('add', X, lit(-0)), F('mul', X, lit(1e-40)), F('max', X, lit(NaN)), F('min', X, lit(-Infinity)), F('sub', lit(0), X)];
    for (const n of SIZES) check(e, ['flat'], n, n + 29, 'constants');
  });
  it('computes several outputs sharing subexpressions', () => {
    const s = F('sqrt', F('abs', F('add', X, Y)));
    const e = [F('mul', s, Z), F('div', Z, F('add', s, lit(1e-7))), F('max', s, X)];
    for (const n of SIZES) check(e, ['flat', 'flat', 'flat'], n, n + 31, 'shared');
  });
  it('lets an output share storage with its input (in place)', () => {
    const k = compileWasmElementwise(engine, [F('add', X, Y), F('mul', X, Y)], ['flat', 'flat'])!;
    const n = 1003;
    const x = randomData(1, n);
    const y = randomData(2, n);
    const want = expected([F('add', X, Y), F('mul', X, Y)], ['flat', 'flat'], [x, y], n);
    const a = engine.alloc(n * 4);
    const b = engine.alloc(n * 4);
    engine.f32(a, n).set(x);
    engine.f32(b, n).set(y);
    k.run([a, b], [a, b], n);
    expectSame(engine.f32(a, n), want[0]!, 'in place add');
    expectSame(engine.f32(b, n), want[1]!, 'in place mul');
  });
  it('runs a sub-range [lo, hi) only', () => {
    const k = compileWasmElementwise(engine, [F('mul', X, Y)], ['flat', 'scalar'])!;
    const n = 103;
    const x = randomData(3, n);
    const a = engine.alloc(n * 4);
    const s = engine.alloc(4);
    const o = engine.alloc(n * 4);
    engine.f32(a, n).set(x);
    engine.f32(s, 1)[0] = 3;
    engine.f32(o, n).fill(7);
    k.run([o], [a, s], n, 10, 61);
    const want = Array.from(x, (v, i) => (i >= 10 && i < 61 ? f(v * 3) : 7));
    expectSame(engine.f32(o, n), want, 'sub-range');
  });
});

/** The Adam update kernel of a small training graph: its exprs and input kinds. */
function adamKernel(): { exprs: ScalarExpr[]; kinds: ElementwiseInputKind[] } {
  const g = new Graph();
  const x = g.placeholder('float32', [4, 6], 'x');
  const y = g.placeholder('float32', [4, 3], 'y');
  const w = g.variable(new Tensor('float32', [6, 3]), 'w');
  const step = train.adam(0.01).minimize(softmaxCrossEntropy(y, matMul(x, w)));
  const p = compile(g, { fetches: [step], feeds: [x, y] });
  const k = p.kernels.find(
    (k) => k.spec.kind === 'elementwise' && k.spec.outputs.length === 3 && k.spec.outputs.every((o) => p.buffers[o]!.kind === 'variable'),
  );
  if (!k || k.spec.kind !== 'elementwise') throw new Error('no Adam update kernel');
  const kinds = k.spec.inputs.map((i) => (p.buffers[i]!.shape.reduce((a, b) => a * b, 1) === 1 ? 'scalar' : 'flat') as ElementwiseInputKind);
  return { exprs: k.spec.exprs, kinds };
}

describe('compileWasmElementwise: the Adam update', () => {
  const { exprs, kinds } = adamKernel();

  it('is eligible, with flat and scalar inputs', () => {
    expect(kinds).toContain('scalar');
    expect(kinds).toContain('flat');
    expect(compileWasmElementwise(engine, exprs, kinds)).toBeDefined();
  });

  it('matches float32 per op bit for bit, special values included', () => {
    for (const n of SIZES) check(exprs, kinds, n, n + 37, 'adam');
  });

  // rtol relative to the larger of the result and the operands: w - update cancels.
  it('matches the JS code generator (float64 chains) within rtol 1e-6 on training-like data', () => {
    const n = 1003;
    const r = makeRandom(5);
    // m, v >= 0, gradients, weights; the scalars are the optimizer's coefficients.
    const data = kinds.map((k, j) => {
      if (k === 'scalar') return Float32Array.of([0.1, 0.001, 0.01, 0.5][j % 4]!);
      return Float32Array.from({ length: n }, () => (j === 3 ? r() * 1e-3 : (r() * 2 - 1) * 0.1));
    });
    const got = runWasm(exprs, kinds, data, n);
    const js = compileElementwise(
      exprs,
      kinds.map((k) => (k === 'scalar' ? [] : [n])),
      [n],
    );
    const outs = exprs.map(() => new Float32Array(n));
    js(outs, data);
    got.forEach((g, k) => {
      for (let i = 0; i < n; i++) {
        const want = outs[k]![i]!;
        const scale = Math.max(Math.abs(want), ...data.map((d) => (d.length === n ? Math.abs(d[i]!) : 0)));
        if (!(Math.abs(g[i]! - want) <= 1e-6 * scale)) throw new Error(`adam output ${k} element ${i}: ${g[i]} vs JS ${want}`);
      }
    });
  });
});

describe('compileWasmElementwise: caching and eligibility', () => {
  it('returns the cached kernel for the same exprs and input kinds, another for other kinds', () => {
    const a = compileWasmElementwise(engine, [F('add', X, lit(1))], ['flat']);
    const b = compileWasmElementwise(engine, [F('add', input(0, 'float32'), lit(1))], ['flat']);
    const c = compileWasmElementwise(engine, [F('add', X, lit(1))], ['scalar']);
    const d = compileWasmElementwise(engine, [F('add', X, lit(-0))], ['flat']);
    const e = compileWasmElementwise(engine, [F('add', X, lit(0))], ['flat']);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(d).not.toBe(e);
  });

  it('works on a second engine (kernels are instantiated per engine memory)', async () => {
    const other = await GemmEngine.create({ threads: 1 });
    try {
      const k1 = compileWasmElementwise(engine, [F('sub', X, Y)], ['flat', 'flat'])!;
      const k2 = compileWasmElementwise(other, [F('sub', X, Y)], ['flat', 'flat'])!;
      expect(k2).not.toBe(k1);
      const n = 9;
      const a = other.alloc(n * 4);
      const o = other.alloc(n * 4);
      other.f32(a, n).set(Float32Array.from({ length: n }, (_, i) => i));
      k2.run([o], [a, a], n);
      expectSame(other.f32(o, n), new Array<number>(n).fill(0), 'second engine');
    } finally {
      other.dispose();
    }
  });

  it('refuses transcendental functions, int32 and bool values, and unknown inputs', () => {
    const refused: [ScalarExpr[], ElementwiseInputKind[]][] = [
      ...(['exp', 'log', 'tanh', 'erf', 'log1p', 'sin', 'cos', 'sign', 'roundEven'] as ScalarFn[]).map((fn): [ScalarExpr[], ElementwiseInputKind[]] => [
        [F(fn, X)],
        ['flat'],
      ]),
      [[F('pow', X, Y)], ['flat', 'flat']],
      [[F('mod', X, Y)], ['flat', 'flat']],
      [[B('lt', X, Y)], ['flat', 'flat']],
      [[call('add', 'int32', input(0, 'int32'), input(1, 'int32'))], ['flat', 'flat']],
      [[F('add', X, input(1, 'int32'))], ['flat', 'flat']],
      [[F('select', input(1, 'bool'), X, X)], ['flat', 'flat']],
      [[F('toFloat', input(0, 'int32'))], ['flat']],
      [[F('mul', X, F('exp', X)), F('add', X, X)], ['flat']],
      [[F('add', X, Y)], ['flat']],
      [[], ['flat']],
    ];
    for (const [exprs, kinds] of refused) expect(compileWasmElementwise(engine, exprs, kinds)).toBeUndefined();
  });

  it('throws KilnError on wrong offset counts or ranges', () => {
    const k = compileWasmElementwise(engine, [F('add', X, Y)], ['flat', 'flat'])!;
    const a = engine.alloc(16);
    expect(() => k.run([a], [a], 4)).toThrow(KilnError);
    expect(() => k.run([a], [a, a], 4, 2, 5)).toThrow(/lo <= hi <= n/);
    expect(() => k.run([a], [a, a], -1)).toThrow(KilnError);
  });
});
