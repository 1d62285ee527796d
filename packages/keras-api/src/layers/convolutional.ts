/**
 * Convolution and pooling layers over NHWC images (channelsLast, TensorFlow's layout):
 * Conv2D, MaxPooling2D, AveragePooling2D and GlobalAveragePooling2D.
 */
import { type Initializer, type SymbolicTensor, add, avgPool, conv2d, maxPool, mean } from '@kiln/graph';
import { type ActivationIdentifier, applyActivation, checkActivation } from '../activations.js';
import { type LayerShape, fmtLayerShape } from '../engine/keras-tensor.js';
import { type CallContext, Layer, type LayerArgs, type LayerConfig, type LayerVariable, initializerConfig } from '../engine/layer.js';
import { type Regularizer, type RegularizerIdentifier, getRegularizer } from '../regularizers.js';
import { type InitializerIdentifier, initializerFrom } from './initializer-config.js';

export type Padding = 'valid' | 'same';

function pair(layer: Layer, name: string, v: number | number[] | undefined, dflt: [number, number]): [number, number] {
  if (v === undefined) return dflt;
  const p = typeof v === 'number' ? [v, v] : v;
  if (p.length !== 2 || p.some((d) => !Number.isInteger(d) || d <= 0))
    layer.fail('INVALID_ARGUMENT', `${name} must be a positive integer or a pair of them, got ${JSON.stringify(v)}`);
  return [p[0]!, p[1]!];
}

function checkPadding(layer: Layer, p: unknown): Padding {
  if (p === undefined) return 'valid';
  if (p !== 'valid' && p !== 'same') layer.fail('INVALID_ARGUMENT', `padding must be 'valid' or 'same', got ${JSON.stringify(p)}`);
  return p;
}

/** Output size of one spatial dim (TensorFlow's rule). */
function outSize(n: number | null, k: number, s: number, d: number, padding: Padding): number | null {
  if (n === null) return null;
  if (padding === 'same') return Math.ceil(n / s);
  return Math.floor((n - (k - 1) * d - 1) / s) + 1;
}

function spatialOut(
  layer: Layer,
  s: LayerShape,
  k: [number, number],
  st: [number, number],
  dil: [number, number],
  padding: Padding,
): [number | null, number | null] {
  const h = outSize(s[1]!, k[0], st[0], dil[0], padding);
  const w = outSize(s[2]!, k[1], st[1], dil[1], padding);
  if ((h !== null && h <= 0) || (w !== null && w <= 0)) {
    layer.fail('SHAPE_MISMATCH', `a ${k[0]}x${k[1]} window with '${padding}' padding does not fit the input ${fmtLayerShape(s)}`);
  }
  return [h, w];
}

export interface Conv2DArgs extends LayerArgs {
  filters: number;
  kernelSize: number | number[];
  strides?: number | number[];
  padding?: Padding;
  dilationRate?: number | number[];
  activation?: ActivationIdentifier;
  useBias?: boolean;
  kernelInitializer?: InitializerIdentifier;
  biasInitializer?: InitializerIdentifier;
  kernelRegularizer?: RegularizerIdentifier | null;
  biasRegularizer?: RegularizerIdentifier | null;
  dataFormat?: 'channelsLast';
}

/** Conv2D: activation(conv2d(x, kernel [kh, kw, in, filters]) + bias). */
export class Conv2D extends Layer {
  readonly className = 'Conv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  readonly dilationRate: [number, number];
  readonly activation: ActivationIdentifier;
  readonly useBias: boolean;
  private readonly kernelInitializer: Initializer;
  private readonly biasInitializer: Initializer;
  private readonly kernelRegularizer: Regularizer | null;
  private readonly biasRegularizer: Regularizer | null;
  private kernel: LayerVariable | null = null;
  private bias: LayerVariable | null = null;

  constructor(args: Conv2DArgs) {
    super(args, 'Conv2D');
    if (!Number.isInteger(args.filters) || args.filters <= 0) this.fail('INVALID_ARGUMENT', `filters must be a positive integer, got ${String(args.filters)}`);
    if (args.dataFormat !== undefined && args.dataFormat !== 'channelsLast')
      this.fail('UNSUPPORTED', `only dataFormat 'channelsLast' (NHWC) is supported, got '${String(args.dataFormat)}'`);
    this.filters = args.filters;
    this.kernelSize = pair(this, 'kernelSize', args.kernelSize, [1, 1]);
    this.strides = pair(this, 'strides', args.strides, [1, 1]);
    this.dilationRate = pair(this, 'dilationRate', args.dilationRate, [1, 1]);
    this.padding = checkPadding(this, args.padding);
    this.activation = checkActivation(args.activation, `Conv2D '${this.name}'`);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = initializerFrom(args.kernelInitializer ?? 'glorotUniform');
    this.biasInitializer = initializerFrom(args.biasInitializer ?? 'zeros');
    this.kernelRegularizer = getRegularizer(args.kernelRegularizer, `Conv2D '${this.name}'`);
    this.biasRegularizer = getRegularizer(args.biasRegularizer, `Conv2D '${this.name}'`);
  }

