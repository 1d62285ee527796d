/**
 * Gradient rules: normalization family, written with ordinary graph ops (so they can be
 * differentiated again):
 *   softmax     dx = y * (dy - sum(dy * y, axis))
 *   logSoftmax  dx = dy - exp(y) * sum(dy, axis)
 *   batchNorm   with inv = rsqrt(variance + eps): dx = dy*scale*inv, dmean = -dx,
 *               dvariance = -0.5 * dy*scale*(x - mean) * inv^3, doffset = dy,
 *               dscale = dy * (x - mean) * inv; each summed back to its operand's shape
 *   layerNorm   recomputes mean, inv and xhat = (x - mean) * inv over the axes, then
 *               dx = inv * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * scale,
 *               dscale = dy * xhat, doffset = dy (summed back to their shapes)
 */
import { type SymbolicTensor, add, exp, mean, mul, neg, rsqrt, square, sub, sum } from '@kiln/graph';
import { registerGradient } from '../registry.js';
import { unbroadcast } from '../unbroadcast.js';

registerGradient('softmax', ([dy], ctx) => {
  if (!dy) return [null];
  const y = ctx.outputs[0]!;
  const axis = ctx.attrs.dim as number;
  return [mul(y, sub(dy, sum(mul(dy, y), axis, true)))];
});

registerGradient('logSoftmax', ([dy], ctx) => {
  if (!dy) return [null];
  const y = ctx.outputs[0]!;
  const axis = ctx.attrs.axis as number;
  return [sub(dy, mul(exp(y), sum(dy, axis, true)))];
});

registerGradient('batchNorm', ([dy], ctx) => {
  if (!dy) return [null, null, null, null, null];
  const [x, m, v, offset, scale] = ctx.inputs as SymbolicTensor[] as [SymbolicTensor, SymbolicTensor, SymbolicTensor, SymbolicTensor, SymbolicTensor];
  const inv = rsqrt(add(v, ctx.attrs.varianceEpsilon as number));
  const centered = sub(x, m);
  const dxFull = mul(mul(dy, scale), inv);
  const dvFull = mul(mul(mul(dy, scale), centered), mul(mul(inv, mul(inv, inv)), -0.5));
  return [
    unbroadcast(dxFull, x.shape),
    unbroadcast(neg(dxFull), m.shape),
    unbroadcast(dvFull, v.shape),
    unbroadcast(dy, offset.shape),
    unbroadcast(mul(dy, mul(centered, inv)), scale.shape),
  ];
});

registerGradient('layerNorm', ([dy], ctx) => {
  if (!dy) return [null, null, null];
  const [x, scale, offset] = ctx.inputs as SymbolicTensor[] as [SymbolicTensor, SymbolicTensor, SymbolicTensor];
  const axes = ctx.attrs.axes as number[];
  const centered = sub(x, mean(x, axes, true));
  const inv = rsqrt(add(mean(square(centered), axes, true), ctx.attrs.epsilon as number));
  const xhat = mul(centered, inv);
  const g = unbroadcast(mul(dy, scale), x.shape);
  const dx = mul(inv, sub(sub(g, mean(g, axes, true)), mul(xhat, mean(mul(g, xhat), axes, true))));
  return [dx, unbroadcast(mul(dy, xhat), scale.shape), unbroadcast(dy, offset.shape)];
});
