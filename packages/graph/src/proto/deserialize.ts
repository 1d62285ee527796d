/**
 * Bytes -> Graph. Checks, in order: the leading format_version field and the CRC-32 trailer
 * (a newer, intact file is UNSUPPORTED_VERSION; anything damaged is CORRUPT_MODEL), then
 * decodes the ModelProto and rebuilds the graph node by node through Graph.addNode, so every
 * node is validated and inferred exactly as when it was built. Every failure of a damaged or
 * hand-made file (protobufjs errors, unknown ops, ill-typed attrs, dangling or forward inputs,
 * bad shapes or tensor sizes, inference errors) surfaces as KilnError('CORRUPT_MODEL') saying
 * what is wrong; nothing else escapes.
 */
import { KilnError, fmtShape } from '../errors.js';
import { Graph, type Node, type SymbolicTensor } from '../graph.js';
import { type AttrValue, getOp, hasOp } from '../ops/registry.js';
import { attrFromProto } from './attr-codec.js';
import { type BytesLike, toBytes } from './bytes.js';
import { unsealModelBytes } from './checksum.js';
import {
  FORMAT_VERSION_TAG,
  type GraphDefMsg,
  type ModelMsg,
  type NodeDefMsg,
  type SignatureDefMsg,
  type TensorInfoMsg,
  type VariableMsg,
  protoType,
} from './schema.js';
import { MODEL_FORMAT_VERSION, type SignatureSpec } from './serialize.js';
import { type FillBudget, MAX_FILL_BYTES_TOTAL, corrupt, dtypeFromProto, fillBytesOf, shapeFromProto, tensorFromProto } from './tensor-codec.js';

export interface Signature extends SignatureSpec {
  methodName: string;
}

/** A loaded ModelProto. */
export interface LoadedModel {
  graph: Graph;
  formatVersion: number;
  producer: string;
  signatures: Record<string, Signature>;
  metadata: Record<string, string>;
}

/** Reads the leading format_version varint (field 1), or null when the bytes do not start with it. */
export function peekFormatVersion(bytes: Uint8Array): number | null {
  if (bytes[0] !== FORMAT_VERSION_TAG) return null;
  let v = 0;
  for (let i = 1; i <= 5 && i < bytes.length; i++) {
    const b = bytes[i]!;
    v += (b & 0x7f) * 2 ** (7 * (i - 1));
    if ((b & 0x80) === 0) return v;
  }
  return null;
}

/** Splits "name", "name:3" into node name and output index. */
function parseRef(ref: string): { name: string; index: number } {
  const m = /^(.*):(\d+)$/.exec(ref);
  if (m && m[1] !== '') return { name: m[1]!, index: Number(m[2]) };
  return { name: ref, index: 0 };
}

class GraphBuilder {
  readonly g = new Graph();
  /** Every node name of the GraphDef, to tell "defined later" from "unknown". */
  private readonly allNames: Set<string>;
  private readonly values = new Map<string, VariableMsg>();
  /** One budget for every one-value fill of the file (a tiny file must not expand to gigabytes). */
  private readonly fills: FillBudget = { left: MAX_FILL_BYTES_TOTAL };

  constructor(
    private readonly nodes: readonly NodeDefMsg[],
    variables: readonly VariableMsg[],
  ) {
    this.allNames = new Set(nodes.map((n) => n.name ?? ''));
    for (const [i, v] of variables.entries()) {
      const name = v.name ?? '';
      if (name === '') corrupt(`variables[${i}] has no name`);
      if (this.values.has(name)) corrupt(`variable '${name}' has two values in ModelProto.variables`);
      this.values.set(name, v);
    }
    const filled = variables.reduce((sum, v) => sum + fillBytesOf(v.value), 0);
    if (filled > this.fills.left) {
      corrupt(
        `ModelProto.variables: values filled from single numbers would expand to ${filled} bytes, over the limit of ${MAX_FILL_BYTES_TOTAL} bytes per file`,
      );
    }
  }

