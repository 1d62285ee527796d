/**
 * KerasTensor: a symbolic value of the layer graph (Keras' functional API), before any Kiln
 * Graph exists. It records its shape (batch dim null), dtype, and which layer application made
 * it, so a Model can replay the layers into a Graph as many times as it needs (a training
 * forward pass, an inference forward pass). `input({ shape })` starts such a graph.
 */
import { type DType, KilnError } from '@kiln/graph';
import type { Layer } from './layer.js';

export type LayerShape = (number | null)[];

let nextId = 0;

/** One application of a layer: its inputs and the output it made. */
export interface LayerNode {
  layer: Layer;
  inputs: KerasTensor[];
  /** Index of this application among the layer's applications (0 unless the layer is shared). */
  index: number;
}

export class KerasTensor {
  readonly id = nextId++;
  constructor(
    readonly shape: LayerShape,
    readonly dtype: DType,
    /** The layer application that produced this tensor (an InputLayer's for model inputs). */
    readonly origin: LayerNode,
  ) {}

  /** 'layer' for a layer's first application, 'layer#i' for later ones. */
  get name(): string {
    return this.origin.index === 0 ? this.origin.layer.name : `${this.origin.layer.name}#${this.origin.index}`;
  }

  toString(): string {
    return `KerasTensor<${this.dtype}[${this.shape.map((d) => (d === null ? '?' : d)).join(',')}]>('${this.name}')`;
  }
}

/** Formats a layer shape as Keras prints it: (None, 28, 28, 1). */
export function fmtLayerShape(shape: LayerShape): string {
  return `(${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/** Checks that `shape` is an array of positive integers (a layer's inputShape argument). */
export function checkShapeArg(what: string, name: string, shape: unknown, allowNull = false): LayerShape {
  if (!Array.isArray(shape) || shape.some((d) => !((allowNull && d === null) || (Number.isInteger(d) && (d as number) > 0)))) {
    throw new KilnError(
      'INVALID_ARGUMENT',
      `${what}: ${name} must be an array of positive integers${allowNull ? ' or null' : ''}, got ${JSON.stringify(shape)}`,
    );
  }
  return [...(shape as (number | null)[])];
}
