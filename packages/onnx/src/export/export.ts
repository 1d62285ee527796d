/**
 * exportOnnx: a Kiln graph -> ONNX ModelProto bytes (opset 17) that ONNX Runtime runs.
 *
 * Only the part of the graph the outputs need is exported, cut at the given inputs (any
 * tensor may be an input, as a feed may override any tensor in a Session). Placeholders and
 * inputs become graph inputs, unknown dims becoming dim_params ('batch' for dim 0; outputs
 * leave theirs unnamed, as ONNX Runtime infers them); constants
 * and variables become initializers (a variable's value from `variables` when given, else its
 * initial value); every other node goes through its export rule (rules-*.ts). Nodes with no
 * mapping are collected and reported in ONE KilnError('UNSUPPORTED').
 */
import { type Graph, KilnError, type Node, type SymbolicTensor, Tensor, fmtShape, isSymbolic } from '@kiln/graph';
import { OnnxGraphBuilder, onnxElemType } from './builder.js';
import { EXPORT_IR_VERSION, EXPORT_OPSET, onnxModelType } from './onnx-schema.js';
import { ExportContext, ExportUnsupported, exportRule } from './rule.js';
import './rules-elementwise.js';
import './rules-reduce.js';
import './rules-movement.js';
import './rules-nn.js';
import './rules-pool-grad.js';

export interface ExportOnnxSpec {
  inputs: SymbolicTensor[];
  outputs: SymbolicTensor[];
  /**
   * Current variable values (e.g. a Session's variableValues() after training), keyed by
   * variable name or node; variables not listed export their initial value.
   */
  variables?: ReadonlyMap<string | Node, Tensor> | Record<string, Tensor>;
  /** Names for the ONNX graph outputs, one per output (default: the Kiln tensor names). */
  outputNames?: string[];
  /** The ONNX graph's name (default 'kiln'). */
  graphName?: string;
}

interface ValueInfoMsg {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: { dim_value?: number; dim_param?: string }[] } } };
}

const ONNX_STATELESS_REASON: Record<string, string> = {
  assign: 'ONNX graphs have no state to assign to',
  assignAdd: 'ONNX graphs have no state to assign to',
  assignSub: 'ONNX graphs have no state to assign to',
  noOp: 'a training target has no value',
  dropout: 'random at run time in Kiln; export the inference graph, without dropout',
};

function valueInfo(name: string, t: SymbolicTensor, paramFor: (dim: number) => string | undefined): ValueInfoMsg {
  const dim = t.shape.map((d, i): { dim_value?: number; dim_param?: string } => {
    if (d !== null) return { dim_value: d };
    const p = paramFor(i);
    return p === undefined ? {} : { dim_param: p };
  });
  return { name, type: { tensor_type: { elem_type: onnxElemType(t.dtype), shape: { dim } } } };
}

function variableOverrides(spec: ExportOnnxSpec): (node: Node) => Tensor | undefined {
  const v = spec.variables;
  if (v === undefined) return () => undefined;
  if (v instanceof Map) return (node) => v.get(node) ?? v.get(node.name);
  if (typeof v !== 'object' || v === null)
    throw new KilnError('INVALID_ARGUMENT', 'exportOnnx: variables must be a Map or an object of Tensors keyed by variable name');
  const rec = v as Record<string, Tensor>;
  return (node) => rec[node.name];
}

function checkSpec(g: Graph, spec: ExportOnnxSpec): void {
  if (!spec || !Array.isArray(spec.inputs) || !Array.isArray(spec.outputs)) {
    throw new KilnError('INVALID_ARGUMENT', 'exportOnnx: spec must be { inputs: SymbolicTensor[], outputs: SymbolicTensor[], variables? }');
  }
  if (spec.outputs.length === 0) throw new KilnError('INVALID_ARGUMENT', 'exportOnnx: spec.outputs is empty; name at least one output tensor');
  for (const [kind, list] of [
    ['inputs', spec.inputs],
    ['outputs', spec.outputs],
  ] as const) {
    list.forEach((t, i) => {
      if (!isSymbolic(t) || t.graph !== g) throw new KilnError('INVALID_ARGUMENT', `exportOnnx: spec.${kind}[${i}] must be a SymbolicTensor of this graph`);
    });
  }
}

/** The nodes the outputs depend on, in graph (topological) order, not looking past inputs. */
function neededNodes(spec: ExportOnnxSpec, inputNames: ReadonlySet<string>): Node[] {
  const seen = new Set<Node>();
  const stack = spec.outputs.filter((t) => !inputNames.has(t.name)).map((t) => t.node);
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const t of n.inputs) if (!inputNames.has(t.name)) stack.push(t.node);
  }
  return [...seen].sort((a, b) => a.id - b.id);
}

