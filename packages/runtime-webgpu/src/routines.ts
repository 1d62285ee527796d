/**
 * The routines (kernels of kind 'op') the WebGPU device implements, each rendered through the
 * generic generators rather than a hand-written shader: movement ops that are index maps
 * become elementwise copies read through the compiler's views (transpose, slice, pad and
 * concat as when they fold into a consumer; stack as a concat of expanded pieces; split as
 * one sliced copy per output; tile as a broadcast over interleaved dims), batched matMul is one contraction per batch element
 * (broadcast batch dims resolved to offsets, the fused epilogue read through views), and
 * softmax / logSoftmax are two reductions and an elementwise kernel over scratch rows; the
 * state routines (assign, assignAdd, assignSub of unfused programs) write the variable's
 * staging slot, reading it there once an earlier kernel of the run wrote it.
 */
import {
  type BufferDecl,
  type KernelSpec,
  type ScalarExpr,
  type View,
  broadcastStrides,
  call,
  chainPieces,
  concatPieceView,
  identityView,
  input,
  padView,
  sliceView,
  substitute,
  transposeView,
} from '@kiln/compiler';
import { KilnError, normalizeAxis, sizeOf, stridesOf } from '@kiln/graph';
import { contractionWgsl } from './codegen/contraction-wgsl.js';
import { reduceWgsl } from './codegen/reduce-wgsl.js';
import { elementwiseWgsl } from './codegen/elementwise-wgsl.js';
import type { GeneratedKernel } from './codegen/wgsl-common.js';
import type { Placement } from './kernels.js';

type OpSpec = Extract<KernelSpec, { kind: 'op' }>;

/** The routines this device implements (its Device.routines). */
export const WEBGPU_ROUTINES: ReadonlySet<string> = new Set([
  'transpose',
  'slice',
  'pad',
  'concat',
  'stack',
  'split',
  'tile',
  'matMul',
  'softmax',
  'logSoftmax',
  'assign',
  'assignAdd',
  'assignSub',
]);

/**
 * out = value read through `views` (input slots 0..), then the op's epilogue if any. `loops`
 * replaces the output shape by one of the same row-major order (tile's interleaved dims), with
 * `epiView` giving each epilogue input's view over it.
 */
function copyThrough(
  s: OpSpec,
  out: number,
  ins: number[],
  views: View[],
  bufs: readonly BufferDecl[],
  at: Placement,
  loops?: number[],
  epiView?: (id: number) => View,
): GeneratedKernel {
  const o = bufs[out]!;
  let expr: ScalarExpr = input(0, o.dtype);
  const epi = s.epilogueInputs ?? [];
  if (s.epilogue) expr = substitute(s.epilogue, [expr, ...epi.map((id, i) => input(ins.length + i, bufs[id]!.dtype))]);
  const all = [...ins, ...epi];
  return elementwiseWgsl({
    exprs: [expr],
    inShapes: all.map((id) => bufs[id]!.shape),
    inDTypes: all.map((id) => bufs[id]!.dtype),
    inOffsets: all.map((id) => at.readAt(id)),
    views: [...views, ...epi.map((id) => (epiView ? epiView(id) : null))],
    outShape: loops ?? o.shape,
    outDTypes: [o.dtype],
    outOffsets: [at.writeAt(out)],
  });
}

