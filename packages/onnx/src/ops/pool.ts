/**
 * ONNX MaxPool and AveragePool (1-D and 2-D) onto Kiln's maxPool/avgPool over NHWC, with
 * explicit pads, ceil_mode (dimRoundingMode 'ceil'), dilations and count_include_pad.
 * MaxPool's optional Indices output (flat NCHW argmax, storage_order 0 or 1) is computed from
 * the windows gathered with a constant index table, then argMax over each window.
 */
import { KilnError, type SymbolicTensor, Tensor, add, argMax, avgPool, concat, fillTensor, gather, maxPool, reshape } from '@kiln/graph';
import type { ConvertContext } from '../context.js';
import { register } from '../registry.js';
import { int32Tensor, toNCHW, toNHWC } from './util.js';
import { Spatial, type Window, resolveWindow } from './window.js';

/**
 * Flat NCHW indices of each window's (first) maximum. x is lifted NCHW with a static shape;
 * [oh, ow] the pooled size. A tap in the padding reads an appended -Infinity column.
 */
function maxPoolIndices(ctx: ConvertContext, x: SymbolicTensor, win: Window, oh: number, ow: number, columnMajor: boolean): SymbolicTensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [kh, kw] = win.kernel;
  const taps = kh * kw;
  const table: number[] = []; // per (output position, tap): h * w + col, or h * w for padding
  const flat: number[] = []; // the same, as the index ONNX reports (row- or column-major)
  for (let i = 0; i < oh; i++) {
    for (let j = 0; j < ow; j++) {
      for (let a = 0; a < kh; a++) {
        for (let b = 0; b < kw; b++) {
          const r = i * win.strides[0] - win.padding[0] + a * win.dilations[0];
          const q = j * win.strides[1] - win.padding[2] + b * win.dilations[1];
          const inside = r >= 0 && r < h && q >= 0 && q < w;
          table.push(inside ? r * w + q : h * w);
          flat.push(inside ? (columnMajor ? q * h + r : r * w + q) : 0);
        }
      }
    }
  }
  const xs = reshape(x, [n, c, h * w]);
  const padded = concat([xs, ctx.graph.constant(fillTensor([n, c, 1], -Infinity))], 2);
  const windows = reshape(gather(padded, ctx.graph.constant(int32Tensor(table)), 2), [n, c, oh, ow, taps]);
  const best = argMax(windows, 4); // [n, c, oh, ow]
  const base = ctx.graph.constant(
    int32Tensor(
      [...Array(oh * ow).keys()].map((p) => p * taps),
      [oh, ow],
    ),
  );
  const spatial = gather(ctx.graph.constant(int32Tensor(flat)), add(best, base), 0);
  const offsets = new Tensor(
    'int32',
    [n, c, 1, 1],
    Int32Array.from({ length: n * c }, (_, k) => k * h * w),
  );
  return add(spatial, ctx.graph.constant(offsets));
}

function definePool(op: 'MaxPool' | 'AveragePool'): void {
  register(op, (ctx) => {
    const sp = new Spatial(ctx, ctx.input(0).shape.length);
    const x = sp.lift(ctx.input(0));
    const k = sp.pair('kernel_shape', 1, 0);
    if (!k[1]) throw new KilnError('INVALID_ATTR', `${ctx.what}: missing kernel_shape`);
    const win = resolveWindow(ctx, sp, x, k);
    const rounding = ctx.int('ceil_mode', 0) === 1 ? 'ceil' : undefined;
    const xh = toNHWC(x);
    const y =
      op === 'MaxPool'
        ? maxPool(xh, k, win.strides, win.pad, rounding, { dilations: win.dilations })
        : avgPool(xh, k, win.strides, win.pad, rounding, {
            dilations: win.dilations,
            countIncludePad: ctx.int('count_include_pad', 0) === 1,
          });
    const out = [sp.lower(toNCHW(y))];
    if (op === 'MaxPool' && ctx.wantsOutput(1)) {
      if (sp.oneD) ctx.unsupported('the Indices output of a 1-D MaxPool');
      const [oh, ow] = [y.shape[1], y.shape[2]];
      if (x.shape.includes(null) || oh === null || ow === null) ctx.unsupported('the Indices output needs static shapes');
      out.push(maxPoolIndices(ctx, x, win, oh!, ow!, ctx.int('storage_order', 0) === 1));
    }
    return out;
  });
}
definePool('MaxPool');
definePool('AveragePool');
