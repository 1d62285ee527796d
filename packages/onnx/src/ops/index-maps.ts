/**
 * ONNX index-map operators as compositions of Kiln ops (their indices are static functions of
 * the shapes, so nothing new is needed at run time): GatherElements and ScatterElements (a
 * gather / segment sum over the flattened data at computed flat offsets), Trilu (a constant
 * mask), DepthToSpace/SpaceToDepth (reshape + transpose) and Hardmax (argMax + oneHot).
 */
import {
  KilnError,
  type SymbolicTensor,
  Tensor,
  add,
  argMax,
  gather,
  greater,
  less,
  mul,
  onesLike,
  oneHot,
  reshape,
  transpose,
  sum,
  unsortedSegmentSum,
  where,
} from '@kiln/graph';
import type { ConvertContext } from '../context.js';
import { register } from '../registry.js';
import { onnxAxis } from './util.js';

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1]! * shape[d + 1]!;
  return s;
}

/**
 * Flat offsets into data (shape `dataShape`) of the elements that `indices` (shape
 * `idxShape`) names along `axis`: indices (negatives wrapped) * stride(axis) + the constant
 * offset of every other coordinate.
 */
function flatOffsets(ctx: ConvertContext, indices: SymbolicTensor, dataShape: number[], idxShape: number[], axis: number): SymbolicTensor {
  if (indices.dtype !== 'int32') throw new KilnError('DTYPE_MISMATCH', `${ctx.what}: indices must be integers, got ${indices.dtype}`);
  if (idxShape.length !== dataShape.length) {
    throw new KilnError('SHAPE_MISMATCH', `${ctx.what}: indices must have the data's rank ${dataShape.length}, got rank ${idxShape.length}`);
  }
  const dStride = stridesOf(dataShape);
  const iStride = stridesOf(idxShape);
  const n = idxShape.reduce((a, b) => a * b, 1);
  const base = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let d = 0; d < idxShape.length; d++) {
      if (d === axis) continue;
      off += (Math.floor(i / iStride[d]!) % idxShape[d]!) * dStride[d]!;
    }
    base[i] = off;
  }
  const dim = dataShape[axis]!;
  const wrapped = where(less(indices, 0), add(indices, dim), indices);
  return add(mul(wrapped, dStride[axis]!), ctx.graph.constant(new Tensor('int32', idxShape, base)));
}

register('GatherElements', (ctx) => {
  const data = ctx.input(0);
  const dataShape = ctx.staticShape(0, 'GatherElements');
  const idxShape = ctx.staticShape(1, 'GatherElements');
  const axis = onnxAxis(ctx, ctx.int('axis', 0), dataShape.length);
  const flat = flatOffsets(ctx, ctx.input(1), dataShape, idxShape, axis);
  return [gather(reshape(data, [-1]), flat, 0)];
});

register('ScatterElements', (ctx) => {
  const data = ctx.input(0);
  const dataShape = ctx.staticShape(0, 'ScatterElements');
  const idxShape = ctx.staticShape(1, 'ScatterElements');
  const axis = onnxAxis(ctx, ctx.int('axis', 0), dataShape.length);
  const reduction = ctx.string('reduction', 'none');
  if (reduction !== 'none' && reduction !== 'add') ctx.unsupported(`reduction '${reduction}' (Kiln maps 'none' and 'add')`);
  const updates = ctx.input(2);
  const n = dataShape.reduce((a, b) => a * b, 1);
  const flat = reshape(flatOffsets(ctx, ctx.input(1), dataShape, idxShape, axis), [-1]);
  const dataFlat = reshape(data, [-1]);
  const scattered = unsortedSegmentSum(reshape(updates, [-1]), flat, n);
  const out =
    reduction === 'add' ? add(dataFlat, scattered) : where(greater(unsortedSegmentSum(onesLike(reshape(updates, [-1])), flat, n), 0), scattered, dataFlat);
  return [reshape(out, dataShape)];
});

register(
  'Trilu',
  (ctx) => {
    const x = ctx.input(0);
    const shape = ctx.staticShape(0, 'Trilu');
    if (shape.length < 2) throw new KilnError('SHAPE_MISMATCH', `${ctx.what}: input must have rank >= 2, got rank ${shape.length}`);
    const k = ctx.has(1) ? ctx.ints(1, 'Trilu k')[0]! : 0;
    const upper = ctx.int('upper', 1) !== 0;
    const [rows, cols] = shape.slice(-2) as [number, number];
    const mask = new Uint8Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mask[i * cols + j] = (upper ? j - i >= k : j - i <= k) ? 1 : 0;
    const keep = ctx.graph.constant(new Tensor('bool', [rows, cols], mask));
    return [where(keep, x, ctx.lit(0, x.dtype))];
  },
  { staticInputs: [1] },
);

register('DepthToSpace', (ctx) => {
  const x = ctx.input(0);
  const [n, c, h, w] = ctx.staticShape(0, 'DepthToSpace') as [number, number, number, number];
  const b = ctx.int('blocksize', 0);
  if (b < 1 || c % (b * b) !== 0) throw new KilnError('INVALID_ATTR', `${ctx.what}: blocksize ${b} must be >= 1 and divide the ${c} channels by its square`);
  const mode = ctx.string('mode', 'DCR');
  const cb = c / (b * b);
  const y = mode === 'CRD' ? transpose(reshape(x, [n, cb, b, b, h, w]), [0, 1, 4, 2, 5, 3]) : transpose(reshape(x, [n, b, b, cb, h, w]), [0, 3, 4, 1, 5, 2]);
  return [reshape(y, [n, cb, h * b, w * b])];
});

