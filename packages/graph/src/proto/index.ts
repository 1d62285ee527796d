/** Protobuf model format (proto/kiln.proto): serializeGraph / deserializeGraph and helpers. */
export { MODEL_FORMAT_VERSION, serializeGraph, serializeGraphDef } from './serialize.js';
export type { SerializeOptions, SignatureSpec } from './serialize.js';
export { deserializeGraph, deserializeModel } from './deserialize.js';
export type { LoadedModel, Signature } from './deserialize.js';
export { crc32, reflectedCrc32 } from './checksum.js';
export { type BytesLike, toBytes } from './bytes.js';
export { kilnProtoRoot } from './schema.js';
export { KILN_PROTO_TEXT } from './schema-text.js';

// Building blocks of the encoding, for other Kiln containers (the compiler's ProgramProto).
import { attrFromProto, attrToProto } from './attr-codec.js';
import { sealModelBytes, unsealModelBytes } from './checksum.js';
import { graphFromProto, peekFormatVersion } from './deserialize.js';
import { protoType } from './schema.js';
import { graphToProto } from './serialize.js';
import { dtypeFromProto, dtypeToProto, int64ToNumber, shapeFromProto, shapeToProto, tensorFromProto, tensorToProto } from './tensor-codec.js';
export const protoCodec = {
  graphToProto,
  graphFromProto,
  peekFormatVersion,
  sealModelBytes,
  unsealModelBytes,
  protoType,
  attrToProto,
  attrFromProto,
  tensorToProto,
  tensorFromProto,
  shapeToProto,
  shapeFromProto,
  dtypeToProto,
  dtypeFromProto,
  int64ToNumber,
} as const;
export type { AttrValueMsg, GraphDefMsg, Int64, TensorMsg, TensorShapeMsg, VariableMsg } from './schema.js';
