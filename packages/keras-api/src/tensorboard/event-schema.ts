/**
 * The protobuf messages of TensorBoard event files, with TensorFlow's field numbers
 * (tensorflow/core/util/event.proto, tensorflow/core/framework/summary.proto): an Event holds
 * a wall time, a step and one of a file version, a serialized GraphDef or a Summary of
 * scalar values and weight histograms. Only the fields Kiln writes are declared; readers ignore the rest.
 */
import protobuf from 'protobufjs';
import type { HistogramMsg } from './histogram.js';

const SCHEMA = `
syntax = "proto3";
package tensorboard;
message SummaryMetadata {
  message PluginData {
    string plugin_name = 1;
    bytes content = 2;
  }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
}
message HistogramProto {
  double min = 1;
  double max = 2;
  double num = 3;
  double sum = 4;
  double sum_squares = 5;
  repeated double bucket_limit = 6 [packed = true];
  repeated double bucket = 7 [packed = true];
}
message Summary {
  message Value {
    string node_name = 7;
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
      HistogramProto histo = 5;
    }
  }
  repeated Value value = 1;
}
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    bytes graph_def = 4;
    Summary summary = 5;
  }
}
`;

let root: protobuf.Root | undefined;

/** The Event message type. */
export function eventType(): protobuf.Type {
  root ??= protobuf.parse(SCHEMA, { keepCase: true }).root;
  return root.lookupType('tensorboard.Event');
}

export interface EventMsg {
  wall_time: number;
  step?: number;
  file_version?: string;
  graph_def?: Uint8Array;
  summary?: { value: ({ tag: string; simple_value: number } | { tag: string; histo: HistogramMsg })[] };
}
