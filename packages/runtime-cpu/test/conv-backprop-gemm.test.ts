/**
 * The conv gradients on GemmEngine (conv2d-backprop.ts: filter and input gradients and
 * conv2dTranspose as im2col/col2im + GEMM) and the direct depthwise loops (depthwise.ts)
 * against the reference kernels, the oracle. Each case builds the op with its public function
 * on placeholders, resolves the window with geometry2D exactly as the executor does, runs the
 * engine function on copies of the inputs in engine memory (output NaN-filled, so every
 * element must be written) and compares: strides 1/2, dilation 2, 'same'/'valid'/explicit
 * pads, 1x1 (pointwise path) and 5x5 filters, several channel counts, batch 1 and 3, tiny
 * scratch (many row blocks), 1 and 2 threads. Tolerance: |got - ref| <= 1e-4 + 1e-3 * |ref|
 * (long float32 sums against the reference's float64).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type Geometry2D,
  Graph,
  type Node,
  type PadArg,
  type SymbolicTensor,
  Tensor,
  conv2dBackpropFilter,
  conv2dBackpropInput,
  conv2dTranspose,
  depthwiseConv2d,
  depthwiseConv2dBackpropFilter,
  depthwiseConv2dBackpropInput,
  geometry2D,
} from '@kiln/graph';
import {
  GemmEngine,
  conv2dBackpropFilterGemm,
  conv2dBackpropFilterScratchBytes,
  conv2dBackpropInputGemm,
  conv2dBackpropInputScratchBytes,
  conv2dTransposeGemm,
  conv2dTransposeScratchBytes,
  depthwiseConv2dBackpropFilterDirect,
  depthwiseConv2dBackpropInputDirect,
  depthwiseConv2dDirect,
} from '../src/compiled/wasm/index.js';
import '../src/reference/kernels/index.js';
import { makeRandom } from '../src/reference/random.js';
import { type RefContext, getRefKernel } from '../src/reference/registry.js';
import { type Pair, type Shape4, closeEngines, expectAllClose, openEngines, scratchFor, randomTensor, statelessContext } from './wasm-test-helpers.js';

/** The op node built on placeholders for `inputs`, and the reference kernel's output. */
function reference(inputs: Tensor[], build: (...xs: SymbolicTensor[]) => SymbolicTensor): { node: Node; want: Tensor } {
  const g = new Graph();
  const phs = inputs.map((t, i) => g.placeholder('float32', t.shape, `in${i}`));
  const node = build(...phs).node;
  const want = getRefKernel(node.op)(inputs, node.attrs, statelessContext(node))[0]!;
  return { node, want };
}

/** Copies of tensors into the engine's memory; the output is NaN-filled. */
function place(e: GemmEngine, ts: Tensor[], outSize: number): { at: number[]; out: number } {
  const at = ts.map((t) => {
    const o = e.alloc(t.size * 4);
    e.f32(o, t.size).set(t.data as Float32Array);
    return o;
  });
  const out = e.alloc(outSize * 4);
  e.f32(out, outSize).fill(Number.NaN);
  return { at, out };
}

function compare(e: GemmEngine, out: number, want: Tensor, what: string): void {
  expectAllClose(e.f32(out, want.size), want.data, 1e-4, 1e-3, what);
}

interface Case {
  x: Shape4;
  f: Shape4;
  s: [number, number];
  pad: PadArg;
  d?: [number, number];
  /** Limit the workspace to this many im2col rows. */
  scratchRows?: number;
}

const label = (c: Case) => `x[${c.x}] f[${c.f}] s[${c.s}] d[${c.d ?? [1, 1]}] pad ${JSON.stringify(c.pad)}`;

/** The explicit window the op node resolves to, as the executor resolves it with geometry2D. */
function windowOf(xShape: number[], f: Shape4, node: Node): { strides: Pair; dilations: Pair; padTop: number; padLeft: number } {
  const g: Geometry2D = geometry2D(xShape, f[0], f[1], node.attrs, node.name);
  return { strides: [g.strideH, g.strideW], dilations: [g.dilationH, g.dilationW], padTop: g.padTop, padLeft: g.padLeft };
}

/** The output shape of the forward conv2d of case c with dilations d, and `channels` channels. */
function forwardShape(c: Case, d: Pair, channels: number): Shape4 {
  const geo = geometry2D(c.x, c.f[0], c.f[1], { strides: c.s, dilations: d, ...padAttrsOf(c.pad) }, 'probe');
  return [c.x[0], geo.outH, geo.outW, channels];
}

