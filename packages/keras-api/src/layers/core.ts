/**
 * Core layers: InputLayer (the source of a model input), Dense, Activation, Dropout, Flatten
 * and Reshape. Each creates its weights in `build` and applies graph ops in `call`.
 */
import { type Initializer, type SymbolicTensor, add, dropout, matMul, reshape } from '@kiln/graph';
import { type ActivationIdentifier, applyActivation, checkActivation } from '../activations.js';
import { type LayerShape, checkShapeArg, fmtLayerShape } from '../engine/keras-tensor.js';
import { type CallContext, Layer, type LayerArgs, type LayerConfig, type LayerVariable, initializerConfig } from '../engine/layer.js';
import { type Regularizer, type RegularizerIdentifier, getRegularizer } from '../regularizers.js';
import { initializerFrom, type InitializerIdentifier } from './initializer-config.js';

/** The layer behind `input()`: it has no weights and is never called; its output is a placeholder. */
export class InputLayer extends Layer {
  readonly className = 'InputLayer';
  constructor(args: LayerArgs & { batchInputShape: (number | null)[] }) {
    super(args, 'InputLayer');
  }
  computeOutputShape(): LayerShape {
    return [...this.batchInputShape!];
  }
  call(): SymbolicTensor {
    return this.fail('INTERNAL', 'an input layer is fed, never called');
  }
  protected layerConfig(): LayerConfig {
    return {};
  }
}

export interface DenseArgs extends LayerArgs {
  units: number;
  activation?: ActivationIdentifier;
  useBias?: boolean;
  kernelInitializer?: InitializerIdentifier;
  biasInitializer?: InitializerIdentifier;
  kernelRegularizer?: RegularizerIdentifier | null;
  biasRegularizer?: RegularizerIdentifier | null;
}

/** Dense: activation(x . kernel + bias) over the last axis. */
export class Dense extends Layer {
  readonly className = 'Dense';
  readonly units: number;
  readonly activation: ActivationIdentifier;
  readonly useBias: boolean;
  private readonly kernelInitializer: Initializer;
  private readonly biasInitializer: Initializer;
  private readonly kernelRegularizer: Regularizer | null;
  private readonly biasRegularizer: Regularizer | null;
  private kernel: LayerVariable | null = null;
  private bias: LayerVariable | null = null;

  constructor(args: DenseArgs) {
    super(args, 'Dense');
    if (!Number.isInteger(args.units) || args.units <= 0) this.fail('INVALID_ARGUMENT', `units must be a positive integer, got ${String(args.units)}`);
    this.units = args.units;
    this.activation = checkActivation(args.activation, `Dense '${this.name}'`);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = initializerFrom(args.kernelInitializer ?? 'glorotUniform');
    this.biasInitializer = initializerFrom(args.biasInitializer ?? 'zeros');
    this.kernelRegularizer = getRegularizer(args.kernelRegularizer, `Dense '${this.name}'`);
    this.biasRegularizer = getRegularizer(args.biasRegularizer, `Dense '${this.name}'`);
  }

  computeOutputShape([s]: LayerShape[]): LayerShape {
    this.expectRank(s!, [2, 8]);
    this.knownDim(s!, -1, 'last');
    if (this.kernel && s![s!.length - 1] !== this.kernel.shape[0]) {
      this.fail('SHAPE_MISMATCH', `expected input with last dim ${this.kernel.shape[0]}, got ${fmtLayerShape(s!)}`);
    }
    return [...s!.slice(0, -1), this.units];
  }

  protected build([s]: LayerShape[]): void {
    const inDim = s![s!.length - 1]!;
    this.kernel = this.addWeight('kernel', [inDim, this.units], this.kernelInitializer, { regularizer: this.kernelRegularizer });
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], this.biasInitializer, { regularizer: this.biasRegularizer });
  }

  call([x]: SymbolicTensor[], ctx: CallContext): SymbolicTensor {
    const k = ctx.variable(this.kernel!);
    let y: SymbolicTensor;
    if (x!.shape.length === 2) {
      y = matMul(x!, k);
    } else {
      const inner = x!.shape.slice(1, -1) as number[];
      if (inner.some((d) => d === null)) this.fail('SHAPE_MISMATCH', `inner dims of a rank > 2 input must be known, got ${fmtLayerShape(x!.shape)}`);
      y = reshape(matMul(reshape(x!, [-1, this.kernel!.shape[0]!]), k), [-1, ...inner, this.units]);
    }
    if (this.bias) y = add(y, ctx.variable(this.bias));
    return applyActivation(this.activation, y);
  }

  protected layerConfig(): LayerConfig {
    return {
      units: this.units,
      activation: this.activation,
      useBias: this.useBias,
      kernelInitializer: initializerConfig(this.kernelInitializer),
      biasInitializer: initializerConfig(this.biasInitializer),
      kernelRegularizer: this.kernelRegularizer?.config ? { className: 'L1L2', config: this.kernelRegularizer.config } : null,
      biasRegularizer: this.biasRegularizer?.config ? { className: 'L1L2', config: this.biasRegularizer.config } : null,
    };
  }
}