/** ONNX ModelProto bytes for the subgraph of `g` from spec.inputs to spec.outputs. */
export function exportOnnx(g: Graph, spec: ExportOnnxSpec): Uint8Array {
  checkSpec(g, spec);
  const b = new OnnxGraphBuilder();
  const inputNames = new Set(spec.inputs.map((t) => t.name));
  const override = variableOverrides(spec);
  const nodes = neededNodes(spec, inputNames);
  const problems: string[] = [];
  for (const n of nodes) for (const o of n.outputs) b.reserve(o.name);
  for (const t of spec.inputs) b.reserve(t.name);

  const inputs: ValueInfoMsg[] = [];
  const seenInputs = new Set<string>();
  for (const t of spec.inputs) {
    if (seenInputs.has(t.name)) continue;
    seenInputs.add(t.name);
    inputs.push(valueInfo(t.name, t, (i) => (i === 0 ? 'batch' : `${t.name}_dim${i}`)));
  }

  for (const n of nodes) {
    const what = `${n.op} '${n.name}'`;
    if (n.op === 'placeholder') {
      problems.push(`${what}: needed by the outputs but not in spec.inputs`);
      continue;
    }
    if (n.op === 'const') {
      b.tensor(n.output.name, n.attrs.value as Tensor);
      continue;
    }
    if (n.op === 'variable') {
      const init = n.attrs.value as Tensor;
      const value = override(n) ?? init;
      if (
        !(value instanceof Tensor) ||
        value.dtype !== init.dtype ||
        value.shape.length !== init.shape.length ||
        value.shape.some((d, i) => d !== init.shape[i])
      ) {
        const got = value instanceof Tensor ? `${value.dtype}${fmtShape(value.shape)}` : typeof value;
        throw new KilnError('INVALID_ARGUMENT', `exportOnnx: value for variable '${n.name}' must be a ${init.dtype}${fmtShape(init.shape)} Tensor, got ${got}`);
      }
      b.tensor(n.output.name, value);
      continue;
    }
    const rule = exportRule(n.op);
    if (!rule) {
      problems.push(`${what}: no ONNX mapping${ONNX_STATELESS_REASON[n.op] ? ` (${ONNX_STATELESS_REASON[n.op]})` : ''}`);
      continue;
    }
    const mark = { nodes: b.nodes.length };
    try {
      rule(
        new ExportContext(
          n,
          b,
          n.inputs.map((t) => t.name),
          n.outputs.map((t) => t.name),
        ),
      );
    } catch (e) {
      if (!(e instanceof ExportUnsupported)) throw e;
      b.nodes.length = mark.nodes;
      problems.push(`${what}: ${e.reason}`);
    }
  }
  if (problems.length > 0) {
    throw new KilnError(
      'UNSUPPORTED',
      `exportOnnx: ${problems.length} node${problems.length === 1 ? '' : 's'} cannot be exported to ONNX:\n  ${problems.join('\n  ')}`,
    );
  }

  // Graph outputs: a name may appear once, and must be produced by a node.
  const produced = new Set(b.nodes.flatMap((n) => n.output));
  const outputs: ValueInfoMsg[] = [];
  const outNames = new Set<string>();
  if (spec.outputNames !== undefined && (!Array.isArray(spec.outputNames) || spec.outputNames.length !== spec.outputs.length)) {
    throw new KilnError(
      'INVALID_ARGUMENT',
      `exportOnnx: outputNames must name each of the ${spec.outputs.length} outputs, got ${JSON.stringify(spec.outputNames)}`,
    );
  }
  for (const [i, t] of spec.outputs.entries()) {
    let name = t.name;
    const wanted = spec.outputNames?.[i];
    if (wanted !== undefined && wanted !== name) {
      if (b.isUsed(wanted) || outNames.has(wanted))
        throw new KilnError('INVALID_ARGUMENT', `exportOnnx: output name '${wanted}' is already the name of another value`);
      name = wanted;
      b.reserve(name);
      b.node('Identity', [t.name], [name], {}, b.fresh(`${name}_node`));
    } else if (!produced.has(name) || outNames.has(name)) {
      name = b.fresh(`${t.name}_output`);
      b.node('Identity', [t.name], [name], {}, b.fresh(`${name}_node`));
    }
    outNames.add(name);
    outputs.push(valueInfo(name, t, () => undefined));
  }

  const model = {
    ir_version: EXPORT_IR_VERSION,
    producer_name: 'kiln',
    producer_version: '0.1.0',
    opset_import: [{ domain: '', version: EXPORT_OPSET }],
    graph: { name: spec.graphName ?? 'kiln', node: b.nodes, initializer: b.initializers, input: inputs, output: outputs },
  };
  const type = onnxModelType();
  // A plain Uint8Array of its own (protobufjs hands out a view into Node's shared Buffer pool).
  return new Uint8Array(type.encode(type.fromObject(model)).finish());
}