/** A dense-gradient case: random x, f and dy, the gradient op's reference output and the resolved window. */
function gradCase(c: Case, seed: number, build: (x: SymbolicTensor, f: SymbolicTensor, dy: SymbolicTensor, d: Pair) => SymbolicTensor) {
  const d = c.d ?? [1, 1];
  const x = randomTensor(c.x, seed);
  const f = randomTensor(c.f, seed + 1);
  const dy = randomTensor(forwardShape(c, d, c.f[3]), seed + 2);
  const { node, want } = reference([x, f, dy], (a, b, y) => build(a, b, y, d));
  return { x, f, dy, dyShape: dy.shape as Shape4, want, win: windowOf(c.x, c.f, node) };
}

function checkFilterGrad(e: GemmEngine, c: Case, seed: number): void {
  const { x, f, dy, dyShape, want, win } = gradCase(c, seed, (a, b, y, d) => conv2dBackpropFilter(a, b, y, c.s, c.pad, d));
  const { at, out } = place(e, [x, dy], f.size);
  conv2dBackpropFilterGemm(e, {
    x: at[0]!,
    xShape: c.x,
    dy: at[1]!,
    dyShape,
    dFilter: out,
    filterShape: c.f,
    ...win,
    ...scratchFor(e, conv2dBackpropFilterScratchBytes(c.x, c.f, dyShape, win.strides, win.dilations), c),
  });
  compare(e, out, want, `backpropFilter ${label(c)}`);
}

function checkInputGrad(e: GemmEngine, c: Case, seed: number): void {
  const { x, f, dy, dyShape, want, win } = gradCase(c, seed, (a, b, y, d) => conv2dBackpropInput(a, b, y, c.s, c.pad, d));
  const { at, out } = place(e, [f, dy], x.size);
  conv2dBackpropInputGemm(e, {
    dy: at[1]!,
    dyShape,
    filter: at[0]!,
    filterShape: c.f,
    dx: out,
    xShape: c.x,
    ...win,
    ...scratchFor(e, conv2dBackpropInputScratchBytes(c.x, c.f, dyShape, win.strides, win.dilations), c),
  });
  compare(e, out, want, `backpropInput ${label(c)}`);
}

/** c.x is the transposed conv's OUTPUT shape [n,H,W,O]; c.f is [kh,kw,O,I]. */
function checkTranspose(e: GemmEngine, c: Case, seed: number): void {
  const xShape = forwardShape(c, [1, 1], c.f[3]);
  const x = randomTensor(xShape, seed);
  const f = randomTensor(c.f, seed + 1);
  const { node, want } = reference([x, f], (a, b) => conv2dTranspose(a, b, c.x, c.s, c.pad));
  expect(want.shape).toEqual(c.x);
  const { strides, padTop, padLeft } = windowOf(c.x, c.f, node); // the conv2d from outShape back to x
  const { at, out } = place(e, [x, f], want.size);
  conv2dTransposeGemm(e, {
    x: at[0]!,
    xShape,
    filter: at[1]!,
    filterShape: c.f,
    out,
    outShape: c.x,
    strides,
    padTop,
    padLeft,
    ...scratchFor(e, conv2dTransposeScratchBytes(xShape, c.f, c.x, strides), c),
  });
  compare(e, out, want, `conv2dTranspose ${label(c)}`);
}

/** c.f is [kh, kw, C, M]. */
function checkDepthwise(e: GemmEngine, c: Case, seed: number): void {
  const d = c.d ?? [1, 1];
  const x = randomTensor(c.x, seed);
  const f = randomTensor(c.f, seed + 1);
  const fwd = reference([x, f], (a, b) => depthwiseConv2d(a, b, c.s, c.pad, 'NHWC', d));
  const w = windowOf(c.x, c.f, fwd.node);
  const yShape = fwd.want.shape as Shape4;
  let p = place(e, [x, f], fwd.want.size);
  depthwiseConv2dDirect(e, { x: p.at[0]!, xShape: c.x, filter: p.at[1]!, filterShape: c.f, out: p.out, outShape: yShape, ...w });
  compare(e, p.out, fwd.want, `depthwiseConv2d ${label(c)}`);

  const dy = randomTensor(yShape, seed + 2);
  const bi = reference([x, f, dy], (a, b, y) => depthwiseConv2dBackpropInput(a, b, y, c.s, c.pad, d));
  p = place(e, [f, dy], x.size);
  depthwiseConv2dBackpropInputDirect(e, { dy: p.at[1]!, dyShape: yShape, filter: p.at[0]!, filterShape: c.f, dx: p.out, xShape: c.x, ...w });
  compare(e, p.out, bi.want, `depthwiseConv2dBackpropInput ${label(c)}`);

  const bf = reference([x, f, dy], (a, b, y) => depthwiseConv2dBackpropFilter(a, b, y, c.s, c.pad, d));
  p = place(e, [x, dy], f.size);
  depthwiseConv2dBackpropFilterDirect(e, { x: p.at[0]!, xShape: c.x, dy: p.at[1]!, dyShape: yShape, dFilter: p.out, filterShape: c.f, ...w });
  compare(e, p.out, bf.want, `depthwiseConv2dBackpropFilter ${label(c)}`);
}

