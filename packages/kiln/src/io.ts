/**
 * `io`: reading and writing models, grouped as tf.io groups them: graphs as protobuf
 * ModelProto bytes or text IR, and ONNX import. Session.save / kiln.restore are the one-call
 * form for a training session.
 */
import { deserializeGraph, deserializeModel, parseGraph, printGraph, serializeGraph } from '@kiln/graph';
import { importOnnx, staticInputNames } from '@kiln/onnx';

export const io = {
  serializeGraph,
  deserializeGraph,
  deserializeModel,
  printGraph,
  parseGraph,
  importOnnx,
  staticInputNames,
};