  computeOutputShape([s]: LayerShape[]): LayerShape {
    this.expectRank(s!, 4, 'input [batch, height, width, channels]');
    const c = this.knownDim(s!, 3, 'channel');
    if (this.kernel && c !== this.kernel.shape[2]) this.fail('SHAPE_MISMATCH', `expected ${this.kernel.shape[2]} input channels, got ${fmtLayerShape(s!)}`);
    const [h, w] = spatialOut(this, s!, this.kernelSize, this.strides, this.dilationRate, this.padding);
    return [s![0]!, h, w, this.filters];
  }

  protected build([s]: LayerShape[]): void {
    const shape = [this.kernelSize[0], this.kernelSize[1], s![3]!, this.filters];
    this.kernel = this.addWeight('kernel', shape, this.kernelInitializer, { regularizer: this.kernelRegularizer });
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], this.biasInitializer, { regularizer: this.biasRegularizer });
  }

  call([x]: SymbolicTensor[], ctx: CallContext): SymbolicTensor {
    let y = conv2d(x!, ctx.variable(this.kernel!), this.strides, this.padding, 'NHWC', this.dilationRate);
    if (this.bias) y = add(y, ctx.variable(this.bias));
    return applyActivation(this.activation, y);
  }

  protected layerConfig(): LayerConfig {
    return {
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
      activation: this.activation,
      useBias: this.useBias,
      kernelInitializer: initializerConfig(this.kernelInitializer),
      biasInitializer: initializerConfig(this.biasInitializer),
      kernelRegularizer: this.kernelRegularizer ? { className: 'L1L2', config: this.kernelRegularizer.config } : null,
      biasRegularizer: this.biasRegularizer ? { className: 'L1L2', config: this.biasRegularizer.config } : null,
    };
  }
}

export interface Pooling2DArgs extends LayerArgs {
  poolSize?: number | number[];
  strides?: number | number[];
  padding?: Padding;
}

abstract class Pooling2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  constructor(args: Pooling2DArgs, className: string) {
    super(args, className);
    this.poolSize = pair(this, 'poolSize', args.poolSize, [2, 2]);
    this.strides = pair(this, 'strides', args.strides ?? undefined, this.poolSize);
    this.padding = checkPadding(this, args.padding);
  }
  computeOutputShape([s]: LayerShape[]): LayerShape {
    this.expectRank(s!, 4, 'input [batch, height, width, channels]');
    const [h, w] = spatialOut(this, s!, this.poolSize, this.strides, [1, 1], this.padding);
    return [s![0]!, h, w, s![3]!];
  }
  protected layerConfig(): LayerConfig {
    return { poolSize: this.poolSize, strides: this.strides, padding: this.padding };
  }
}

/** MaxPooling2D: the maximum over each window. */
export class MaxPooling2D extends Pooling2D {
  readonly className = 'MaxPooling2D';
  constructor(args: Pooling2DArgs = {}) {
    super(args, 'MaxPooling2D');
  }
  call([x]: SymbolicTensor[]): SymbolicTensor {
    return maxPool(x!, this.poolSize, this.strides, this.padding);
  }
}

/** AveragePooling2D: the mean over each window (padding not counted). */
export class AveragePooling2D extends Pooling2D {
  readonly className = 'AveragePooling2D';
  constructor(args: Pooling2DArgs = {}) {
    super(args, 'AveragePooling2D');
  }
  call([x]: SymbolicTensor[]): SymbolicTensor {
    return avgPool(x!, this.poolSize, this.strides, this.padding);
  }
}

/** GlobalAveragePooling2D: [batch, h, w, c] -> [batch, c], the mean over h and w. */
export class GlobalAveragePooling2D extends Layer {
  readonly className = 'GlobalAveragePooling2D';
  constructor(args: LayerArgs = {}) {
    super(args, 'GlobalAveragePooling2D');
  }
  computeOutputShape([s]: LayerShape[]): LayerShape {
    this.expectRank(s!, 4, 'input [batch, height, width, channels]');
    return [s![0]!, s![3]!];
  }
  call([x]: SymbolicTensor[]): SymbolicTensor {
    return mean(x!, [1, 2]);
  }
  protected layerConfig(): LayerConfig {
    return {};
  }
}
