/**
 * The protobuf messages of TensorBoard event files, with TensorFlow's field numbers
 * (tensorflow/core/util/event.proto, tensorflow/core/framework/summary.proto): an Event holds
 * a wall time, a step and one of a file version, a serialized GraphDef or a Summary of
 * scalar values. Only the fields Kiln writes are declared; readers ignore the rest.
 */
import protobuf from 'protobufjs';

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
message Summary {
  message Value {
    string node_name = 7;
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
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
  summary?: { value: { tag: string; simple_value: number }[] };
}