  private lookup(ref: string, what: string): Node {
    const node = this.g.nodeByName(ref);
    if (node) return node;
    if (this.allNames.has(ref)) corrupt(`${what}: input '${ref}' refers to a later node (nodes must be in topological order)`);
    return corrupt(`${what}: input '${ref}' refers to an unknown node`);
  }

  tensor(ref: string, what: string): SymbolicTensor {
    const { name, index } = parseRef(ref);
    const node = this.lookup(name, what);
    const out = node.outputs[index];
    if (!out) corrupt(`${what}: '${ref}' refers to output ${index} but node '${name}' (${node.op}) has ${node.outputs.length} outputs`);
    return out;
  }

  build(): Graph {
    this.nodes.forEach((nd, i) => this.addNode(nd, i));
    for (const name of this.values.keys()) {
      const node = this.g.nodeByName(name);
      if (!node || node.op !== 'variable') corrupt(`ModelProto.variables has a value for '${name}', which is not a variable node`);
    }
    return this.g;
  }

  private addNode(nd: NodeDefMsg, i: number): void {
    const name = nd.name ?? '';
    if (name === '') corrupt(`node #${i} has no name`);
    if (name.startsWith('^')) corrupt(`node #${i}: name '${name}' starts with '^' (reserved for control inputs)`);
    const op = nd.op ?? '';
    if (!hasOp(op)) corrupt(`node '${name}': unknown op '${op}'`);
    const def = getOp(op);
    const what = `node '${name}' (${op})`;

    const inputs: SymbolicTensor[] = [];
    const controlInputs: Node[] = [];
    for (const ref of nd.input ?? []) {
      if (ref.startsWith('^')) controlInputs.push(this.lookup(ref.slice(1), what));
      else if (controlInputs.length > 0) corrupt(`${what}: data input '${ref}' comes after a control input`);
      else inputs.push(this.tensor(ref, what));
    }

    const attrs: Record<string, AttrValue> = {};
    let outputShapes: (number | null)[][] | undefined;
    for (const key of Object.keys(nd.attr ?? {})) {
      const msg = nd.attr![key]!;
      if (key === '_output_shapes') {
        const list = msg.list;
        if (msg.value !== 'list' || !list) corrupt(`${what}: _output_shapes must be a list of shapes`);
        outputShapes = (list.shape ?? []).map((s, k) => shapeFromProto(s, `${what}: _output_shapes[${k}]`, true));
        continue;
      }
      if (key.startsWith('_')) continue; // other metadata attrs (TensorFlow convention): ignored
      const spec = Object.hasOwn(def.attrs, key) ? def.attrs[key] : undefined;
      if (!spec) corrupt(`${what}: unknown attr '${key}'`);
      if (op === 'variable' && key === 'value') corrupt(`${what}: the value of a variable belongs in ModelProto.variables, not in its attrs`);
      attrs[key] = attrFromProto(spec, msg, `${what}: attr '${key}'`, this.fills);
    }
    if (op === 'variable') {
      const v = this.values.get(name);
      if (!v) corrupt(`${what}: no value in ModelProto.variables`);
      attrs['value'] = tensorFromProto(v.value, `variable '${name}' value`, this.fills);
    }

    let node: Node;
    try {
      node = this.g.addNode(op, inputs, attrs, { name, controlInputs });
    } catch (e) {
      return corrupt(`${what}: ${(e as Error).message}`);
    }
    if (outputShapes !== undefined) checkOutputShapes(node, outputShapes, what);
  }
}

/**
 * Rebuilds a graph from a GraphDef message and the variables' values (one VariableMsg per
 * variable node), validating every node as deserializeGraph does; problems throw
 * KilnError('CORRUPT_MODEL') (other containers, e.g. the compiler's ProgramProto, reuse this).
 */
export function graphFromProto(def: GraphDefMsg, variables: readonly VariableMsg[]): Graph {
  return new GraphBuilder(def.node ?? [], variables).build();
}

