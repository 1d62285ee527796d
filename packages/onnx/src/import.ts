/**
 * importOnnx: ONNX ModelProto bytes -> Kiln Graph. Graph inputs become placeholders (dim_param
 * -> null), initializers constants (or variables), and each node is mapped by its converter
 * (ops/*.ts) onto Kiln ops, folding nodes with constant inputs at import time (fold.ts). Every
 * unsupported operator or attribute in the graph is collected and reported in ONE
 * KilnError('UNSUPPORTED'); corrupt bytes give KilnError('CORRUPT_MODEL').
 */
import { type BytesLike, type DType, Graph, KilnError, type SymbolicTensor, Tensor, fmtShape } from '@kiln/graph';
import { ConvertContext, type ImportValue, type InputSource, type Produced, Saturated, Unsupported } from './context.js';
import {
  DEFAULT_ONNX_MAX_BYTES,
  type OnnxModel,
  type OnnxValueInfo,
  decodeModel,
  kilnDType,
  onnxDTypeName,
  tensorFromProto,
  withFloat64AsFloat32,
  withTensorBudget,
} from './decode.js';
import { foldNode } from './fold.js';
import { type ConverterDef, getConverter, staticInputsOf } from './registry.js';
import './ops/index.js';

export interface ImportOptions {
  /**
   * Values for graph inputs that are known at import time (e.g. a shape or axes fed as an
   * input): such inputs become constants instead of placeholders. Kiln ops take shapes, axes
   * and pads as static attributes, so inputs in those positions must be bound this way
   * (staticInputNames() lists them).
   */
  inputValues?: Record<string, Tensor>;
  /** Initializers become (trainable) variables instead of constants. */
  initializersAsVariables?: boolean;
  /**
   * The most bytes of tensor data (initializers, Constant values) the import may decode
   * (default 2 GiB); a model declaring more is refused with RESOURCE_EXHAUSTED before it is allocated.
   */
  maxBytes?: number;
  /**
   * float64 (DOUBLE) inputs, initializers and casts are UNSUPPORTED unless this is 'float32':
   * then they are computed in float32, with one console warning per import.
   */
  float64?: 'float32';
}

export interface ImportedModel {
  graph: Graph;
  /** Placeholders, in graph-input order (bound inputs and initializers excluded). */
  inputs: SymbolicTensor[];
  inputNames: string[];
  /** One tensor per graph output, in order; each is named as the ONNX output where possible. */
  outputs: SymbolicTensor[];
  outputNames: string[];
  /** Version of the default (ai.onnx) operator set. */
  opset: number;
}

interface Value extends ImportValue {
  /** Set when an int64 constant was saturated to int32: usable only as a static index (Slice ends). */
  overflow?: string;
}

const DEFAULT_DOMAINS = new Set(['', 'ai.onnx']);

function scopeName(s: string): string {
  const clean = s.replace(/[^A-Za-z0-9_.\-]/g, '_');
  return clean.length ? clean : 'node';
}

function placeholderShape(info: OnnxValueInfo): (number | null)[] | undefined {
  return info.shape?.map((d) => (typeof d === 'number' && d >= 0 ? d : null));
}

/** ONNX ModelProto bytes -> Kiln Graph (see importOnnxModel for inputs/outputs). */
export function importOnnx(bytes: BytesLike, opts: ImportOptions = {}): Graph {
  return importOnnxModel(bytes, opts).graph;
}

export function importOnnxModel(bytes: BytesLike, opts: ImportOptions = {}): ImportedModel {
  return convertModel(decodeModel(bytes), opts);
}

/** Every value name is written once (SSA): two nodes writing one output, or a node overwriting an initializer or graph input, is corrupt. */
function checkSingleAssignment(model: OnnxModel): void {
  const producer = new Map<string, string>();
  for (const t of model.graph.initializers) {
    if (producer.has(t.name)) throw new KilnError('CORRUPT_MODEL', `ONNX initializer '${t.name}' is given twice`);
    producer.set(t.name, `initializer '${t.name}'`);
  }
  const inputs = new Set<string>();
  for (const i of model.graph.inputs) {
    if (inputs.has(i.name)) throw new KilnError('CORRUPT_MODEL', `ONNX graph input '${i.name}' is listed twice`);
    inputs.add(i.name);
    if (!producer.has(i.name)) producer.set(i.name, `graph input '${i.name}'`); // an initializer may be listed as an input (IR < 4)
  }
  model.graph.nodes.forEach((n, k) => {
    const label = `node '${n.name || n.outputs[0] || `#${k}`}' (${n.opType})`;
    for (const o of n.outputs) {
      if (o === '') continue;
      const first = producer.get(o);
      if (first !== undefined)
        throw new KilnError('CORRUPT_MODEL', `ONNX ${label} writes '${o}', which ${first} already defines (ONNX values are assigned once)`);
      producer.set(o, label);
    }
  });
}

