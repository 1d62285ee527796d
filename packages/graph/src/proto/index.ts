/** Protobuf model format (proto/kiln.proto): serializeGraph / deserializeGraph and helpers. */
export { MODEL_FORMAT_VERSION, serializeGraph, serializeGraphDef } from './serialize.js';
export type { SerializeOptions, SignatureSpec } from './serialize.js';
export { deserializeGraph, deserializeModel } from './deserialize.js';
export type { LoadedModel, Signature } from './deserialize.js';
export { crc32 } from './checksum.js';
export { kilnProtoRoot } from './schema.js';
export { KILN_PROTO_TEXT } from './schema-text.js';
