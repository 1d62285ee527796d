/**
 * The protobufjs view of proto/kiln.proto: parsed once, lazily, from the embedded copy in
 * schema-text.ts (no file system access, so it works from src/ under Jest, from dist/, and in
 * browsers), plus the plain-object shapes the encoder and decoder exchange with protobufjs.
 */
import protobuf from 'protobufjs';
import { KILN_PROTO_TEXT } from './schema-text.js';

/** What protobufjs decodes int64 fields to (a `Long`, or a number without long.js). */
export type Int64 = number | { toNumber(): number; toString(): string };

export interface TensorShapeMsg {
  dim?: { size?: Int64; name?: string }[];
  unknown_rank?: boolean;
}
export interface TensorMsg {
  dtype?: number;
  tensor_shape?: TensorShapeMsg | null;
  version_number?: number;
  tensor_content?: Uint8Array;
  float_val?: number[];
  int_val?: number[];
  bool_val?: boolean[];
}
export interface ListValueMsg {
  s?: Uint8Array[];
  i?: Int64[];
  f?: number[];
  b?: boolean[];
  type?: number[];
  shape?: TensorShapeMsg[];
  tensor?: TensorMsg[];
  kiln_f64?: number[];
}
export type AttrCase = 'list' | 's' | 'i' | 'f' | 'b' | 'type' | 'shape' | 'tensor';
export interface AttrValueMsg {
  list?: ListValueMsg | null;
  s?: Uint8Array;
  i?: Int64;
  f?: number;
  b?: boolean;
  type?: number;
  shape?: TensorShapeMsg | null;
  tensor?: TensorMsg | null;
  kiln_f64?: number;
  /** The oneof's case (a protobufjs virtual property on decoded messages). */
  value?: AttrCase;
}
export interface NodeDefMsg {
  name?: string;
  op?: string;
  input?: string[];
  device?: string;
  attr?: Record<string, AttrValueMsg>;
}
export interface GraphDefMsg {
  node?: NodeDefMsg[];
  versions?: { producer?: number; min_consumer?: number; bad_consumers?: number[] } | null;
}
export interface TensorInfoMsg {
  name?: string;
  dtype?: number;
  tensor_shape?: TensorShapeMsg | null;
}
export interface SignatureDefMsg {
  inputs?: Record<string, TensorInfoMsg>;
  outputs?: Record<string, TensorInfoMsg>;
  method_name?: string;
}
export interface VariableMsg {
  name?: string;
  value?: TensorMsg | null;
}
export interface ModelMsg {
  format_version?: number;
  producer?: string;
  graph?: GraphDefMsg | null;
  signature_def?: Record<string, SignatureDefMsg>;
  variables?: VariableMsg[];
  metadata?: Record<string, string>;
  checksum?: number;
}

/** TensorFlow's DataType numbers for Kiln's dtypes. */
export const DT_FLOAT = 1;
export const DT_INT32 = 3;
export const DT_BOOL = 10;

/** ModelProto.checksum is field 15, wire type 5 (fixed32): its tag byte. */
export const CHECKSUM_TAG = (15 << 3) | 5;
/** ModelProto.format_version is field 1, wire type 0 (varint): its tag byte. */
export const FORMAT_VERSION_TAG = (1 << 3) | 0;

let root: protobuf.Root | undefined;

/** The parsed schema (package `kiln`); field names keep the .proto's snake_case. */
export function kilnProtoRoot(): protobuf.Root {
  root ??= protobuf.parse(KILN_PROTO_TEXT, { keepCase: true }).root;
  return root;
}

/** A message type of kiln.proto by its short name ('ModelProto', 'GraphDef', ...). */
export function protoType(name: string): protobuf.Type {
  return kilnProtoRoot().lookupType(`kiln.${name}`);
}
