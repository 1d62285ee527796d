/**
 * Layer: the base of every Keras layer. A layer is thin: `build` creates its weights
 * (LayerVariables holding their starting values, drawn once from the shared initializers of
 * @kiln/graph) and `call` applies graph ops to symbolic tensors. It never computes numbers
 * itself. `apply` records the layer in the layer graph (KerasTensors) and checks the input
 * shapes, so a mistake is reported when the model is defined, naming the layer.
 */
import { type DType, type Graph, type Initializer, KilnError, type KilnErrorCode, type SymbolicTensor, type Tensor, getInitializer } from '@kiln/graph';
import { type LayerNode, type LayerShape, KerasTensor, checkShapeArg, fmtLayerShape } from './keras-tensor.js';
import type { Regularizer } from '../regularizers.js';

/** Arguments every layer accepts (TensorFlow.js LayerArgs). */
export interface LayerArgs {
  name?: string;
  /** The shape of one example (no batch dim); makes this the model's first layer in a sequential. */
  inputShape?: number[];
  /** The input shape with the batch dim first (null: any batch size). */
  batchInputShape?: (number | null)[];
  dtype?: DType;
  trainable?: boolean;
}

/** A layer weight: its full name ('dense/kernel') and the value it starts from. */
export class LayerVariable {
  constructor(
    readonly layer: Layer,
    readonly name: string,
    readonly shape: number[],
    /** The starting value (the model session holds the live value once a graph exists). */
    public value: Tensor,
    readonly trainable: boolean,
    readonly regularizer: Regularizer | null,
  ) {}
}

/** What `call` gets besides its inputs: the graph being built and the mode. */
export interface CallContext {
  readonly graph: Graph;
  /** true in the training forward pass (dropout drops, batch norm uses batch statistics). */
  readonly training: boolean;
  /** The graph variable of a weight. */
  variable(v: LayerVariable): SymbolicTensor;
  /** A state update (e.g. batch norm's moving averages) that runs with every training step. */
  addUpdate(update: SymbolicTensor): void;
}

/** A layer's JSON-serializable config (saved with the model; rebuilds the layer on load). */
export type LayerConfig = Record<string, unknown>;

const nameCounters = new Map<string, number>();

/** Keras' automatic layer names: 'dense', 'dense_1', ... per base name. */
function autoName(base: string): string {
  const k = nameCounters.get(base);
  nameCounters.set(base, (k ?? -1) + 1);
  return k === undefined ? base : `${base}_${k + 1}`;
}