function matMul(s: OpSpec, bufs: readonly BufferDecl[], at: Placement): GeneratedKernel[] {
  const [a, b] = [bufs[s.inputs[0]!]!, bufs[s.inputs[1]!]!];
  const out = bufs[s.outputs[0]!]!;
  const tA = s.attrs.transposeA === true;
  const tB = s.attrs.transposeB === true;
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [m, k, n] = [tA ? ac : ar, tA ? ar : ac, tB ? br : bc];
  const batch = out.shape.slice(0, -2);
  const full = [...batch, 1, 1];
  const aSt = broadcastStrides([...a.shape.slice(0, -2), 1, 1], full).map((x) => x * ar * ac);
  const bSt = broadcastStrides([...b.shape.slice(0, -2), 1, 1], full).map((x) => x * br * bc);
  const epi = s.epilogueInputs ?? [];
  const epiSt = epi.map((id) => broadcastStrides(bufs[id]!.shape, out.shape));
  const r = out.shape.length;
  const kernels: GeneratedKernel[] = [];
  const count = sizeOf(batch);
  const bStr = stridesOf(batch);
  for (let t = 0; t < count; t++) {
    const idx = batch.map((_, d) => Math.floor(t / bStr[d]!) % batch[d]!);
    const off = (st: number[]) => idx.reduce((acc, i, d) => acc + i * st[d]!, 0);
    kernels.push(
      contractionWgsl({
        m,
        n,
        k,
        a: { offset: at.readAt(s.inputs[0]!) + off(aSt), rowStride: tA ? 1 : ac, colStride: tA ? ac : 1 },
        b: { offset: at.readAt(s.inputs[1]!) + off(bSt), rowStride: tB ? 1 : bc, colStride: tB ? bc : 1 },
        epilogue: s.epilogue ?? input(0, 'float32'),
        epiShapes: epi.map((id) => bufs[id]!.shape),
        epiDTypes: epi.map((id) => bufs[id]!.dtype),
        epiOffsets: epi.map((id) => at.readAt(id)),
        epiViews: epiSt.map((st) => ({ shape: [m, n], offset: off(st), strides: [st[r - 2]!, st[r - 1]!] })),
        outDType: out.dtype,
        outOffset: at.writeAt(s.outputs[0]!) + t * m * n,
      }),
    );
  }
  return kernels;
}

/**
 * softmax / logSoftmax along one axis: a max reduction and a sum of exp(x - max) into scratch
 * rows, then one elementwise kernel (with the op's fused epilogue).
 */
function softmaxLike(s: OpSpec, bufs: readonly BufferDecl[], at: Placement, log: boolean): GeneratedKernel[] {
  const x = bufs[s.inputs[0]!]!;
  const axis = normalizeAxis((log ? s.attrs.axis : s.attrs.dim) as number, x.shape.length, `${s.op} '${s.node}'`);
  const keep = x.shape.map((d, i) => (i === axis ? 1 : d));
  const rows = sizeOf(keep);
  const [mAt, sAt] = [at.scratch(rows), at.scratch(rows)];
  const xAt = at.readAt(s.inputs[0]!);
  const F = 'float32';
  const [xi, mi, si] = [input(0, F), input(1, F), input(2, F)];
  const shifted = call('sub', F, xi, mi);
  const reduce = (reducer: 'max' | 'sum', prologue: ScalarExpr, ins: number[][], offs: number[], out: number) =>
    reduceWgsl({
      reducer,
      prologue,
      inShapes: ins,
      inDTypes: ins.map(() => F),
      inOffsets: offs,
      inShape: x.shape,
      axes: [axis],
      epilogue: input(0, F),
      epiShapes: [],
      epiDTypes: [],
      epiOffsets: [],
      outShape: keep,
      outDType: F,
      outOffset: out,
    });
  const value = log ? call('sub', F, shifted, call('log', F, si)) : call('div', F, call('exp', F, shifted), si);
  const epi = s.epilogueInputs ?? [];
  const expr = s.epilogue ? substitute(s.epilogue, [value, ...epi.map((id, i) => input(3 + i, bufs[id]!.dtype))]) : value;
  const out = bufs[s.outputs[0]!]!;
  return [
    reduce('max', xi, [x.shape], [xAt], mAt),
    reduce('sum', call('exp', F, shifted), [x.shape, keep], [xAt, mAt], sAt),
    elementwiseWgsl({
      exprs: [expr],
      inShapes: [x.shape, keep, keep, ...epi.map((id) => bufs[id]!.shape)],
      inDTypes: [F, F, F, ...epi.map((id) => bufs[id]!.dtype)],
      inOffsets: [xAt, mAt, sAt, ...epi.map((id) => at.readAt(id))],
      outShape: out.shape,
      outDTypes: [out.dtype],
      outOffsets: [at.writeAt(s.outputs[0]!)],
    }),
  ];
}

