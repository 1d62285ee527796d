/**
 * Small helpers shared by the converters: ONNX axis rules, int32 constants, layout transposes
 * (ONNX is NCHW/OIHW, Kiln NHWC/HWIO) and element-type mapping.
 */
import { type DType, KilnError, type SymbolicTensor, Tensor, gather, transpose } from '@kiln/graph';
import type { ConvertContext } from '../context.js';
import { kilnDType, onnxDTypeName } from '../decode.js';

/** Normalizes an ONNX axis (negative counts from the end) for a tensor of rank `rank`. */
export function onnxAxis(ctx: ConvertContext, axis: number, rank: number, name = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new KilnError('INVALID_ATTR', `${ctx.what}: ${name} ${axis} is out of range for rank ${rank} (expected ${-rank}..${rank - 1})`);
  }
  return axis < 0 ? axis + rank : axis;
}

export function int32Tensor(values: readonly number[], shape: readonly number[] = [values.length]): Tensor {
  return new Tensor('int32', shape, Int32Array.from(values));
}

/** A Kiln dtype for an ONNX element type code, or Unsupported. */
export function dtypeFor(ctx: ConvertContext, code: number): DType {
  const dt = kilnDType(code);
  if (!dt) ctx.unsupported(`element type ${onnxDTypeName(code)} has no Kiln dtype`);
  return dt;
}

/** NCHW -> NHWC. */
export function toNHWC(x: SymbolicTensor): SymbolicTensor {
  return transpose(x, [0, 2, 3, 1]);
}

/** NHWC -> NCHW. */
export function toNCHW(x: SymbolicTensor): SymbolicTensor {
  return transpose(x, [0, 3, 1, 2]);
}

/** Picks positions `idx` (static) of x along `axis`, by a gather with a constant index list. */
export function pickAlong(ctx: ConvertContext, x: SymbolicTensor, axis: number, idx: readonly number[]): SymbolicTensor {
  return gather(x, ctx.graph.constant(int32Tensor(idx)), axis);
}

/** The static size of dim `axis` of x, or Unsupported naming what needed it. */
export function staticDim(ctx: ConvertContext, x: SymbolicTensor, axis: number, purpose: string): number {
  const d = x.shape[axis];
  if (d === null || d === undefined) ctx.unsupported(`${purpose} needs dim ${axis} of '${x.name}' to be known, got unknown`);
  return d;
}

/** Converts an input to float32 when it is not already (for ops Kiln defines on floats only). */
export function requireFloat(ctx: ConvertContext, x: SymbolicTensor, role: string): SymbolicTensor {
  if (x.dtype !== 'float32') {
    throw new KilnError('DTYPE_MISMATCH', `${ctx.what}: ${role} must be float32 here, got ${x.dtype}`);
  }
  return x;
}
