/**
 * What an operator converter sees: one ONNX node, its attributes, and its inputs as Kiln
 * SymbolicTensors (in the graph being built) or, when known at import time, as constant host
 * Tensors. Converters map the node onto Kiln ops and return one value per ONNX output.
 */
import { type DType, type Graph, KilnError, type SymbolicTensor, Tensor, fmtShape } from '@kiln/graph';
import { ATTR_FLOAT, ATTR_FLOATS, ATTR_INT, ATTR_INTS, ATTR_STRING, ATTR_TENSOR, type OnnxAttr, type OnnxNode, tensorFromProto } from './decode.js';

/** Thrown by converters for a feature Kiln cannot import; collected across the whole graph. */
export class Unsupported extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** An ONNX value during import: a symbolic tensor, a known constant, or both. */
export interface ImportValue {
  sym?: SymbolicTensor;
  konst?: Tensor;
}

/** An int64 constant saturated to int32: usable as a static index (Slice ends), never as data. */
export class Saturated {
  constructor(
    readonly tensor: Tensor,
    readonly overflow: string,
  ) {}
}

/** A converter's output: a symbolic tensor, or a host tensor (a constant known at import time). */
export type Produced = SymbolicTensor | Tensor | Saturated;

export interface InputSource {
  /** The symbolic tensor for input `i` (constants are materialized on demand). */
  symbolic(i: number): SymbolicTensor;
  /** The constant value of input `i`, if known. */
  constant(i: number): Tensor | undefined;
  /** Extra advice when input `i` is needed as a constant but is not one. */
  hint?(i: number): string;
}

export class ConvertContext {
  /** "Conv 'node_name'": the prefix of every message about this node. */
  readonly what: string;

  constructor(
    readonly node: OnnxNode,
    readonly opset: number,
    readonly graph: Graph,
    private readonly source: InputSource,
  ) {
    this.what = `ONNX ${node.opType} '${node.name || node.outputs[0] || '?'}'`;
  }

  /** Throws an Unsupported naming this node (collected, reported with all others). */
  unsupported(reason: string): never {
    throw new Unsupported(reason);
  }

  /** Whether input `i` is given (ONNX leaves optional inputs out or names them ''). */
  has(i: number): boolean {
    return i < this.node.inputs.length && this.node.inputs[i] !== '';
  }

  get numInputs(): number {
    return this.node.inputs.length;
  }

  /** Whether ONNX output `i` is requested (present and non-empty). */
  wantsOutput(i: number): boolean {
    return i < this.node.outputs.length && this.node.outputs[i] !== '';
  }

  input(i: number): SymbolicTensor {
    if (!this.has(i)) {
      throw new KilnError('INVALID_ARGUMENT', `${this.what}: required input ${i} is missing`);
    }
    return this.source.symbolic(i);
  }

  optInput(i: number): SymbolicTensor | undefined {
    return this.has(i) ? this.source.symbolic(i) : undefined;
  }

  tryConstant(i: number): Tensor | undefined {
    return this.has(i) ? this.source.constant(i) : undefined;
  }

  /** The import-time value of input `i`; Unsupported when it is only known at run time. */
  constant(i: number, purpose: string): Tensor {
    if (!this.has(i)) throw new KilnError('INVALID_ARGUMENT', `${this.what}: required input ${i} (${purpose}) is missing`);
    const t = this.source.constant(i);
    if (!t) {
      this.unsupported(`input ${i} (${purpose}, '${this.node.inputs[i]}') must be a constant known at import time${this.source.hint?.(i) ?? ''}`);
    }
    return t;
  }

  /** A constant integer list from input `i` (e.g. axes, pads, a shape). */
  ints(i: number, purpose: string): number[] {
    const t = this.constant(i, purpose);
    if (t.dtype === 'float32') {
      throw new KilnError('DTYPE_MISMATCH', `${this.what}: input ${i} (${purpose}) must be an integer tensor, got float32`);
    }
    return Array.from(t.data);
  }

  /** Static shape of input `i`. */
  shape(i: number): (number | null)[] {
    return this.input(i).shape;
  }

