/**
 * Export rules for the reduce family. Kiln's reductions always carry an explicit axis list;
 * an empty list reduces nothing (ONNX would reduce everything), so it becomes Identity.
 * argMax/argMin give int64 in ONNX and are cast back to int32; unsortedSegmentSum is a
 * ScatterND with reduction 'add' into zeros, with out-of-range ids sent to a spare segment
 * that is sliced off (Kiln drops them).
 */
import { normalizeAxes, normalizeAxis } from '@kiln/graph';
import { attr } from './builder.js';
import { registerExportRule } from './rule.js';

const REDUCE: Record<string, string> = { sum: 'ReduceSum', mean: 'ReduceMean', max: 'ReduceMax', min: 'ReduceMin', prod: 'ReduceProd' };
for (const [op, onnx] of Object.entries(REDUCE)) {
  registerExportRule(op, (ctx) => {
    const axes = normalizeAxes(ctx.attrs.axis as number[], ctx.inShape(0).length, ctx.node.name);
    if (axes.length === 0) return ctx.emit('Identity', [ctx.in(0)]);
    const keepdims = attr.int(ctx.attrs.keepDims ? 1 : 0);
    // Opset 13+: ReduceSum takes axes as an input; the others take them as an attribute until opset 18.
    if (onnx === 'ReduceSum') ctx.emit(onnx, [ctx.in(0), ctx.b.int64(axes)], { keepdims });
    else ctx.emit(onnx, [ctx.in(0)], { axes: attr.ints(axes), keepdims });
  });
}

for (const [op, onnx] of [
  ['argMax', 'ArgMax'],
  ['argMin', 'ArgMin'],
] as const) {
  registerExportRule(op, (ctx) => {
    const axis = normalizeAxis(ctx.attrs.axis as number, ctx.inShape(0).length, ctx.node.name);
    const idx = ctx.tmp(onnx, [ctx.in(0)], { axis: attr.int(axis), keepdims: attr.int(0), select_last_index: attr.int(0) });
    ctx.emit('Cast', [idx], { to: attr.int(6) });
  });
}

registerExportRule('cumsum', (ctx) => {
  const axis = normalizeAxis(ctx.attrs.axis as number, ctx.inShape(0).length, ctx.node.name);
  ctx.emit('CumSum', [ctx.in(0), ctx.b.int64([axis], [])], {
    exclusive: attr.int(ctx.attrs.exclusive ? 1 : 0),
    reverse: attr.int(ctx.attrs.reverse ? 1 : 0),
  });
});

registerExportRule('unsortedSegmentSum', (ctx) => {
  const n = ctx.attrs.numSegments as number;
  const k = ctx.inShape(1).length;
  const dt = ctx.inDType(0);
  // ids outside [0, n) go to segment n, which is dropped at the end.
  const ids = ctx.in(1);
  const nI32 = ctx.b.scalar(n, 'int32', 'num_segments');
  const bad = ctx.tmp('Or', [ctx.tmp('Less', [ids, ctx.b.scalar(0, 'int32', 'zero_i32')]), ctx.tmp('GreaterOrEqual', [ids, nI32])]);
  const safe = ctx.tmp('Cast', [ctx.tmp('Where', [bad, nI32, ids])], { to: attr.int(7) });
  const indices = ctx.tmp('Unsqueeze', [safe, ctx.b.int64([k])]);
  // zeros of shape [n + 1, ...data.shape[k:]]
  const tail = ctx.tmp('Slice', [ctx.tmp('Shape', [ctx.in(0)]), ctx.b.int64([k]), ctx.b.int64([2 ** 31 - 1])]);
  const shape = ctx.tmp('Concat', [ctx.b.int64([n + 1]), tail], { axis: attr.int(0) });
  const zeros = ctx.tmp('Expand', [ctx.b.scalar(0, dt, 'zero'), shape]);
  const summed = ctx.tmp('ScatterND', [zeros, indices, ctx.in(0)], { reduction: attr.string('add') });
  ctx.emit('Slice', [summed, ctx.b.int64([0]), ctx.b.int64([n]), ctx.b.int64([0])]);
});