/** The { pad, explicitPaddings } attrs of a pad argument (for sizing dy before building the op). */
function padAttrsOf(pad: PadArg): { pad: string; explicitPaddings: number[] } {
  if (pad === 'same' || pad === 'valid') return { pad, explicitPaddings: [] };
  if (typeof pad === 'number') return { pad: 'explicit', explicitPaddings: [pad, pad, pad, pad] };
  return { pad: 'explicit', explicitPaddings: [pad[1]![0]!, pad[1]![1]!, pad[2]![0]!, pad[2]![1]!] };
}

const EXPLICIT: PadArg = [
  [0, 0],
  [1, 2],
  [2, 0],
  [0, 0],
];

/** The dense-conv cases: every (filter, stride, dilation, pad) combination over two channel/batch settings. */
function denseCases(): Case[] {
  const out: Case[] = [];
  for (const [n, ci, co] of [
    [1, 3, 8],
    [3, 8, 17],
  ] as const) {
    for (const k of [1, 3, 5]) {
      for (const pad of ['same', 'valid', EXPLICIT] as PadArg[]) {
        for (const [s, d] of [
          [
            [1, 1],
            [1, 1],
          ],
          [
            [2, 2],
            [1, 1],
          ],
          [
            [1, 1],
            [2, 2],
          ],
          [
            [2, 1],
            [1, 2],
          ],
        ] as [[number, number], [number, number]][]) {
          if (k === 1 && d[0] + d[1] > 2) continue;
          out.push({ x: [n, 9, 10, ci], f: [k, k, ci, co], s, d, pad });
        }
      }
    }
  }
  return out;
}

