/**
 * Export rules for the movement family. Kiln keeps shapes, axes and pads as static attrs;
 * ONNX (opset 13+) takes most of them as int64 inputs, written here as initializers.
 * stack = Unsqueeze + Concat; oneHot = Where(indices == range(depth), on, off), which gives a
 * row of offValue for an out-of-range index as Kiln does; broadcastLike = Expand to Shape(like).
 */
import { type Dim, normalizeAxis } from '@kiln/graph';
import { attr } from './builder.js';
import { ExportUnsupported, registerExportRule } from './rule.js';

/** Slice's "to the end" (ONNX clamps ends to the dim). */
const TO_END = 2 ** 31 - 1;

registerExportRule('reshape', (ctx) => {
  const shape = ctx.attrs.shape as number[];
  // Without allowzero, ONNX reads a 0 in the target as "copy this dim"; Kiln means size 0.
  ctx.emit('Reshape', [ctx.in(0), ctx.b.int64(shape)], shape.includes(0) ? { allowzero: attr.int(1) } : {});
});

registerExportRule('transpose', (ctx) => ctx.emit('Transpose', [ctx.in(0)], { perm: attr.ints(ctx.attrs.perm as number[]) }));

registerExportRule('expandDims', (ctx) => {
  const axis = normalizeAxis(ctx.attrs.axis as number, ctx.inShape(0).length + 1, ctx.node.name);
  ctx.emit('Unsqueeze', [ctx.in(0), ctx.b.int64([axis])]);
});

registerExportRule('squeeze', (ctx) => {
  const rank = ctx.inShape(0).length;
  const given = ctx.attrs.axis as number[];
  const axes = given.length > 0 ? given.map((a) => normalizeAxis(a, rank, ctx.node.name)) : ctx.inShape(0).flatMap((d, i) => (d === 1 ? [i] : []));
  if (axes.length === 0) return ctx.emit('Identity', [ctx.in(0)]);
  ctx.emit('Squeeze', [ctx.in(0), ctx.b.int64(axes)]);
});

registerExportRule('concat', (ctx) => {
  const axis = normalizeAxis(ctx.attrs.axis as number, ctx.inShape(0).length, ctx.node.name);
  ctx.emit(
    'Concat',
    ctx.node.inputs.map((_, i) => ctx.in(i)),
    { axis: attr.int(axis) },
  );
});

registerExportRule('stack', (ctx) => {
  const axis = normalizeAxis(ctx.attrs.axis as number, ctx.inShape(0).length + 1, ctx.node.name);
  const axes = ctx.b.int64([axis]);
  const parts = ctx.node.inputs.map((_, i) => ctx.tmp('Unsqueeze', [ctx.in(i), axes]));
  ctx.emit('Concat', parts, { axis: attr.int(axis) });
});

registerExportRule('split', (ctx) => {
  const axis = normalizeAxis(ctx.attrs.axis as number, ctx.inShape(0).length, ctx.node.name);
  const sizes = ctx.node.outputs.map((o) => o.shape[axis] as Dim);
  if ((ctx.attrs.num as number) > 0) {
    // Equal pieces: ONNX Split without a split input divides the axis by the output count.
    return ctx.emitAll('Split', [ctx.in(0)], { axis: attr.int(axis) });
  }
  if (sizes.some((s) => s === null)) throw new ExportUnsupported(`split sizes with -1 along an unknown dim (axis ${axis})`);
  ctx.emitAll('Split', [ctx.in(0), ctx.b.int64(sizes as number[])], { axis: attr.int(axis) });
});

registerExportRule('slice', (ctx) => {
  const begin = ctx.attrs.begin as number[];
  const size = ctx.attrs.size as number[];
  const ends = begin.map((b, i) => (size[i] === -1 ? TO_END : b + size[i]!));
  ctx.emit('Slice', [ctx.in(0), ctx.b.int64(begin), ctx.b.int64(ends), ctx.b.int64(begin.map((_, i) => i))]);
});

registerExportRule('gather', (ctx) => {
  const rank = ctx.inShape(0).length;
  const axis = normalizeAxis(ctx.attrs.axis as number, rank, ctx.node.name);
  let batchDims = ctx.attrs.batchDims as number;
  if (batchDims < 0) batchDims += ctx.inShape(1).length;
  if (batchDims === 0) return ctx.emit('Gather', [ctx.in(0), ctx.in(1)], { axis: attr.int(axis) });
  if (axis !== batchDims) throw new ExportUnsupported(`gather with batchDims ${batchDims} on axis ${axis} (ONNX GatherND needs axis == batchDims)`);
  const idx = ctx.tmp('Unsqueeze', [ctx.tmp('Cast', [ctx.in(1)], { to: attr.int(7) }), ctx.b.int64([-1])]);
  ctx.emit('GatherND', [ctx.in(0), idx], { batch_dims: attr.int(batchDims) });
});

registerExportRule('oneHot', (ctx) => {
  const depth = ctx.attrs.depth as number;
  const dt = ctx.outDType();
  const range = ctx.b.vector([...Array(depth).keys()], 'int32', 'onehot_range');
  const hit = ctx.tmp('Equal', [ctx.tmp('Unsqueeze', [ctx.in(0), ctx.b.int64([-1])]), range]);
  const on = ctx.b.scalar(ctx.attrs.onValue as number, dt, 'on_value');
  const off = ctx.b.scalar(ctx.attrs.offValue as number, dt, 'off_value');
  ctx.emit('Where', [hit, on, off]);
});

registerExportRule('pad', (ctx) => {
  const p = ctx.attrs.paddings as number[];
  const rank = p.length / 2;
  const pads = [...Array(rank).keys()].map((i) => p[2 * i]!).concat([...Array(rank).keys()].map((i) => p[2 * i + 1]!));
  const value = ctx.b.scalar(ctx.attrs.constantValue as number, ctx.inDType(0), 'pad_value');
  ctx.emit('Pad', [ctx.in(0), ctx.b.int64(pads), value], { mode: attr.string('constant') });
});

registerExportRule('tile', (ctx) => ctx.emit('Tile', [ctx.in(0), ctx.b.int64(ctx.attrs.reps as number[])]));
registerExportRule('broadcastTo', (ctx) => ctx.emit('Expand', [ctx.in(0), ctx.b.int64(ctx.attrs.shape as number[])]));
registerExportRule('broadcastLike', (ctx) => ctx.emit('Expand', [ctx.in(0), ctx.tmp('Shape', [ctx.in(1)])]));