/** Activation: applies a named activation. */
export class Activation extends Layer {
  readonly className = 'Activation';
  readonly activation: ActivationIdentifier;
  constructor(args: LayerArgs & { activation: ActivationIdentifier }) {
    super(args, 'Activation');
    this.activation = checkActivation(args.activation, `Activation '${this.name}'`);
  }
  computeOutputShape([s]: LayerShape[]): LayerShape {
    return [...s!];
  }
  call([x]: SymbolicTensor[]): SymbolicTensor {
    return applyActivation(this.activation, x!);
  }
  protected layerConfig(): LayerConfig {
    return { activation: this.activation };
  }
}

export interface DropoutArgs extends LayerArgs {
  rate: number;
  noiseShape?: (number | null)[];
  seed?: number;
}

/** Dropout: in training, zeroes a fraction `rate` of the inputs and scales the rest by 1/(1-rate); the identity in inference. */
export class Dropout extends Layer {
  readonly className = 'Dropout';
  readonly rate: number;
  readonly noiseShape: (number | null)[] | undefined;
  readonly seed: number | undefined;
  constructor(args: DropoutArgs) {
    super(args, 'Dropout');
    if (typeof args.rate !== 'number' || !(args.rate >= 0 && args.rate < 1)) this.fail('INVALID_ARGUMENT', `rate must be in [0, 1), got ${String(args.rate)}`);
    this.rate = args.rate;
    this.noiseShape = args.noiseShape;
    this.seed = args.seed;
  }
  computeOutputShape([s]: LayerShape[]): LayerShape {
    return [...s!];
  }
  call([x]: SymbolicTensor[], ctx: CallContext): SymbolicTensor {
    if (!ctx.training || this.rate === 0) return x!;
    return dropout(x!, this.rate, { noiseShape: this.noiseShape, seed: this.seed });
  }
  protected layerConfig(): LayerConfig {
    return { rate: this.rate, noiseShape: this.noiseShape ?? null, seed: this.seed ?? null };
  }
}

/** Flatten: [batch, d1, d2, ...] -> [batch, d1 * d2 * ...]. */
export class Flatten extends Layer {
  readonly className = 'Flatten';
  constructor(args: LayerArgs = {}) {
    super(args, 'Flatten');
  }
  computeOutputShape([s]: LayerShape[]): LayerShape {
    this.expectRank(s!, [2, 8]);
    const rest = s!.slice(1);
    if (rest.some((d) => d === null)) this.fail('SHAPE_MISMATCH', `all non-batch dims must be known, got ${fmtLayerShape(s!)}`);
    return [s![0]!, (rest as number[]).reduce((a, b) => a * b, 1)];
  }
  call([x]: SymbolicTensor[]): SymbolicTensor {
    const n = (x!.shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
    return reshape(x!, [-1, n]);
  }
  protected layerConfig(): LayerConfig {
    return {};
  }
}

/** Reshape: each example to `targetShape` (one dim may be -1). */
export class Reshape extends Layer {
  readonly className = 'Reshape';
  readonly targetShape: number[];
  constructor(args: LayerArgs & { targetShape: number[] }) {
    super(args, 'Reshape');
    const t = args.targetShape;
    if (!Array.isArray(t) || t.some((d) => !(Number.isInteger(d) && (d > 0 || d === -1))) || t.filter((d) => d === -1).length > 1) {
      this.fail('INVALID_ARGUMENT', `targetShape must hold positive integers and at most one -1, got ${JSON.stringify(t)}`);
    }
    this.targetShape = [...t];
  }
  computeOutputShape([s]: LayerShape[]): LayerShape {
    const rest = s!.slice(1);
    if (rest.some((d) => d === null)) this.fail('SHAPE_MISMATCH', `all non-batch dims must be known, got ${fmtLayerShape(s!)}`);
    const n = (rest as number[]).reduce((a, b) => a * b, 1);
    const known = this.targetShape.reduce((a, d) => (d === -1 ? a : a * d), 1);
    const free = this.targetShape.indexOf(-1);
    if ((free < 0 && known !== n) || (free >= 0 && n % known !== 0)) {
      this.fail('SHAPE_MISMATCH', `cannot reshape an example of shape ${fmtLayerShape(rest)} (${n} values) to ${fmtLayerShape(this.targetShape)}`);
    }
    return [s![0]!, ...this.targetShape.map((d) => (d === -1 ? n / known : d))];
  }
  call([x]: SymbolicTensor[]): SymbolicTensor {
    const out = this.computeOutputShape([x!.shape]);
    return reshape(x!, [-1, ...(out.slice(1) as number[])]);
  }
  protected layerConfig(): LayerConfig {
    return { targetShape: this.targetShape };
  }
}

export { checkShapeArg };