describe('conv2d gradients as GEMM', () => {
  let e1: GemmEngine;
  let e2: GemmEngine;
  beforeAll(async () => ([e1, e2] = await openEngines()));
  afterAll(() => closeEngines(e1, e2));

  it('conv2dBackpropFilter matches the reference: 1x1/3x3/5x5, strides 1/2, dilation 2, same/valid/explicit, batch 1 and 3', () => {
    let seed = 100;
    for (const c of denseCases()) checkFilterGrad(e1, c, (seed += 3));
  });

  it('conv2dBackpropInput matches the reference over the same cases', () => {
    let seed = 200;
    for (const c of denseCases()) checkInputGrad(e1, c, (seed += 3));
  });

  it('splits into row blocks when scratch is small, and runs on 2 threads', () => {
    const cases: Case[] = [
      { x: [3, 9, 11, 6], f: [5, 5, 6, 10], s: [1, 1], pad: 'same', scratchRows: 7 },
      { x: [2, 9, 11, 4], f: [3, 3, 4, 5], s: [2, 2], pad: 'valid', scratchRows: 1 },
      { x: [2, 14, 14, 16], f: [5, 5, 16, 32], s: [1, 1], pad: 'same' },
      { x: [1, 7, 5, 16], f: [1, 1, 16, 24], s: [1, 1], pad: 'same' }, // pointwise: no im2col
    ];
    let seed = 300;
    for (const c of cases) {
      for (const e of [e1, e2]) {
        checkFilterGrad(e, c, (seed += 3));
        checkInputGrad(e, c, (seed += 3));
      }
    }
    expect(conv2dBackpropFilterScratchBytes([1, 7, 5, 16], [1, 1, 16, 24], [1, 7, 5, 24], [1, 1], [1, 1])).toBe(0);
  });

  it('conv2dTranspose matches the reference: strides 1/2, same/valid/explicit, 1x1 and 5x5', () => {
    let seed = 400;
    for (const [n, o, i] of [
      [1, 3, 8],
      [3, 8, 5],
    ] as const) {
      for (const k of [1, 3, 5]) {
        for (const pad of ['same', 'valid', EXPLICIT] as PadArg[]) {
          for (const s of [
            [1, 1],
            [2, 2],
            [2, 1],
          ] as [number, number][]) {
            checkTranspose(n === 1 ? e1 : e2, { x: [n, 10, 9, o], f: [k, k, o, i], s, pad }, (seed += 3));
          }
        }
      }
    }
  });

  it('writes a zero filter gradient for an empty batch and zero dx for zero output channels', () => {
    const dFilter = e1.alloc(3 * 3 * 2 * 4 * 4);
    e1.f32(dFilter, 72).fill(Number.NaN);
    const common = {
      strides: [1, 1] as [number, number],
      dilations: [1, 1] as [number, number],
      padTop: 1,
      padLeft: 1,
      scratch: e1.alloc(64),
      scratchBytes: 64,
    };
    conv2dBackpropFilterGemm(e1, {
      ...common,
      x: e1.alloc(4),
      xShape: [0, 5, 5, 2],
      dy: e1.alloc(4),
      dyShape: [0, 5, 5, 4],
      dFilter,
      filterShape: [3, 3, 2, 4],
    });
    expect([...e1.f32(dFilter, 72)].every((v) => v === 0)).toBe(true);
    const dx = e1.alloc(50 * 4);
    e1.f32(dx, 50).fill(Number.NaN);
    conv2dBackpropInputGemm(e1, {
      ...common,
      dy: e1.alloc(4),
      dyShape: [1, 5, 5, 0],
      filter: e1.alloc(4),
      filterShape: [3, 3, 2, 0],
      dx,
      xShape: [1, 5, 5, 2],
    });
    expect([...e1.f32(dx, 50)].every((v) => v === 0)).toBe(true);
  });

  it('rejects mismatched channels and a scratch smaller than one im2col row', () => {
    const p = {
      x: e1.alloc(4 * 16),
      xShape: [1, 2, 2, 4] as Shape4,
      dy: e1.alloc(16),
      dyShape: [1, 2, 2, 1] as Shape4,
      dFilter: e1.alloc(4 * 36),
      filterShape: [3, 3, 4, 1] as Shape4,
      strides: [1, 1] as [number, number],
      dilations: [1, 1] as [number, number],
      padTop: 1,
      padLeft: 1,
      scratch: e1.alloc(64),
      scratchBytes: 64,
    };
    expect(() => conv2dBackpropFilterGemm(e1, { ...p, filterShape: [3, 3, 3, 1] })).toThrow(/input channels 4 != filter input channels 3/);
    expect(() => conv2dBackpropFilterGemm(e1, p)).toThrow(/at least 144 bytes \(one im2col row\), got offset \d+ with 64 bytes/);
    expect(() => conv2dBackpropInputGemm(e1, { ...p, filter: p.dFilter, dx: p.x, dyShape: [1, 2, 2, 2] })).toThrow(/dy channels 2 != filter output channels 1/);
    expect(() => conv2dBackpropInputGemm(e1, { ...p, filter: p.dFilter, dx: 0 })).toThrow(/conv2dBackpropInputGemm: dx: bytes \[0, 64\)/);
    expect(() => depthwiseConv2dDirect(e1, { ...p, filter: p.dFilter, out: p.dy, outShape: [1, 2, 2, 3] })).toThrow(
      /output channels 3 != channels \* multiplier 4/,
    );
  });
});

describe('depthwiseConv2d direct loops', () => {
  let e: GemmEngine;
  beforeAll(async () => {
    e = await GemmEngine.create({ threads: 1 });
  });
  afterAll(() => e.dispose());

  it('forward and both gradients match the reference: multipliers 1/3, strides 1/2, dilation 2, same/valid/explicit', () => {
    let seed = 500;
    for (const [n, ch, m] of [
      [1, 3, 1],
      [3, 8, 1],
      [3, 5, 3],
    ] as const) {
      for (const k of [1, 3, 5]) {
        for (const pad of ['same', 'valid', EXPLICIT] as PadArg[]) {
          for (const [s, d] of [
            [
              [1, 1],
              [1, 1],
            ],
            [
              [2, 2],
              [1, 1],
            ],
            [
              [1, 1],
              [2, 2],
            ],
          ] as [[number, number], [number, number]][]) {
            checkDepthwise(e, { x: [n, 9, 10, ch], f: [k, k, ch, m], s, d, pad }, (seed += 3));
          }
        }
      }
    }
  });
});
