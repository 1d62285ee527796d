/**
 * The export rule table: one rule per Kiln op that has an ONNX mapping, registered from the
 * rules-<family>.ts files. A rule sees one Kiln node through an ExportContext (its inputs as
 * ONNX value names, its attrs and inferred types) and emits ONNX nodes that define every
 * output name the context hands out. A rule throws ExportUnsupported for a form of the op it
 * cannot map (e.g. a gather with batch dims on another axis); export.ts collects those.
 */
import type { Attrs, DType, Node, Shape } from '@kiln/graph';
import { type OnnxAttrs, type OnnxGraphBuilder } from './builder.js';

/** Thrown by a rule: this node cannot be expressed in ONNX (collected across the graph). */
export class ExportUnsupported extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export class ExportContext {
  constructor(
    readonly node: Node,
    readonly b: OnnxGraphBuilder,
    private readonly inputNames: readonly string[],
    private readonly outputNames: readonly string[],
  ) {}

  get attrs(): Readonly<Attrs> {
    return this.node.attrs;
  }

  /** The ONNX value name of input `i`. */
  in(i: number): string {
    const n = this.inputNames[i];
    if (n === undefined) throw new ExportUnsupported(`input ${i} is missing`);
    return n;
  }

  get inputCount(): number {
    return this.inputNames.length;
  }

  inShape(i: number): Shape {
    return this.node.inputs[i]!.shape;
  }

  inDType(i: number): DType {
    return this.node.inputs[i]!.dtype;
  }

  outShape(i = 0): Shape {
    return this.node.outputs[i]!.shape;
  }

  outDType(i = 0): DType {
    return this.node.outputs[i]!.dtype;
  }

  /** The ONNX value name that output `i` must be written to. */
  out(i = 0): string {
    return this.outputNames[i]!;
  }

  /** Emits a node writing a fresh temporary; returns its name. */
  tmp(opType: string, inputs: readonly string[], attrs: OnnxAttrs = {}): string {
    const name = this.b.fresh(`${this.node.name}/${opType}`);
    this.b.node(opType, inputs, [name], attrs, this.b.fresh(`${this.node.name}/${opType}_node`));
    return name;
  }

  /** Emits the node that writes output `i` (default 0). */
  emit(opType: string, inputs: readonly string[], attrs: OnnxAttrs = {}, i = 0): void {
    this.b.node(opType, inputs, [this.out(i)], attrs, this.b.fresh(`${this.node.name}/${opType}_node`));
  }

  /** Emits a node with several outputs written to the node's outputs in order. */
  emitAll(opType: string, inputs: readonly string[], attrs: OnnxAttrs = {}): void {
    this.b.node(
      opType,
      inputs,
      this.node.outputs.map((_, i) => this.out(i)),
      attrs,
      this.b.fresh(`${this.node.name}/${opType}_node`),
    );
  }

  /** Known dims of input `i`, or ExportUnsupported naming `why` they are needed. */
  knownInShape(i: number, why: string): number[] {
    const s = this.inShape(i);
    if (s.some((d) => d === null)) throw new ExportUnsupported(`input ${i} has unknown dims [${s.map((d) => d ?? '?').join(',')}] and ${why} needs them`);
    return s as number[];
  }
}

export type ExportRule = (ctx: ExportContext) => void;

const rules = new Map<string, ExportRule>();

export function registerExportRule(op: string, rule: ExportRule): void {
  if (rules.has(op)) throw new Error(`ONNX export rule for '${op}' registered twice`);
  rules.set(op, rule);
}

export function exportRule(op: string): ExportRule | undefined {
  return rules.get(op);
}

/** The Kiln ops that have an ONNX mapping, sorted. */
export function exportableOps(): string[] {
  return [...rules.keys()].sort();
}
