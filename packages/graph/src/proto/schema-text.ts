/** Verbatim copy of proto/kiln.proto (checked by test/proto-schema.test.ts; regenerate by copying the file in). */
export const KILN_PROTO_TEXT = `// Kiln's model format: a TensorFlow-compatible GraphDef wrapped in a ModelProto that adds the
// variable values, signatures, metadata, a format version and a checksum.
//
// GraphDef, NodeDef, AttrValue, TensorShapeProto, TensorProto and DataType use TensorFlow's
// field numbers and types (tensorflow/core/framework/{graph,node_def,attr_value,tensor,
// tensor_shape,types}.proto) wherever the concepts coincide, so tools that read TensorFlow
// GraphDefs (TensorBoard's graph view, Netron) can show a Kiln graph. Kiln-only fields take
// numbers >= 1000, which TensorFlow does not use.
//
// packages/graph/src/proto/schema-text.ts holds a verbatim copy of this file (a test checks it).
//
// Container invariants, the same in every format version:
//   * ModelProto.format_version is field 1 and is written first.
//   * ModelProto.checksum is written last: the 5 bytes 0x7D (field 15, fixed32) and the CRC-32
//     (IEEE, little-endian) of every byte before them.

syntax = "proto3";

package kiln;

// Element types: TensorFlow's DataType numbers (Kiln uses float32, int32 and bool).
enum DataType {
  DT_INVALID = 0;
  DT_FLOAT = 1;
  DT_DOUBLE = 2;
  DT_INT32 = 3;
  DT_UINT8 = 4;
  DT_INT16 = 5;
  DT_INT8 = 6;
  DT_STRING = 7;
  DT_INT64 = 9;
  DT_BOOL = 10;
}

// A shape; a dim of size -1 is unknown (Kiln's null).
message TensorShapeProto {
  message Dim {
    int64 size = 1;
    string name = 2;
  }
  repeated Dim dim = 2;
  // Kiln shapes always have a known rank; a file with unknown_rank = true is rejected.
  bool unknown_rank = 3;
}

// A concrete tensor. Kiln writes tensor_content (raw little-endian bytes, 1 byte per bool) so
// values round-trip bit for bit (NaN payloads, -0); it also reads float_val / int_val /
// bool_val (one value per element, or one value repeated over the whole shape).
message TensorProto {
  DataType dtype = 1;
  TensorShapeProto tensor_shape = 2;
  int32 version_number = 3;
  bytes tensor_content = 4;
  repeated float float_val = 5 [packed = true];
  repeated int32 int_val = 7 [packed = true];
  repeated bool bool_val = 11 [packed = true];
}

// An attribute value; which field is set follows the op's AttrSpec type:
//   int -> i, float -> f, bool -> b, string -> s (UTF-8), dtype -> type,
//   shape -> shape, tensor -> tensor, ints -> list.i, floats -> list.f.
message AttrValue {
  message ListValue {
    repeated bytes s = 2;
    repeated int64 i = 3 [packed = true];
    repeated float f = 4 [packed = true];
    repeated bool b = 5 [packed = true];
    repeated DataType type = 6 [packed = true];
    repeated TensorShapeProto shape = 7;
    repeated TensorProto tensor = 8;
    // Kiln: the exact (float64) values of f, present only when some value of f is not
    // exactly representable as a float32; then it has as many entries as f.
    repeated double kiln_f64 = 1000 [packed = true];
  }
  oneof value {
    ListValue list = 1;
    bytes s = 2;
    int64 i = 3;
    float f = 4;
    bool b = 5;
    DataType type = 6;
    TensorShapeProto shape = 7;
    TensorProto tensor = 8;
  }
  // Kiln: the exact (float64) value of f, present (non-zero) only when f alone would round it.
  double kiln_f64 = 1000;
}

// One node. input holds "node" (output 0) or "node:index" for data inputs, then "^node" for
// control inputs. Attr names starting with '_' are metadata: Kiln writes _output_shapes
// (a list of shapes, one per output, as TensorFlow does) and checks it when reading.
message NodeDef {
  string name = 1;
  string op = 2;
  repeated string input = 3;
  string device = 4;
  map<string, AttrValue> attr = 5;
}

message VersionDef {
  int32 producer = 1;
  int32 min_consumer = 2;
  repeated int32 bad_consumers = 3;
}

// The nodes in topological (creation) order: every input refers to an earlier node.
message GraphDef {
  repeated NodeDef node = 1;
  VersionDef versions = 4;
}

// A tensor named in a signature (TensorFlow's TensorInfo, name encoding only).
message TensorInfo {
  string name = 1;
  DataType dtype = 2;
  TensorShapeProto tensor_shape = 3;
}

// Named inputs and outputs (TensorFlow's SignatureDef).
message SignatureDef {
  map<string, TensorInfo> inputs = 1;
  map<string, TensorInfo> outputs = 2;
  string method_name = 3;
}

// The value of one variable node (the node itself, with its trainable attr, is in the graph;
// its NodeDef carries no value attr).
message VariableProto {
  string name = 1;
  TensorProto value = 2;
}

// A saved model: the graph, one VariableProto per variable node (in graph order), signatures
// and free-form metadata (e.g. a training config as JSON).
message ModelProto {
  uint32 format_version = 1;
  string producer = 2;
  GraphDef graph = 3;
  map<string, SignatureDef> signature_def = 4;
  repeated VariableProto variables = 5;
  map<string, string> metadata = 6;
  fixed32 checksum = 15;
}

// ---------------------------------------------------------------------------------------------
// Compiled programs (compileModel(...).serialize(), loadCompiled): a backend-neutral Program
// that runs again without the source graph and without recompiling.
//
// ProgramProto is a container like ModelProto: format_version (field 1) first, the CRC-32
// checksum (field 15) last. Its content takes field numbers >= 16, none of which ModelProto
// uses, so a ModelProto read as a ProgramProto (or the reverse) is recognized and rejected.
// Buffer, kernel and input references are indices: BufferProto.id is its index in
// ProgramProto.buffers, KernelProto.id its index in ProgramProto.kernels.

// A scalar expression: the body of an elementwise kernel and the prologue / epilogue of
// reduce and contraction kernels, written as a tree (a subexpression the compiler shares is
// written at each use). dtype is the type of the value the node produces.
message ScalarExprProto {
  message Call {
    // The scalar function (add, mul, exp, select, toFloat, ...; see lower/scalar-expr.ts).
    string fn = 1;
    repeated ScalarExprProto args = 2;
  }
  DataType dtype = 1;
  oneof expr {
    // Input %index of the kernel (its inputs, or %0 = accumulator / product in epilogues).
    uint32 input = 2;
    // A literal, as float64 so that NaN, -0 and the infinities survive exactly.
    double constant = 3;
    Call call = 4;
  }
}

enum BufferKindProto {
  BUFFER_KIND_UNSPECIFIED = 0;
  BUFFER_FEED = 1;
  BUFFER_VARIABLE = 2;
  BUFFER_CONST = 3;
  BUFFER_TEMP = 4;
}

// One buffer of the program. Temporaries live at offset in the arena (the memory plan);
// the others have offset -1. A view's buffer aliases another buffer's bytes (alias_of).
message BufferProto {
  uint32 id = 1;
  string name = 2;
  DataType dtype = 3;
  TensorShapeProto shape = 4;
  int64 bytes = 5;
  BufferKindProto kind = 6;
  int64 offset = 7;
  optional uint32 alias_of = 8;
  // Consts: the value.
  TensorProto value = 9;
  // Feeds: the placeholder name; variables: the variable node name.
  string source = 10;
}

// out_j = exprs[j](inputs broadcast to the shape of outputs[0]).
message ElementwiseKernelProto {
  repeated ScalarExprProto exprs = 1;
  repeated uint32 inputs = 2 [packed = true];
  repeated uint32 outputs = 3 [packed = true];
  // Empty, or one per input: a strided view of that input's buffer (a folded transpose/slice).
  repeated IndexViewProto input_views = 4;
}

// present = false: the buffer as is; else element [i...] is at offset + sum(i_d * strides[d]).
message IndexViewProto {
  bool present = 1;
  repeated int64 shape = 2 [packed = true];
  int64 offset = 3;
  repeated int64 strides = 4 [packed = true];
  // A folded pad: per dim the range [valid_lo, valid_hi) read from the buffer, fill outside.
  repeated int64 valid_lo = 5 [packed = true];
  repeated int64 valid_hi = 6 [packed = true];
  double fill = 7;
  // Outside the valid ranges read input (or_else - 1) of the kernel instead of fill; 0: none.
  uint32 or_else = 8;
}

enum ReducerProto {
  REDUCER_UNSPECIFIED = 0;
  REDUCER_SUM = 1;
  REDUCER_MAX = 2;
  REDUCER_MIN = 3;
  REDUCER_PROD = 4;
}

// acc = reducer over axes of prologue(inputs broadcast to in_shape);
// output = epilogue(%0 = acc, %1.. = epilogue_inputs).
message ReduceKernelProto {
  ReducerProto reducer = 1;
  ScalarExprProto prologue = 2;
  repeated uint32 inputs = 3 [packed = true];
  repeated int64 in_shape = 4 [packed = true];
  repeated uint32 axes = 5 [packed = true];
  ScalarExprProto epilogue = 6;
  repeated uint32 epilogue_inputs = 7 [packed = true];
  uint32 output = 8;
}

// C = op(a) . op(b); output = epilogue(%0 = C, %1.. = epilogue_inputs).
message ContractionKernelProto {
  uint32 a = 1;
  uint32 b = 2;
  bool transpose_a = 3;
  bool transpose_b = 4;
  ScalarExprProto epilogue = 5;
  repeated uint32 epilogue_inputs = 6 [packed = true];
  uint32 output = 7;
}

// No code: output aliases input's bytes.
message ViewKernelProto {
  uint32 input = 1;
  uint32 output = 2;
}

// An op the backend implements whole; node names the node of ProgramProto.graph it computes,
// attr holds the op's attrs (encoded as in NodeDef.attr).
message OpKernelProto {
  string op = 1;
  string family = 2;
  string node = 3;
  map<string, AttrValue> attr = 4;
  repeated uint32 inputs = 5 [packed = true];
  repeated uint32 outputs = 6 [packed = true];
  // Optional: output 0 = epilogue(%0 = the op's result, %1.. = epilogue_inputs), in place.
  ScalarExprProto epilogue = 7;
  repeated uint32 epilogue_inputs = 8 [packed = true];
}

message KernelProto {
  uint32 id = 1;
  // The graph nodes the kernel computes, and why fusion grouped them.
  repeated string nodes = 2;
  repeated string reasons = 3;
  oneof spec {
    ElementwiseKernelProto elementwise = 4;
    ReduceKernelProto reduce = 5;
    ContractionKernelProto contraction = 6;
    ViewKernelProto view = 7;
    OpKernelProto op = 8;
  }
}

message ProgramFeedProto {
  string name = 1;
  uint32 buffer = 2;
}

// Buffer ids (a kernel's frees: the temporaries whose last use it is).
message BufferIdList {
  repeated uint32 ids = 1 [packed = true];
}

message ProgramStatsProto {
  int64 graph_nodes = 1;
  int64 kernels = 2;
  int64 arena_bytes = 3;
  int64 naive_bytes = 4;
  int64 live_lower_bound_bytes = 5;
}

// A compiled program: the optimized, shape-specialized graph the kernels came from, the
// buffers with their arena offsets, the kernels in execution order, the memory plan's frees
// (one list per kernel), feeds, fetches (a buffer id, or -1 for a target) and the variables'
// values at the time of saving, so the file is self-contained.
message ProgramProto {
  uint32 format_version = 1;
  string producer = 2;
  fixed32 checksum = 15;
  GraphDef graph = 16;
  repeated VariableProto variables = 17;
  repeated BufferProto buffers = 18;
  repeated KernelProto kernels = 19;
  repeated ProgramFeedProto feeds = 20;
  repeated sint32 fetches = 21 [packed = true];
  repeated string fetch_names = 22;
  ProgramStatsProto stats = 23;
  repeated BufferIdList frees = 24;
  // The run state of the random streams (dropout, random ops) of a compiled model: each run
  // draws from streams seeded by (seed, run_counter), as a Session's runs do.
  uint32 seed = 25;
  int64 run_counter = 26;
}
`;
