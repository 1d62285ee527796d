/**
 * Graph -> bytes. serializeGraph writes a ModelProto (format version, producer, the GraphDef,
 * one VariableProto per variable node, signatures, metadata) sealed with a CRC-32 trailer;
 * serializeGraphDef writes the bare TensorFlow-compatible GraphDef for viewers (TensorBoard,
 * Netron), without variable values.
 */
import { KilnError, fmtShape } from '../errors.js';
import type { Graph, Node, SymbolicTensor } from '../graph.js';
import { getOp } from '../ops/registry.js';
import { Tensor } from '../tensor.js';
import { attrToProto } from './attr-codec.js';
import { sealModelBytes } from './checksum.js';
import { type GraphDefMsg, type ModelMsg, type NodeDefMsg, type SignatureDefMsg, type TensorInfoMsg, type VariableMsg, protoType } from './schema.js';
import { dtypeToProto, shapeToProto, tensorToProto } from './tensor-codec.js';

/** The newest ModelProto format this code writes and reads. */
export const MODEL_FORMAT_VERSION = 1;

/** Named inputs and outputs of a graph (TensorFlow's SignatureDef). */
export interface SignatureSpec {
  inputs: Record<string, SymbolicTensor>;
  outputs: Record<string, SymbolicTensor>;
  /** Free text, e.g. 'predict' or TensorFlow's 'tensorflow/serving/predict'. */
  methodName?: string;
}

export interface SerializeOptions {
  /**
   * Current values of variable nodes (e.g. a Session's state after training); they replace
   * the nodes' initial values (attrs.value) in the file. Each must match its node's dtype and
   * shape. Keyed by variable node, or by variable name (Session.variableValues()).
   */
  variables?: ReadonlyMap<Node, Tensor> | ReadonlyMap<string, Tensor>;
  signatures?: Record<string, SignatureSpec>;
  /** Defaults to 'kiln'. */
  producer?: string;
  /** Free-form strings stored with the model (e.g. a training config as JSON). */
  metadata?: Record<string, string>;
}

/** How an input or signature refers to output `index` of `node`: "name", or "name:index". */
export function tensorRef(node: Node, index: number): string {
  return index === 0 && !node.name.includes(':') ? node.name : `${node.name}:${index}`;
}

function nodeToProto(node: Node): NodeDefMsg {
  const what = `serializeGraph: node '${node.name}' (${node.op})`;
  if (node.name === '' || node.name.startsWith('^')) {
    throw new KilnError('INVALID_ARGUMENT', `${what}: a node name must be non-empty and not start with '^'`);
  }
  const def = getOp(node.op);
  const attr: Record<string, ReturnType<typeof attrToProto>> = {};
  for (const [key, spec] of Object.entries(def.attrs)) {
    if (node.op === 'variable' && key === 'value') continue; // stored in ModelProto.variables
    const v = node.attrs[key];
    if (v !== undefined) attr[key] = attrToProto(spec, v, `${what}: attr '${key}'`);
  }
  attr['_output_shapes'] = { list: { shape: node.outputs.map((o) => shapeToProto(o.shape)) } };
  return {
    name: node.name,
    op: node.op,
    input: [...node.inputs.map((x) => tensorRef(x.node, x.index)), ...node.controlInputs.map((c) => `^${c.name}`)],
    attr,
  };
}

/** The graph as a GraphDef message (no variable values; see variablesToProto). */
export function graphToProto(g: Graph): GraphDefMsg {
  return {
    node: g.nodes.map(nodeToProto),
    versions: { producer: MODEL_FORMAT_VERSION, min_consumer: MODEL_FORMAT_VERSION },
  };
}

function tensorInfo(g: Graph, t: SymbolicTensor, where: string): TensorInfoMsg {
  if (!t || typeof t !== 'object' || !('node' in t) || t.graph !== g) {
    throw new KilnError('INVALID_ARGUMENT', `${where}: expected a SymbolicTensor of the graph being saved`);
  }
  return { name: tensorRef(t.node, t.index), dtype: dtypeToProto(t.dtype), tensor_shape: shapeToProto(t.shape) };
}

function signatureToProto(g: Graph, name: string, sig: SignatureSpec): SignatureDefMsg {
  const side = (rec: Record<string, SymbolicTensor> | undefined, kind: string): Record<string, TensorInfoMsg> =>
    Object.fromEntries(Object.entries(rec ?? {}).map(([k, t]) => [k, tensorInfo(g, t, `serializeGraph: signature '${name}' ${kind} '${k}'`)]));
  return { inputs: side(sig.inputs, 'input'), outputs: side(sig.outputs, 'output'), method_name: sig.methodName ?? '' };
}

function variablesToProto(g: Graph, given: ReadonlyMap<Node, Tensor> | ReadonlyMap<string, Tensor> | undefined): VariableMsg[] {
  const vars = g.variables();
  let overrides: Map<Node, Tensor> | undefined;
  if (given) {
    const known = new Set(vars);
    overrides = new Map();
    for (const [key, value] of given as ReadonlyMap<Node | string, Tensor>) {
      // Keys are variable nodes or their names (Session.variableValues() gives names).
      const node = typeof key === 'string' ? g.nodeByName(key.replace(/:0$/, '')) : key;
      if (!node || !known.has(node)) {
        const names = vars.map((v) => `'${v.name}'`).join(', ');
        const what = typeof key === 'string' ? `'${key}'` : String(key);
        const why = typeof key === 'string' ? 'which names no variable of this graph' : 'which is not a variable node of this graph';
        throw new KilnError('INVALID_ARGUMENT', `serializeGraph: options.variables has a value for ${what}, ${why} (its variables: ${names || 'none'})`);
      }
      overrides.set(node, value);
      const out = node.output;
      const what = `serializeGraph: variable '${node.name}'`;
      if (!(value instanceof Tensor)) throw new KilnError('INVALID_ARGUMENT', `${what}: value must be a Tensor`);
      if (value.dtype !== out.dtype) throw new KilnError('DTYPE_MISMATCH', `${what}: value is ${value.dtype} but the variable is ${out.dtype}`);
      if (value.shape.length !== out.shape.length || value.shape.some((d, i) => d !== out.shape[i])) {
        throw new KilnError('SHAPE_MISMATCH', `${what}: value has shape ${fmtShape(value.shape)} but the variable has ${fmtShape(out.shape)}`);
      }
    }
  }
  return vars.map((node) => ({ name: node.name, value: tensorToProto(overrides?.get(node) ?? (node.attrs['value'] as Tensor)) }));
}

/** The graph as a ModelProto: everything needed to rebuild it exactly, variable values included. */
export function serializeGraph(g: Graph, opts: SerializeOptions = {}): Uint8Array {
  const model: ModelMsg = {
    format_version: MODEL_FORMAT_VERSION,
    producer: opts.producer ?? 'kiln',
    graph: graphToProto(g),
    signature_def: Object.fromEntries(Object.entries(opts.signatures ?? {}).map(([k, s]) => [k, signatureToProto(g, k, s)])),
    variables: variablesToProto(g, opts.variables),
    metadata: { ...(opts.metadata ?? {}) },
  };
  const body = protoType('ModelProto').encode(model).finish();
  return sealModelBytes(body);
}

/** The bare GraphDef (TensorFlow field numbers) for graph viewers; variable values are left out. */
export function serializeGraphDef(g: Graph): Uint8Array {
  return new Uint8Array(protoType('GraphDef').encode(graphToProto(g)).finish());
}