/** The generated dispatches of routine `s` (in order). */
export function routineKernels(s: OpSpec, bufs: readonly BufferDecl[], at: Placement): GeneratedKernel[] {
  const inShape = (i: number) => bufs[s.inputs[i]!]!.shape;
  const out = s.outputs[0]!;
  const outShape = bufs[out]!.shape;
  const what = `${s.op} '${s.node}'`;
  switch (s.op) {
    case 'transpose':
      return [copyThrough(s, out, s.inputs, [transposeView(identityView(inShape(0)), s.attrs.perm as number[], outShape)], bufs, at)];
    case 'slice':
      return [copyThrough(s, out, s.inputs, [sliceView(identityView(inShape(0)), s.attrs.begin as number[], outShape)], bufs, at)];
    case 'pad': {
      const p = s.attrs.paddings as number[];
      const fill = (s.attrs.constantValue as number | undefined) ?? 0;
      return [
        copyThrough(
          s,
          out,
          s.inputs,
          [
            padView(
              identityView(inShape(0)),
              outShape.map((_, d) => p[2 * d]!),
              outShape,
              fill,
            ),
          ],
          bufs,
          at,
        ),
      ];
    }
    case 'concat':
    case 'stack': {
      const axis = normalizeAxis(s.attrs.axis as number, outShape.length, what);
      let start = 0;
      const views = s.inputs.map((id) => {
        let v = identityView(bufs[id]!.shape);
        if (s.op === 'stack')
          v = { shape: [...v.shape.slice(0, axis), 1, ...v.shape.slice(axis)], offset: 0, strides: [...v.strides.slice(0, axis), 0, ...v.strides.slice(axis)] };
        const piece = concatPieceView(v, axis, start, outShape);
        start += v.shape[axis]!;
        return piece;
      });
      return [copyThrough(s, out, s.inputs, chainPieces(views, 0), bufs, at)];
    }
    case 'split': {
      const axis = normalizeAxis(s.attrs.axis as number, inShape(0).length, what);
      let start = 0;
      return s.outputs.map((o) => {
        const shape = bufs[o]!.shape;
        const begin = shape.map((_, d) => (d === axis ? start : 0));
        start += shape[axis]!;
        return copyThrough({ ...s, epilogue: undefined }, o, s.inputs, [sliceView(identityView(inShape(0)), begin, shape)], bufs, at);
      });
    }
    case 'tile': {
      // out[r0*n0, r1*n1, ...] walks like [r0, n0, r1, n1, ...]: the input broadcast on the r dims.
      const x = identityView(inShape(0));
      const loops = x.shape.flatMap((n, d) => [outShape[d]! / Math.max(n, 1), n]);
      const view: View = { shape: loops, offset: 0, strides: x.strides.flatMap((st) => [0, st]) };
      const epiView = (id: number): View => {
        const bs = broadcastStrides(bufs[id]!.shape, outShape);
        return { shape: loops, offset: 0, strides: x.shape.flatMap((n, d) => [bs[d]! * n, bs[d]!]) };
      };
      return [copyThrough(s, out, s.inputs, [view], bufs, at, loops, epiView)];
    }
    case 'assign':
    case 'assignAdd':
    case 'assignSub': {
      // variable <- value (or variable ± delta) into its staging slot, and the new value to the output.
      const [v, x] = [bufs[s.inputs[0]!]!, bufs[s.inputs[1]!]!];
      const cur = input(0, v.dtype);
      const val = input(1, x.dtype);
      const expr = s.op === 'assign' ? val : call(s.op === 'assignAdd' ? 'add' : 'sub', v.dtype, cur, val);
      return [
        elementwiseWgsl({
          exprs: s.outputs.length ? [expr, expr] : [expr],
          inShapes: [v.shape, x.shape],
          inDTypes: [v.dtype, x.dtype],
          inOffsets: [at.stateReadAt(s.inputs[0]!), at.readAt(s.inputs[1]!)],
          outShape: v.shape,
          outDTypes: s.outputs.length ? [v.dtype, v.dtype] : [v.dtype],
          outOffsets: [at.writeAt(s.inputs[0]!), ...s.outputs.map((o) => at.writeAt(o))],
        }),
      ];
    }
    case 'matMul':
      return matMul(s, bufs, at);
    case 'softmax':
    case 'logSoftmax':
      return softmaxLike(s, bufs, at, s.op === 'logSoftmax');
    default:
      throw new KilnError('UNSUPPORTED', `WebGPU device: routine ${what} is not implemented`);
  }
}
