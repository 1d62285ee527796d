/**
 * maxPool / avgPool over non-overlapping windows (strides == filterSize, no dilation, H and W
 * multiples of the window, so 'valid' and 'same' read no padding) as one reduction over a
 * view: x [N,H,W,C] is read as [N, H/kh, kh, W/kw, kw, C] and reduced (max or mean) over the
 * two window axes. Other windows stay the pooling routines. Only for a device without the
 * pooling routine (see ROUTINE_PREFERRED): on the CPU the routine is ~15x faster.
 */
import type { Decomposition } from './decomposition.js';

const pool =
  (reducer: 'max' | 'mean'): Decomposition =>
  (node, [x], b) => {
    const [n, h, w, c] = x!.shape as number[];
    const [kh, kw] = node.attrs.filterSize as number[];
    const [sh, sw] = node.attrs.strides as number[];
    const [dh, dw] = (node.attrs.dilations as number[] | undefined) ?? [1, 1];
    const pad = node.attrs.pad as string;
    if (x!.dtype !== 'float32' || kh !== sh || kw !== sw || dh !== 1 || dw !== 1) return undefined;
    if (pad === 'explicit' || h! % kh! !== 0 || w! % kw! !== 0) return undefined;
    const out = node.output.shape;
    if (out[1] !== h! / kh! || out[2] !== w! / kw!) return undefined;
    const windows = b.op('reshape', [x!], { shape: [n!, h! / kh!, kh!, w! / kw!, kw!, c!] });
    return [b.result(reducer, [windows], { axis: [2, 4], keepDims: false })];
  };

export const poolDecompositions = { maxPool: pool('max'), avgPool: pool('mean') };