function checkOutputShapes(node: Node, shapes: (number | null)[][], what: string): void {
  const inferred = node.outputs.map((o) => o.shape);
  const same = shapes.length === inferred.length && shapes.every((s, k) => s.length === inferred[k]!.length && s.every((d, j) => d === inferred[k]![j]));
  if (!same) {
    corrupt(`${what}: _output_shapes ${shapes.map(fmtShape).join(' ')} disagree with the inferred ${inferred.map(fmtShape).join(' ')}`);
  }
}

function signatureFromProto(b: GraphBuilder, name: string, msg: SignatureDefMsg): Signature {
  const side = (rec: Record<string, TensorInfoMsg> | undefined, kind: string): Record<string, SymbolicTensor> =>
    Object.fromEntries(
      Object.keys(rec ?? {}).map((k) => {
        const info = rec![k]!;
        const what = `signature '${name}' ${kind} '${k}'`;
        const t = b.tensor(info.name ?? '', what);
        if (info.dtype && dtypeFromProto(info.dtype, what) !== t.dtype) corrupt(`${what}: dtype disagrees with tensor '${t.name}' (${t.dtype})`);
        if (info.tensor_shape) {
          const s = shapeFromProto(info.tensor_shape, what, true);
          if (fmtShape(s) !== fmtShape(t.shape)) corrupt(`${what}: shape ${fmtShape(s)} disagrees with tensor '${t.name}' ${fmtShape(t.shape)}`);
        }
        return [k, t];
      }),
    );
  return { inputs: side(msg.inputs, 'input'), outputs: side(msg.outputs, 'output'), methodName: msg.method_name ?? '' };
}

function decodeModel(bytes: Uint8Array): LoadedModel {
  const claimed = peekFormatVersion(bytes);
  const sealed = unsealModelBytes(bytes);
  if ('error' in sealed) {
    const newer =
      claimed !== null && claimed > MODEL_FORMAT_VERSION ? ` (it claims format version ${claimed}; this Kiln reads up to ${MODEL_FORMAT_VERSION})` : '';
    corrupt(`${sealed.error}${newer}`);
  }
  const version = peekFormatVersion(sealed.body);
  if (version === null || version === 0) return corrupt('not a Kiln model: it does not start with a format_version field');
  if (version > MODEL_FORMAT_VERSION) {
    throw new KilnError(
      'UNSUPPORTED_VERSION',
      `deserializeGraph: the model has format version ${version} but this Kiln reads format versions up to ${MODEL_FORMAT_VERSION}; upgrade Kiln to load it`,
    );
  }
  let msg: ModelMsg;
  try {
    msg = protoType('ModelProto').decode(sealed.body) as unknown as ModelMsg;
  } catch (e) {
    return corrupt(`protobuf decoding failed: ${(e as Error).message}`);
  }
  if (msg.format_version !== version) corrupt(`format_version is given twice (${version} and ${String(msg.format_version)})`);
  if (!msg.graph) corrupt('the model has no graph');
  const b = new GraphBuilder(msg.graph.node ?? [], msg.variables ?? []);
  const graph = b.build();
  const signatures = Object.fromEntries(Object.keys(msg.signature_def ?? {}).map((k) => [k, signatureFromProto(b, k, msg.signature_def![k]!)]));
  const metadata = Object.fromEntries(Object.keys(msg.metadata ?? {}).map((k) => [k, String(msg.metadata![k])]));
  return { graph, formatVersion: version, producer: msg.producer ?? '', signatures, metadata };
}

/** Reads a ModelProto written by serializeGraph: the graph plus signatures and metadata. */
export function deserializeModel(bytes: BytesLike): LoadedModel {
  const view = toBytes(bytes, 'deserializeGraph');
  try {
    return decodeModel(view);
  } catch (e) {
    if (e instanceof KilnError && e.code === 'UNSUPPORTED_VERSION') throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new KilnError('CORRUPT_MODEL', `deserializeGraph: corrupt model: ${why}`);
  }
}

/** Rebuilds the graph saved by serializeGraph (variables take the saved values). */
export function deserializeGraph(bytes: BytesLike): Graph {
  return deserializeModel(bytes).graph;
}