export function convertModel(model: OnnxModel, opts: ImportOptions = {}): ImportedModel {
  const maxBytes = opts.maxBytes ?? DEFAULT_ONNX_MAX_BYTES;
  if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
    throw new KilnError('INVALID_ARGUMENT', `importOnnx: maxBytes must be a positive integer number of bytes, got ${String(maxBytes)}`);
  }
  if (opts.float64 !== undefined && opts.float64 !== 'float32') {
    throw new KilnError(
      'INVALID_ARGUMENT',
      `importOnnx: float64 must be 'float32' (compute float64 values in float32) or left out, got ${String(opts.float64)}`,
    );
  }
  checkSingleAssignment(model);
  return withFloat64AsFloat32(opts.float64 === 'float32', 'importOnnx', () => withTensorBudget(maxBytes, () => convertChecked(model, opts)));
}

function convertChecked(model: OnnxModel, opts: ImportOptions): ImportedModel {
  const g = new Graph();
  const opset = model.opsets.get('') ?? 1;
  const values = new Map<string, Value>();
  const issues: string[] = [];
  const poisoned = new Set<string>();
  const graphInputNames = new Set(model.graph.inputs.map((i) => i.name));

  // Initializers.
  for (const init of model.graph.initializers) {
    const what = `initializer '${init.name}'`;
    try {
      const { tensor, overflow } = decodeSaturating(init, what);
      if (opts.initializersAsVariables && tensor.dtype === 'float32') {
        values.set(init.name, { sym: g.variable(tensor, scopeName(init.name)) });
      } else {
        values.set(init.name, { konst: tensor, overflow });
      }
    } catch (e) {
      if (e instanceof KilnError && e.code === 'UNSUPPORTED') {
        issues.push(`${what}: ${e.message}`);
        poisoned.add(init.name);
      } else throw e;
    }
  }

  // Graph inputs.
  const inputs: SymbolicTensor[] = [];
  const inputNames: string[] = [];
  for (const info of model.graph.inputs) {
    if (values.has(info.name) || poisoned.has(info.name)) continue; // an initializer listed as input (IR < 4)
    const bound = opts.inputValues?.[info.name];
    if (bound) {
      values.set(info.name, { konst: bound });
      continue;
    }
    const dtype = info.elemType === undefined ? undefined : kilnDType(info.elemType);
    const shape = placeholderShape(info);
    if (info.kind !== 'tensor' || !dtype || !shape) {
      const why =
        info.kind !== 'tensor'
          ? `a ${info.kind} value (only tensors are supported)`
          : !dtype
            ? `element type ${onnxDTypeName(info.elemType ?? 0)} has no Kiln dtype`
            : 'its rank is unknown (no shape in the model)';
      issues.push(`graph input '${info.name}': ${why}`);
      poisoned.add(info.name);
      continue;
    }
    const ph = g.addNode('placeholder', [], { dtype, shape }, { name: info.name }).output;
    values.set(info.name, { sym: ph });
    inputs.push(ph);
    inputNames.push(info.name);
  }

  // Operators nobody maps: reported up front, all of them.
  const defs: (ConverterDef | undefined)[] = model.graph.nodes.map((n) => {
    const def = DEFAULT_DOMAINS.has(n.domain) ? getConverter(n.opType) : undefined;
    if (!def) {
      const dom = DEFAULT_DOMAINS.has(n.domain) ? '' : ` in domain '${n.domain}'`;
      issues.push(`node '${n.name || n.outputs[0] || '?'}' (${n.opType}): operator${dom} is not supported`);
    }
    return def;
  });

  const materialize = (name: string, v: Value): SymbolicTensor => {
    if (v.sym) return v.sym;
    if (v.overflow) throw new KilnError('UNSUPPORTED', v.overflow);
    v.sym = g.constant(v.konst!, undefined, scopeName(name));
    return v.sym;
  };

  model.graph.nodes.forEach((node, index) => {
    const def = defs[index];
    const label = `node '${node.name || node.outputs[0] || `#${index}`}' (${node.opType})`;
    const poison = (): void => {
      for (const o of node.outputs) if (o) poisoned.add(o);
    };
    if (!def) return poison();
    const ins: (Value | undefined)[] = [];
    for (const name of node.inputs) {
      if (name === '') {
        ins.push(undefined);
        continue;
      }
      if (poisoned.has(name)) return poison();
      const v = values.get(name);
      if (!v) throw new KilnError('CORRUPT_MODEL', `ONNX ${label}: input '${name}' is not produced by any earlier node, initializer or graph input`);
      ins.push(v);
    }
    const ctxWhat = `ONNX ${node.opType} '${node.name || node.outputs[0] || `#${index}`}'`;
    try {
      let produced: Produced[] | undefined;
      const foldable = ins.every((v, i) => node.inputs[i] === '' || (v?.konst !== undefined && !v.overflow));
      if (foldable) {
        try {
          produced = foldNode(
            def,
            node,
            opset,
            ins.map((v) => v?.konst),
          );
        } catch (e) {
          // A kernel missing on the reference executor: convert symbolically instead.
          if (!(e instanceof KilnError && (e.code === 'UNSUPPORTED' || e.code === 'UNKNOWN_OP'))) throw e;
        }
      }
      if (!produced) {
        const source: InputSource = {
          symbolic: (i) => materialize(node.inputs[i]!, ins[i]!),
          constant: (i) => ins[i]?.konst,
          hint: (i) =>
            graphInputNames.has(node.inputs[i]!)
              ? ` (it is graph input '${node.inputs[i]}': bind it with importOnnx(bytes, { inputValues: { '${node.inputs[i]}': value } }))`
              : '',
        };
        const ctx = new ConvertContext(node, opset, g, source);
        produced = g.nameScope(scopeName(node.name || `${node.opType}_${index}`), () => def.convert(ctx));
      }
      node.outputs.forEach((out, i) => {
        if (!out) return;
        const p = produced![i];
        if (p === undefined) throw new Unsupported(`output ${i} ('${out}') is not supported`);
        if (p instanceof Tensor) values.set(out, { konst: p });
        else if (p instanceof Saturated) values.set(out, { konst: p.tensor, overflow: p.overflow });
        else values.set(out, { sym: p, konst: p.node.op === 'const' ? (p.node.attrs.value as Tensor) : undefined });
      });
    } catch (e) {
      if (e instanceof Unsupported) {
        issues.push(`${label}: ${e.reason}`);
        return poison();
      }
      if (e instanceof KilnError) {
        const msg = e.message.startsWith('ONNX ') ? e.message : `${ctxWhat}: ${e.message}`;
        if (e.code === 'UNSUPPORTED' || e.code === 'UNKNOWN_OP') {
          issues.push(`${label}: ${e.message}`);
          return poison();
        }
        throw new KilnError(e.code, msg);
      }
      throw e;
    }
  });

  // Graph outputs.
  const outputs: SymbolicTensor[] = [];
  const outputNames: string[] = [];
  for (const info of model.graph.outputs) {
    if (poisoned.has(info.name)) continue;
    const v = values.get(info.name);
    if (!v) {
      throw new KilnError('CORRUPT_MODEL', `ONNX graph output '${info.name}' is not produced by any node, initializer or graph input`);
    }
    let sym: SymbolicTensor;
    try {
      sym = materialize(info.name, v);
    } catch (e) {
      if (e instanceof KilnError && e.code === 'UNSUPPORTED') {
        issues.push(`graph output '${info.name}': ${e.message}`);
        continue;
      }
      throw e;
    }
    if (sym.name !== info.name && !g.nodeByName(info.name)) {
      sym = g.addNode('identity', [sym], {}, { name: info.name }).output;
    }
    checkDeclaredType(info, sym);
    outputs.push(sym);
    outputNames.push(info.name);
  }

  if (issues.length) {
    throw new KilnError(
      'UNSUPPORTED',
      `importOnnx: the model uses ${issues.length} unsupported feature${issues.length > 1 ? 's' : ''}:\n` + issues.map((s) => `  - ${s}`).join('\n'),
    );
  }
  return { graph: g, inputs, inputNames, outputs, outputNames, opset };
}

