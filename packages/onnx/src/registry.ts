/**
 * The converter table: one entry per ONNX operator type (default domain), registered from the
 * ops/<family>.ts files. An entry says which inputs must be known at import time (shapes, axes,
 * pads: Kiln ops take those as static attributes) and how to map the node onto Kiln ops.
 */
import { KilnError } from '@kiln/graph';
import type { ConvertContext, Produced } from './context.js';

export type Converter = (ctx: ConvertContext) => Produced[];

export interface ConverterDef {
  opType: string;
  convert: Converter;
  /** Inputs whose values must be known at import time (constants, folded values or bound inputs). */
  staticInputs?: readonly number[] | ((opset: number) => readonly number[]);
  /** Inputs whose static shape, not value, is used (Shape, Size): they do not need to be constant. */
  shapeOnlyInputs?: readonly number[];
}

const converters = new Map<string, ConverterDef>();

export function registerConverter(def: ConverterDef): void {
  if (converters.has(def.opType))
    throw new KilnError('INTERNAL', `ONNX converter for '${def.opType}' registered twice: each ONNX opType has exactly one converter`);
  converters.set(def.opType, def);
}

/** Shorthand: many ops in one family share a shape. */
export function register(opType: string, convert: Converter, extra: Omit<ConverterDef, 'opType' | 'convert'> = {}): void {
  registerConverter({ opType, convert, ...extra });
}

export function getConverter(opType: string): ConverterDef | undefined {
  return converters.get(opType);
}

/** The ONNX operator types this importer maps, sorted. */
export function supportedOnnxOps(): string[] {
  return [...converters.keys()].sort();
}

export function staticInputsOf(def: ConverterDef, opset: number): readonly number[] {
  const s = def.staticInputs;
  if (!s) return [];
  return typeof s === 'function' ? s(opset) : s;
}
