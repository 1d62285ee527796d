/**
 * @kiln/onnx: imports ONNX models as Kiln graphs. importOnnx(bytes) maps every node onto Kiln
 * ops (see ops/), folding what is known at import time; decodeOnnxTensor reads a serialized
 * TensorProto (.pb) as a Kiln Tensor.
 */
import { type BytesLike, type Tensor, toBytes } from '@kiln/graph';
import { decodeTensorProto, onnxDTypeName, tensorFromProto, withFloat64AsFloat32 } from './decode.js';

export { importOnnx, importOnnxModel, type ImportOptions, type ImportedModel } from './import.js';
export { staticInputNames } from './static-inputs.js';
export { supportedOnnxOps } from './registry.js';
export { exportOnnx, type ExportOnnxSpec } from './export/export.js';
export { exportableOps } from './export/rule.js';
export { decodeModel, kilnDType, onnxDTypeName, type OnnxModel } from './decode.js';

export interface DecodedOnnxTensor {
  name: string;
  /** The ONNX element type ('FLOAT', 'INT64', 'BOOL', ...). */
  onnxDType: string;
  tensor: Tensor;
}

/**
 * Decodes a serialized TensorProto (an ONNX test's input_N.pb / output_N.pb). int64 becomes
 * int32 (KilnError when a value does not fit, unless `saturate`, which clamps); DOUBLE is
 * UNSUPPORTED unless `float64: 'float32'` (then read as float32, with a warning).
 */
export function decodeOnnxTensor(bytes: BytesLike, opts: { saturate?: boolean; float64?: 'float32' } = {}): DecodedOnnxTensor {
  const t = decodeTensorProto(toBytes(bytes, 'decodeOnnxTensor'));
  const what = `TensorProto '${t.name}'`;
  const tensor = withFloat64AsFloat32(opts.float64 === 'float32', 'decodeOnnxTensor', () => tensorFromProto(t, what, opts));
  return { name: t.name, onnxDType: onnxDTypeName(t.dataType), tensor };
}