/** A declared output type that disagrees with what Kiln inferred is a bug worth a clear error. */
function checkDeclaredType(info: OnnxValueInfo, sym: SymbolicTensor): void {
  const dtype: DType | undefined = info.elemType === undefined ? undefined : kilnDType(info.elemType);
  if (dtype && dtype !== sym.dtype) {
    throw new KilnError(
      'DTYPE_MISMATCH',
      `ONNX graph output '${info.name}': the model declares ${onnxDTypeName(info.elemType!)} but the import produced ${sym.dtype}`,
    );
  }
  if (info.shape && info.shape.length !== sym.shape.length) {
    throw new KilnError(
      'SHAPE_MISMATCH',
      `ONNX graph output '${info.name}': the model declares rank ${info.shape.length} but the import produced ${fmtShape(sym.shape)}`,
    );
  }
}

/** Decodes a TensorProto; int64 values past int32 saturate and are flagged (static use only). */
function decodeSaturating(t: Parameters<typeof tensorFromProto>[0], what: string): { tensor: Tensor; overflow?: string } {
  try {
    return { tensor: tensorFromProto(t, what) };
  } catch (e) {
    if (!(e instanceof KilnError && e.code === 'UNSUPPORTED' && /does not fit in int32/.test(e.message))) throw e;
    return { tensor: tensorFromProto(t, what, { saturate: true }), overflow: e.message };
  }
}