/** 'MaxPooling2D' -> 'max_pooling2d', as Keras names layers. */
export function snakeCase(className: string): string {
  return className
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

export abstract class Layer {
  /** The TensorFlow.js class name ('Dense', 'Conv2D', ...), the key of the saved config. */
  abstract readonly className: string;
  readonly name: string;
  trainable: boolean;
  readonly dtype: DType;
  /** [null, ...inputShape] when the layer was given an input shape (a model's first layer). */
  readonly batchInputShape: LayerShape | null;
  readonly weights: LayerVariable[] = [];
  /** Every application of the layer (more than one when it is shared). */
  readonly nodes: LayerNode[] = [];
  built = false;
  /** The input shapes of the first application (for summary and build). */
  inputShapes: LayerShape[] = [];
  outputShape: LayerShape | null = null;

  constructor(args: LayerArgs, className: string) {
    const what = `${className}`;
    const name = args.name ?? autoName(snakeCase(className));
    if (!/^[A-Za-z0-9_.\-]+$/.test(name)) {
      throw new KilnError('INVALID_ARGUMENT', `${what}: layer name '${name}' may hold only letters, digits, '_', '.', '-'`);
    }
    this.name = name;
    this.trainable = args.trainable ?? true;
    this.dtype = args.dtype ?? 'float32';
    if (args.batchInputShape !== undefined) this.batchInputShape = checkShapeArg(`${what} '${name}'`, 'batchInputShape', args.batchInputShape, true);
    else if (args.inputShape !== undefined) this.batchInputShape = [null, ...checkShapeArg(`${what} '${name}'`, 'inputShape', args.inputShape, true)];
    else this.batchInputShape = null;
  }

  /** Applies the layer to KerasTensors: checks shapes, builds the weights once, records the node. */
  apply(inputs: KerasTensor | KerasTensor[]): KerasTensor {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    list.forEach((x, i) => {
      if (!(x instanceof KerasTensor)) {
        this.fail('INVALID_ARGUMENT', `input ${i} must be a KerasTensor (from input() or another layer), got ${x === null ? 'null' : typeof x}`);
      }
    });
    this.checkInputCount(list.length);
    const shapes = list.map((x) => [...x.shape]);
    const out = this.computeOutputShape(shapes);
    if (!this.built) {
      this.inputShapes = shapes;
      this.build(shapes);
      this.built = true;
      this.outputShape = out;
    }
    const node: LayerNode = { layer: this, inputs: list, index: this.nodes.length };
    this.nodes.push(node);
    return new KerasTensor(out, this.outputDType(list.map((x) => x.dtype)), node);
  }

  /** The output shape for these input shapes; throws a KilnError naming the layer when they do not fit. */
  abstract computeOutputShape(inputShapes: LayerShape[]): LayerShape;

  /** The graph ops of the layer. */
  abstract call(inputs: SymbolicTensor[], ctx: CallContext): SymbolicTensor;

  /** Layer-specific options, JSON-serializable (name, trainable, shapes are added by getConfig). */
  protected abstract layerConfig(): LayerConfig;

  /** The full config: enough to rebuild the layer with fromConfig. */
  getConfig(): LayerConfig {
    const base: LayerConfig = { name: this.name, trainable: this.trainable, dtype: this.dtype };
    if (this.batchInputShape) base.batchInputShape = this.batchInputShape;
    return { ...base, ...this.layerConfig() };
  }

  /** Creates the weights from the input shapes (called once, on first apply). */
  protected build(_inputShapes: LayerShape[]): void {}

  /** How many inputs the layer takes (single-input layers by default). */
  protected checkInputCount(n: number): void {
    if (n !== 1) this.fail('INVALID_ARGUMENT', `expects 1 input, got ${n}`);
  }

  protected outputDType(inputDTypes: DType[]): DType {
    return inputDTypes[0] ?? 'float32';
  }

  /** Creates a weight named '<layer>/<name>' with its starting value drawn from `init`. */
  protected addWeight(
    name: string,
    shape: number[],
    init: Initializer | string,
    opts: { trainable?: boolean; regularizer?: Regularizer | null } = {},
  ): LayerVariable {
    const value = getInitializer(init).apply(shape, 'float32');
    const v = new LayerVariable(this, `${this.name}/${name}`, shape, value, (opts.trainable ?? true) && this.trainable, opts.regularizer ?? null);
    this.weights.push(v);
    return v;
  }

  /** Number of scalars in the layer's weights. */
  countParams(): number {
    return this.weights.reduce((n, w) => n + w.value.size, 0);
  }

  /** Throws a KilnError whose message names the layer. */
  fail(code: KilnErrorCode, message: string): never {
    throw new KilnError(code, `${this.className} '${this.name}': ${message}`);
  }

  /** Requires a rank and known dims at the given axes; returns the shape. */
  protected expectRank(shape: LayerShape, rank: number | [number, number], what = 'input'): LayerShape {
    const [lo, hi] = typeof rank === 'number' ? [rank, rank] : rank;
    if (shape.length < lo || shape.length > hi) {
      const want = lo === hi ? `rank ${lo}` : `rank ${lo} to ${hi}`;
      this.fail('SHAPE_MISMATCH', `expected ${what} of ${want} (batch dim included), got ${fmtLayerShape(shape)}`);
    }
    return shape;
  }

  /** A dim that must be known (not null) to create weights. */
  protected knownDim(shape: LayerShape, axis: number, what: string): number {
    const d = shape[axis < 0 ? shape.length + axis : axis];
    if (d === null || d === undefined) this.fail('SHAPE_MISMATCH', `the ${what} dimension of the input must be known, got ${fmtLayerShape(shape)}`);
    return d;
  }

  toString(): string {
    return `${this.className}('${this.name}')`;
  }
}

/** The serializable form of an initializer option. */
export function initializerConfig(init: Initializer | string): unknown {
  const i = getInitializer(init);
  return { className: i.className, config: { ...i.config } };
}
