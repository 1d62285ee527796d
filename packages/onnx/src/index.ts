/**
 * @kiln/onnx: imports ONNX models as Kiln graphs. importOnnx(bytes) maps every node onto Kiln
 * ops (see ops/), folding what is known at import time; decodeOnnxTensor reads a serialized
 * TensorProto (.pb) as a Kiln Tensor.
 */
import { type BytesLike, type Tensor, toBytes } from '@kiln/graph';
import { decodeTensorProto, onnxDTypeName, tensorFromProto } from './decode.js';

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
 * int32 (KilnError when a value does not fit, unless `saturate`, which clamps).
 */
export function decodeOnnxTensor(bytes: BytesLike, opts: { saturate?: boolean } = {}): DecodedOnnxTensor {
  const t = decodeTensorProto(toBytes(bytes, 'decodeOnnxTensor'));
  const what = `TensorProto '${t.name}'`;
  return { name: t.name, onnxDType: onnxDTypeName(t.dataType), tensor: tensorFromProto(t, what, opts) };
}
