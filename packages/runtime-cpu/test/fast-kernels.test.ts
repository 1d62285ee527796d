/**
 * The fast CPU op kernels (src/compiled/fast/) against the reference kernels, the oracle:
 * each case builds the op with its public function on placeholders (so attrs are exactly
 * what graphs carry), runs the reference kernel, then runs the fast kernel on input views
 * and on an output that is a view into a larger sentinel-filled buffer (as arena outputs
 * are). The fast kernel must return true for the cases it claims, write every output
 * element in place (same data object, nothing outside its view touched) and agree with the
 * reference: exactly for movement, int32 and bool, within atol 1e-6 + rtol 1e-5 for float32
 * arithmetic. Cases outside a kernel's fast path must return false.
 */
import { describe, expect, it } from '@jest/globals';
import {
  type DType,
  Graph,
  type Node,
  type SymbolicTensor,
  Tensor,
  type TypedArray,
  allocData,
  argMax,
  argMin,
  avgPool,
  avgPoolGrad,
  batchNorm,
  broadcastLike,
  broadcastTo,
  concat,
  gather,
  layerNorm,
  logSoftmax,
  maxPool,
  maxPoolGrad,
  oneHot,
  pad,
  slice,
  softmax,
  split,
  stack,
  tile,
  transpose,
} from '@kiln/graph';
import { FAST_KERNELS } from '../src/compiled/fast/index.js';
import { getCpuKernel } from '../src/compiled/op-kernels.js';
import '../src/reference/kernels/index.js';
import { makeRandom } from '../src/reference/random.js';
import { type RefContext, getRefKernel } from '../src/reference/registry.js';

const fast = new Map(FAST_KERNELS);
const GUARD = 5;

type Build = (...xs: SymbolicTensor[]) => SymbolicTensor | SymbolicTensor[];

interface Opts {
  /** Compare exactly (movement, integer results); default: exact unless the output is float32 arithmetic. */
  exact?: boolean;
  /** Whether the fast kernel must handle the case (default true); false: it must decline. */
  handled?: boolean;
}

/** Random values: floats in [-2, 2), or small integers when `ints` is given (ties). */
function rand(dtype: DType, shape: number[], seed: number, ints = 0): Tensor {
  const r = makeRandom(seed);
  const t = new Tensor(dtype, shape);
  for (let i = 0; i < t.size; i++) {
    if (dtype === 'bool') t.data[i] = r() < 0.5 ? 1 : 0;
    else if (dtype === 'int32' || ints > 0) t.data[i] = Math.floor(r() * (ints || 100)) - (dtype === 'int32' ? 50 : 0);
    else t.data[i] = 4 * r() - 2;
  }
  return t;
}

function f32(shape: number[], values: number[]): Tensor {
  return new Tensor('float32', shape, Float32Array.from(values));
}

function i32(shape: number[], values: number[]): Tensor {
  return new Tensor('int32', shape, Int32Array.from(values));
}

/** A copy of t whose data is a view into the middle of a larger buffer. */
function asView(t: Tensor, fill: number): Tensor {
  const buf = allocData(t.dtype, t.size + 2 * GUARD).fill(fill);
  const data = buf.subarray(GUARD, GUARD + t.size);
  data.set(t.data as never);
  return new Tensor(t.dtype, t.shape, data);
}

function sentinel(dtype: DType): number {
  return dtype === 'float32' ? 12345.5 : dtype === 'int32' ? 777 : 3;
}

function ctxFor(node: Node): RefContext {
  const none = (): never => {
    throw new Error('no state in this test');
  };
  return { node, random: none, readVariable: none, writeVariable: none };
}