register('SpaceToDepth', (ctx) => {
  const x = ctx.input(0);
  const [n, c, h, w] = ctx.staticShape(0, 'SpaceToDepth') as [number, number, number, number];
  const b = ctx.int('blocksize', 0);
  if (b < 1 || h % b !== 0 || w % b !== 0)
    throw new KilnError('INVALID_ATTR', `${ctx.what}: blocksize ${b} must be >= 1 and divide height ${h} and width ${w}`);
  const y = transpose(reshape(x, [n, c, h / b, b, w / b, b]), [0, 3, 5, 1, 2, 4]);
  return [reshape(y, [n, c * b * b, h / b, w / b])];
});

register('Hardmax', (ctx) => {
  const x = ctx.input(0);
  const shape = ctx.staticShape(0, 'Hardmax');
  const rank = shape.length;
  const axis = onnxAxis(ctx, ctx.int('axis', ctx.opset >= 13 ? -1 : 1), rank);
  if (ctx.opset < 13) {
    // Before opset 13 the input is viewed as 2-D [prod(dims < axis), prod(dims >= axis)].
    const rows = shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const flat = reshape(x, [rows, -1]);
    return [
      reshape(
        oneHot(
          argMax(flat, 1),
          shape.slice(axis).reduce((a, b) => a * b, 1),
          1,
          0,
          x.dtype,
        ),
        shape,
      ),
    ];
  }
  const hot = oneHot(argMax(x, axis), shape[axis]!, 1, 0, x.dtype);
  // oneHot appends the class axis last: move it back to `axis`.
  const perm = [...Array(rank - 1).keys()];
  perm.splice(axis, 0, rank - 1);
  return [axis === rank - 1 ? hot : transpose(hot, perm)];
});

/**
 * Row offsets for GatherND/ScatterND: data viewed as [prod(D[0..b+k]), ...D[b+k..]], each
 * index tuple (last axis of `indices`, negatives wrapped) names one row; the batch coordinate
 * (first b axes) is a constant offset.
 */
function ndRows(ctx: ConvertContext, indices: SymbolicTensor, dataShape: number[], idxShape: number[], b: number): SymbolicTensor {
  if (indices.dtype !== 'int32') throw new KilnError('DTYPE_MISMATCH', `${ctx.what}: indices must be integers, got ${indices.dtype}`);
  const k = idxShape[idxShape.length - 1]!;
  if (k < 1 || b + k > dataShape.length) {
    throw new KilnError('SHAPE_MISMATCH', `${ctx.what}: index tuples of length ${k} after ${b} batch dims exceed the data's rank ${dataShape.length}`);
  }
  const dims = dataShape.slice(b, b + k);
  const strides = stridesOf(dims);
  const perBatch = dims.reduce((x, y) => x * y, 1);
  const wrapped = where(less(indices, 0), add(indices, ctx.graph.constant(new Tensor('int32', [k], Int32Array.from(dims)))), indices);
  let rows = sum(mul(wrapped, ctx.graph.constant(new Tensor('int32', [k], Int32Array.from(strides)))), -1);
  if (b > 0) {
    const outer = idxShape.slice(0, -1);
    const inner = outer.slice(b).reduce((x, y) => x * y, 1);
    const n = outer.reduce((x, y) => x * y, 1);
    const base = Int32Array.from({ length: n }, (_, i) => Math.floor(i / inner) * perBatch);
    rows = add(rows, ctx.graph.constant(new Tensor('int32', outer, base)));
  }
  return rows;
}

register('GatherND', (ctx) => {
  const dataShape = ctx.staticShape(0, 'GatherND');
  const idxShape = ctx.staticShape(1, 'GatherND');
  const b = ctx.int('batch_dims', 0);
  const rows = ndRows(ctx, ctx.input(1), dataShape, idxShape, b);
  const k = idxShape[idxShape.length - 1]!;
  return [gather(reshape(ctx.input(0), [-1, ...dataShape.slice(b + k)]), rows, 0)];
});

register('ScatterND', (ctx) => {
  const dataShape = ctx.staticShape(0, 'ScatterND');
  const idxShape = ctx.staticShape(1, 'ScatterND');
  const reduction = ctx.string('reduction', 'none');
  if (reduction !== 'none' && reduction !== 'add') ctx.unsupported(`reduction '${reduction}' (Kiln maps 'none' and 'add')`);
  const k = idxShape[idxShape.length - 1]!;
  const rest = dataShape.slice(k);
  const nRows = dataShape.slice(0, k).reduce((x, y) => x * y, 1);
  const rows = reshape(ndRows(ctx, ctx.input(1), dataShape, idxShape, 0), [-1]);
  const dataRows = reshape(ctx.input(0), [nRows, ...rest]);
  const upd = reshape(ctx.input(2), [-1, ...rest]);
  const scattered = unsortedSegmentSum(upd, rows, nRows);
  if (reduction === 'add') return [reshape(add(dataRows, scattered), dataShape)];
  const hit = greater(unsortedSegmentSum(onesLike(rows), rows, nRows), 0);
  return [reshape(where(reshape(hit, [nRows, ...rest.map(() => 1)]), scattered, dataRows), dataShape)];
});