  /** Fully known static shape of input `i`; Unsupported otherwise. */
  staticShape(i: number, purpose: string): number[] {
    const s = this.input(i).shape;
    if (s.some((d) => d === null)) this.unsupported(`${purpose} needs the static shape of input ${i}, got ${fmtShape(s)}`);
    return s as number[];
  }

  dtype(i: number): DType {
    return this.input(i).dtype;
  }

  /** A constant node in the graph being built. */
  lit(value: Tensor | number, dtype: DType = 'float32'): SymbolicTensor {
    return this.graph.constant(value instanceof Tensor ? value : new Tensor(dtype, [], castOne(value, dtype)));
  }

  // ---- attributes ----

  private attrOf(name: string, type: number): OnnxAttr | undefined {
    const a = this.node.attrs.get(name);
    if (!a) return undefined;
    if (a.refAttrName) this.unsupported(`attribute '${name}' refers to a function attribute`);
    if (a.type !== type) throw new KilnError('INVALID_ATTR', `${this.what}: attribute '${name}' has the wrong type`);
    return a;
  }

  hasAttr(name: string): boolean {
    return this.node.attrs.has(name);
  }

  int(name: string, dflt: number): number;
  int(name: string): number | undefined;
  int(name: string, dflt?: number): number | undefined {
    const a = this.attrOf(name, ATTR_INT);
    if (!a) return dflt;
    return bigToNumber(a.i ?? 0n, `${this.what}: attribute '${name}'`);
  }

  float(name: string, dflt: number): number;
  float(name: string): number | undefined;
  float(name: string, dflt?: number): number | undefined {
    const a = this.attrOf(name, ATTR_FLOAT);
    return a ? (a.f ?? 0) : dflt;
  }

  string(name: string, dflt: string): string;
  string(name: string): string | undefined;
  string(name: string, dflt?: string): string | undefined {
    const a = this.attrOf(name, ATTR_STRING);
    return a ? (a.s ?? '') : dflt;
  }

  intList(name: string): number[] | undefined {
    const a = this.attrOf(name, ATTR_INTS);
    return a?.ints.map((v) => bigToNumber(v, `${this.what}: attribute '${name}'`));
  }

  floatList(name: string): number[] | undefined {
    return this.attrOf(name, ATTR_FLOATS)?.floats;
  }

  tensorAttr(name: string): Tensor | undefined {
    const a = this.attrOf(name, ATTR_TENSOR);
    return a?.t ? tensorFromProto(a.t, `${this.what}: attribute '${name}'`) : undefined;
  }

  /** A tensor attribute whose int64 values past int32 saturate (flagged: static use only). */
  tensorAttrSaturating(name: string): Tensor | Saturated | undefined {
    const a = this.attrOf(name, ATTR_TENSOR);
    if (!a?.t) return undefined;
    const what = `${this.what}: attribute '${name}'`;
    try {
      return tensorFromProto(a.t, what);
    } catch (e) {
      if (!(e instanceof KilnError && /does not fit in int32/.test(e.message))) throw e;
      return new Saturated(tensorFromProto(a.t, what, { saturate: true }), e.message);
    }
  }

  /** Rejects attributes this converter does not implement (when set to a non-default value). */
  rejectAttr(name: string, isDefault: (a: OnnxAttr) => boolean = () => false): void {
    const a = this.node.attrs.get(name);
    if (a && !isDefault(a)) this.unsupported(`attribute '${name}' is not supported`);
  }
}

function castOne(v: number, dtype: DType): Float32Array | Int32Array | Uint8Array {
  if (dtype === 'float32') return Float32Array.of(v);
  if (dtype === 'int32') return Int32Array.of(v);
  return Uint8Array.of(v ? 1 : 0);
}

/** int64 attribute -> JS number; values past int32 are clamped to +/-2^31 (ONNX uses INT64_MAX as "to the end"). */
export function bigToNumber(v: bigint, what: string): number {
  if (v > 2147483647n) return 2147483647;
  if (v < -2147483648n) return -2147483648;
  void what;
  return Number(v);
}