/** First mismatch between got and want as text ('' when they agree). */
function mismatch(got: TypedArray, want: TypedArray, exact: boolean): string {
  if (got.length !== want.length) return `length ${got.length} vs ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(g) && Number.isNaN(w)) continue;
    if (g === w) continue;
    if (!exact && Math.abs(g - w) <= 1e-6 + 1e-5 * Math.abs(w)) continue;
    return `element ${i}: got ${g}, want ${w}`;
  }
  return '';
}

/** Builds the op on placeholders for `inputs`, runs reference and fast kernels, compares. */
function check(op: string, inputs: Tensor[], build: Build, opts: Opts = {}): void {
  const g = new Graph();
  const phs = inputs.map((t, i) => g.placeholder(t.dtype, t.shape, `in${i}`));
  const built = build(...phs);
  const node = (Array.isArray(built) ? built[0]! : built).node;
  expect(node.op).toBe(op);
  const ins = node.inputs.map((s) => {
    const k = phs.indexOf(s);
    if (k < 0) throw new Error(`input ${s.name} of ${op} is not a placeholder of this case`);
    return inputs[k]!;
  });
  const outs = node.outputs.map((o) => asView(new Tensor(o.dtype, o.shape as number[]), sentinel(o.dtype)));
  for (const o of outs) if (o.dtype === 'float32') o.data.fill(NaN);
  const datas = outs.map((o) => o.data);
  const kernel = fast.get(op);
  expect(kernel).toBeDefined();
  const handled = kernel!(
    ins.map((t) => asView(t, 0)),
    outs,
    node.attrs,
  );
  const what = `${op} ${JSON.stringify(node.attrs)} on ${ins.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(', ')}`;
  expect({ what, handled }).toEqual({ what, handled: opts.handled ?? true });
  if (!handled) return;
  const want = getRefKernel(op)(ins, node.attrs, ctxFor(node));
  want.forEach((w, i) => expect(w.shape).toEqual(outs[i]!.shape));
  outs.forEach((o, i) => {
    expect(o.data).toBe(datas[i]);
    const whole = new (o.data.constructor as new (b: ArrayBufferLike) => TypedArray)(o.data.buffer);
    const s = sentinel(o.dtype);
    const guardsOk = [...whole.subarray(0, GUARD), ...whole.subarray(GUARD + o.size)].every((v) => v === s);
    expect({ what, guardsOk }).toEqual({ what, guardsOk: true });
    const exact = opts.exact ?? o.dtype !== 'float32';
    expect({ what, output: i, mismatch: mismatch(o.data, want[i]!.data, exact) }).toEqual({ what, output: i, mismatch: '' });
  });
}

describe('fast kernels: registration', () => {
  it('every fast kernel is registered in the CPU kernel table', () => {
    expect(FAST_KERNELS.length).toBeGreaterThan(20);
    for (const [op] of FAST_KERNELS) expect({ op, registered: getCpuKernel(op) !== undefined }).toEqual({ op, registered: true });
  });
});

describe('fast kernels: softmax / logSoftmax', () => {
  const cases: Array<[number[], number]> = [
    [[128, 10], -1],
    [[5], 0],
    [[3, 4, 5], 0],
    [[3, 4, 5], 1],
    [[3, 4, 5], -2],
    [[2, 1, 3], 1],
    [[1, 7], -1],
    [[6, 1], -1],
    [[4, 0, 3], 1],
    [[0, 5], -1],
  ];
  it('matches the reference on every axis', () => {
    cases.forEach(([shape, axis], i) => {
      const x = rand('float32', shape, 10 + i);
      check('softmax', [x], (t) => softmax(t, axis));
      check('logSoftmax', [x], (t) => logSoftmax(t, axis));
    });
  });
  it('is stable for large logits and matches -Infinity / NaN lines', () => {
    const special = f32([4, 3], [1000, 999, -1000, -Infinity, -Infinity, -Infinity, 1, NaN, 2, 80, -Infinity, 80]);
    for (const axis of [-1, 0]) {
      check('softmax', [special], (t) => softmax(t, axis));
      check('logSoftmax', [special], (t) => logSoftmax(t, axis));
    }
  });
});

describe('fast kernels: pooling', () => {
  type Pad = 'same' | 'valid' | number | number[][];
  interface PoolCase {
    x: number[];
    f: number | [number, number];
    s: number | [number, number];
    pad: Pad;
    round?: 'floor' | 'ceil' | 'round';
    dil?: number;
  }
  const cases: PoolCase[] = [
    { x: [2, 7, 7, 3], f: 2, s: 2, pad: 'valid' },
    { x: [2, 8, 8, 4], f: 2, s: 2, pad: 'valid' },
    { x: [2, 7, 7, 3], f: 3, s: 2, pad: 'same' },
    { x: [1, 5, 6, 2], f: [2, 3], s: [1, 2], pad: 'same' },
    { x: [2, 6, 6, 1], f: 3, s: 1, pad: 1 },
    {
      x: [1, 8, 7, 2],
      f: [3, 2],
      s: [2, 1],
      pad: [
        [0, 0],
        [1, 2],
        [0, 1],
        [0, 0],
      ],
    },
    { x: [1, 9, 9, 2], f: 2, s: 3, pad: 'valid' },
    { x: [1, 10, 9, 2], f: 2, s: [3, 4], pad: 'same' },
    {
      x: [1, 6, 6, 1],
      f: 3,
      s: 2,
      pad: [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
      round: 'ceil',
    },
    {
      x: [1, 7, 6, 2],
      f: 3,
      s: 2,
      pad: [
        [0, 0],
        [0, 2],
        [2, 0],
        [0, 0],
      ],
      round: 'round',
    },
    { x: [1, 7, 7, 2], f: 2, s: 1, pad: 'same', dil: 2 },
    { x: [1, 2, 2, 1], f: 2, s: 1, pad: 1, dil: 3 }, // windows that see no input element
    { x: [1, 1, 1, 4], f: 1, s: 1, pad: 'valid' },
    { x: [0, 4, 4, 2], f: 2, s: 2, pad: 'valid' },
    { x: [3, 5, 5, 1], f: [5, 5], s: 1, pad: 'valid' },
  ];
  const poolFns = (c: PoolCase) => {
    const opts = c.dil ? { dilations: c.dil } : {};
    return {
      max: (x: SymbolicTensor) => maxPool(x, c.f, c.s, c.pad, c.round, opts),
      avg: (x: SymbolicTensor, include: boolean) => avgPool(x, c.f, c.s, c.pad, c.round, { ...opts, countIncludePad: include }),
      maxGrad: (x: SymbolicTensor, dy: SymbolicTensor) => maxPoolGrad(x, dy, c.f, c.s, c.pad, c.round, opts),
      avgGrad: (x: SymbolicTensor, dy: SymbolicTensor, include: boolean) => avgPoolGrad(x, dy, c.f, c.s, c.pad, c.round, { ...opts, countIncludePad: include }),
    };
  };
  const outShapeOf = (c: PoolCase): number[] => {
    const g = new Graph();
    return poolFns(c).max(g.placeholder('float32', c.x)).shape as number[];
  };

  it('maxPool and avgPool (with and without countIncludePad) match the reference', () => {
    cases.forEach((c, i) => {
      const b = poolFns(c);
      for (const ints of [0, 3]) {
        const x = rand('float32', c.x, 100 + i, ints);
        check('maxPool', [x], (t) => b.max(t));
        check('avgPool', [x], (t) => b.avg(t, false));
        check('avgPool', [x], (t) => b.avg(t, true));
      }
    });
  });

  it('gradients (maxPoolGrad with ties, avgPoolGrad, maxPoolGradGrad) match the reference', () => {
    cases.forEach((c, i) => {
      const b = poolFns(c);
      const dy = rand('float32', outShapeOf(c), 200 + i);
      for (const ints of [0, 3]) {
        const x = rand('float32', c.x, 300 + i, ints);
        check('maxPoolGrad', [x, dy], (t, d) => b.maxGrad(t, d!));
        check('avgPoolGrad', [x, dy], (t, d) => b.avgGrad(t, d!, false));
        check('avgPoolGrad', [x, dy], (t, d) => b.avgGrad(t, d!, true));
        const gIn = rand('float32', c.x, 400 + i);
        check('maxPoolGradGrad', [x, gIn], (t, gg) => t.graph.addNode('maxPoolGradGrad', [t, gg!], b.max(t).node.attrs).output, {
          exact: true,
        });
      }
    });
  });

  it('maxPool takes the first NaN of a window, as the reference', () => {
    const x = f32([1, 2, 4, 1], [1, NaN, 3, 4, 5, 6, NaN, 2]);
    check('maxPool', [x], (t) => maxPool(t, 2, 2, 'valid'));
    check('maxPoolGrad', [x, f32([1, 1, 2, 1], [1, 2])], (t, d) => maxPoolGrad(t, d!, 2, 2, 'valid'));
  });
});

describe('fast kernels: movement', () => {
  it('transpose: 2-D (tiled), batched, higher rank, size-1, empty, scalar, int32 and bool', () => {
    const cases: Array<[DType, number[], number[]]> = [
      ['float32', [3, 4], [1, 0]],
      ['float32', [40, 70], [1, 0]],
      ['float32', [3, 33, 40], [0, 2, 1]],
      ['float32', [2, 3, 4], [2, 0, 1]],
      ['float32', [2, 3, 4, 5], [0, 2, 1, 3]],
      ['float32', [2, 3, 4, 5], [3, 2, 1, 0]],
      ['float32', [1, 5, 1], [2, 1, 0]],
      ['float32', [0, 3], [1, 0]],
      ['float32', [6], [0]],
      ['float32', [], []],
      ['int32', [7, 9], [1, 0]],
      ['bool', [4, 3, 2], [1, 2, 0]],
    ];
    cases.forEach(([dt, shape, perm], i) => check('transpose', [rand(dt, shape, 500 + i)], (t) => transpose(t, perm)));
  });

  it('slice: offsets, -1 sizes, empty results, long rows', () => {
    const cases: Array<[DType, number[], number[], number[]]> = [
      ['float32', [5, 6], [1, 2], [3, -1]],
      ['float32', [4, 5, 6], [0, 1, 2], [-1, 0, 3]],
      ['float32', [7], [0], [-1]],
      ['int32', [3, 40, 50], [1, 0, 10], [2, -1, 35]],
      ['bool', [2, 3, 4], [1, 1, 0], [1, 2, -1]],
      ['float32', [3, 1, 4], [2, 0, 3], [1, 1, 1]],
    ];
    cases.forEach(([dt, shape, b, s], i) => check('slice', [rand(dt, shape, 600 + i)], (t) => slice(t, b, s)));
  });

  it('split: equal pieces, sizes with -1 and 0, negative axis', () => {
    check('split', [rand('float32', [2, 6, 4], 700)], (t) => split(t, 3, 1));
    check('split', [rand('float32', [3, 4, 7], 701)], (t) => split(t, [1, -1, 2], -1));
    check('split', [rand('int32', [5, 2], 702)], (t) => split(t, [2, 0, 3], 0));
    check('split', [rand('float32', [1, 64], 703)], (t) => split(t, 2, 1));
  });

  it('concat and stack: every axis, empty parts, int32 and bool', () => {
    const a = rand('float32', [2, 3, 4], 800);
    const b = rand('float32', [2, 1, 4], 801);
    const e = rand('float32', [2, 0, 4], 802);
    check('concat', [a, b, e], (x, y, z) => concat([x, y!, z!], 1));
    check('concat', [a, a], (x, y) => concat([x, y!], 0));
    check('concat', [a, rand('float32', [2, 3, 2], 803)], (x, y) => concat([x, y!], -1));
    check('concat', [rand('int32', [3, 50], 804), rand('int32', [3, 70], 805)], (x, y) => concat([x, y!], 1));
    check('concat', [rand('bool', [4], 806), rand('bool', [2], 807)], (x, y) => concat([x, y!], 0));
    for (const axis of [0, 1, 3, -1, -2]) check('stack', [a, a, rand('float32', [2, 3, 4], 808)], (x, y, z) => stack([x, y!, z!], axis));
    check('stack', [rand('int32', [], 809), rand('int32', [], 810)], (x, y) => stack([x, y!], 0));
  });

  it('pad: every side, zero paddings, constant values per dtype', () => {
    check('pad', [rand('float32', [3, 4], 900)], (t) =>
      pad(
        t,
        [
          [1, 2],
          [0, 3],
        ],
        0.5,
      ),
    );
    check('pad', [rand('float32', [2, 3, 4], 901)], (t) =>
      pad(t, [
        [1, 1],
        [2, 0],
        [0, 2],
      ]),
    );
    check('pad', [rand('float32', [2, 3], 902)], (t) =>
      pad(t, [
        [0, 0],
        [0, 0],
      ]),
    );
    check('pad', [rand('int32', [5], 903)], (t) => pad(t, [[3, 1]], 7));
    check('pad', [rand('bool', [2, 2], 904)], (t) =>
      pad(
        t,
        [
          [1, 0],
          [0, 1],
        ],
        1,
      ),
    );
    check('pad', [rand('float32', [0, 2], 905)], (t) =>
      pad(
        t,
        [
          [1, 1],
          [1, 0],
        ],
        -1,
      ),
    );
  });

  it('tile, broadcastTo, broadcastLike', () => {
    check('tile', [rand('float32', [2, 3], 1000)], (t) => tile(t, [2, 3]));
    check('tile', [rand('float32', [3], 1001)], (t) => tile(t, [0]));
    check('tile', [rand('int32', [1, 4, 1], 1002)], (t) => tile(t, [3, 1, 5]));
    check('tile', [rand('bool', [2, 2], 1003)], (t) => tile(t, [1, 1]));
    check('broadcastTo', [rand('float32', [3, 1], 1004)], (t) => broadcastTo(t, [2, 3, 4]));
    check('broadcastTo', [rand('float32', [], 1005)], (t) => broadcastTo(t, [5]));
    check('broadcastTo', [rand('int32', [1, 40], 1006)], (t) => broadcastTo(t, [30, 40]));
    check('broadcastTo', [rand('float32', [4], 1007)], (t) => broadcastTo(t, [4]));
    check('broadcastLike', [rand('float32', [1, 3], 1008), rand('float32', [4, 3], 1009)], (x, like) => broadcastLike(x, like!));
  });

  it('gather: axes, batchDims, long rows, empty indices; oneHot', () => {
    check('gather', [rand('float32', [5, 4], 1100), i32([3], [4, 0, 4])], (x, i) => gather(x, i!, 0));
    check('gather', [rand('float32', [5, 4], 1101), i32([2, 2], [3, 0, 1, 1])], (x, i) => gather(x, i!, 1));
    check('gather', [rand('float32', [5, 4], 1102), i32([2], [3, 2])], (x, i) => gather(x, i!, -1));
    check('gather', [rand('float32', [2, 5, 3], 1103), i32([2, 4], [0, 4, 4, 1, 2, 2, 3, 0])], (x, i) => gather(x, i!, 1, 1));
    check('gather', [rand('float32', [10, 64], 1104), i32([7], [9, 8, 0, 1, 1, 5, 3])], (x, i) => gather(x, i!, 0));
    check('gather', [rand('int32', [6, 2], 1105), i32([0], [])], (x, i) => gather(x, i!, 0));
    check('gather', [rand('bool', [3], 1106), i32([], [2])], (x, i) => gather(x, i!, 0));
    check('gather', [rand('float32', [3, 2], 1107), i32([1], [3])], (x, i) => gather(x, i!, 0), { handled: false });
    const idx = i32([2, 3], [0, 4, -1, 2, 5, 1]);
    check('oneHot', [idx], (i) => oneHot(i, 5));
    check('oneHot', [idx], (i) => oneHot(i, 5, 2, -1, 'float32'));
    check('oneHot', [idx], (i) => oneHot(i, 3, 1, 0, 'bool'));
    check('oneHot', [idx], (i) => oneHot(i, 0));
  });
});

describe('fast kernels: argMax / argMin', () => {
  it('matches the reference on every axis, with ties, int32 and NaN', () => {
    const cases: Array<[DType, number[], number, number]> = [
      ['float32', [128, 10], -1, 0],
      ['float32', [128, 10], 0, 0],
      ['float32', [3, 4, 5], 1, 3],
      ['float32', [3, 4, 5], 0, 2],
      ['int32', [6, 7], 1, 0],
      ['int32', [6, 7], -2, 0],
      ['float32', [1], 0, 0],
      ['float32', [5, 1], 1, 0],
      ['float32', [0, 3], 1, 0],
    ];
    cases.forEach(([dt, shape, axis, ints], i) => {
      const x = rand(dt, shape, 1200 + i, ints);
      check('argMax', [x], (t) => argMax(t, axis));
      check('argMin', [x], (t) => argMin(t, axis));
    });
    const nan = f32([2, 3], [NaN, 1, 2, 1, NaN, 0]);
    for (const axis of [0, 1]) {
      check('argMax', [nan], (t) => argMax(t, axis));
      check('argMin', [nan], (t) => argMin(t, axis));
    }
  });
});

describe('fast kernels: batchNorm / layerNorm', () => {
  const pos = (shape: number[], seed: number) => {
    const t = rand('float32', shape, seed);
    for (let i = 0; i < t.size; i++) t.data[i] = Math.abs(t.data[i]!) + 0.1;
    return t;
  };
  it('batchNorm: per-channel, scalar and trailing-block parameters; leading broadcast falls back', () => {
    const x = rand('float32', [4, 3, 3, 8], 1300);
    const bn = (ms: number[], vs: number[], os: number[], ss: number[], handled = true) =>
      check(
        'batchNorm',
        [x, rand('float32', ms, 1301), pos(vs, 1302), rand('float32', os, 1303), rand('float32', ss, 1304)],
        (t, m, v, o, s) => batchNorm(t, m!, v!, o!, s!, 1e-3),
        { handled },
      );
    bn([8], [8], [8], [8]);
    bn([1, 1, 1, 8], [8], [], [1]);
    bn([3, 8], [3, 3, 8], [8], []);
    bn([], [], [], []);
    bn([4, 1, 1, 1], [8], [8], [8], false);
    bn([3, 1], [8], [8], [8], false);
  });
  it('layerNorm: trailing axes with scalar or trailing-block scale/offset; other axes fall back', () => {
    const ln = (xs: number[], axes: number | number[], ss: number[], os: number[], handled = true) =>
      check('layerNorm', [rand('float32', xs, 1400), rand('float32', ss, 1401), rand('float32', os, 1402)], (t, s, o) => layerNorm(t, s!, o!, axes, 1e-5), {
        handled,
      });
    ln([6, 10], -1, [10], [10]);
    ln([2, 3, 4], [1, 2], [4], []);
    ln([2, 3, 4], [-1, -2], [3, 4], [1, 4]);
    ln([2, 3, 4], 0, [], []);
    ln([5, 1], -1, [1], [1]);
    ln([0, 4], -1, [4], [4]);
    ln([3, 4], [0], [4], [4], false);
    ln([3, 4], -1, [3, 1], [4], false);
  });
});
