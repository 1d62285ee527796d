/**
 * Normalization layers. BatchNormalization normalizes with the batch's statistics in training
 * and with its moving averages in inference; each training step also updates the moving
 * averages (moving = momentum * moving + (1 - momentum) * batch), as Keras does.
 * LayerNormalization normalizes each example over its last axis.
 */
import { type Initializer, type SymbolicTensor, add, assign, batchNorm, layerNorm, mean, mul, square, sub } from '@kiln/graph';
import { type LayerShape, fmtLayerShape } from '../engine/keras-tensor.js';
import { type CallContext, Layer, type LayerArgs, type LayerConfig, type LayerVariable, initializerConfig } from '../engine/layer.js';
import { type InitializerIdentifier, initializerFrom } from './initializer-config.js';

export interface BatchNormalizationArgs extends LayerArgs {
  axis?: number;
  momentum?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: InitializerIdentifier;
  gammaInitializer?: InitializerIdentifier;
  movingMeanInitializer?: InitializerIdentifier;
  movingVarianceInitializer?: InitializerIdentifier;
}

function checkLastAxis(layer: Layer, axis: number | undefined, s: LayerShape): number {
  const a = axis ?? -1;
  const r = s.length;
  if (a !== -1 && a !== r - 1) layer.fail('UNSUPPORTED', `only the last axis (-1) can be normalized, got axis ${a} for input ${fmtLayerShape(s)}`);
  const c = s[r - 1];
  if (c === null || c === undefined) layer.fail('SHAPE_MISMATCH', `the last dim of the input must be known, got ${fmtLayerShape(s)}`);
  return c;
}

export class BatchNormalization extends Layer {
  readonly className = 'BatchNormalization';
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private readonly inits: Record<'beta' | 'gamma' | 'movingMean' | 'movingVariance', Initializer>;
  private gamma: LayerVariable | null = null;
  private beta: LayerVariable | null = null;
  private movingMean: LayerVariable | null = null;
  private movingVariance: LayerVariable | null = null;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args, 'BatchNormalization');
    this.axis = args.axis ?? -1;
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    if (!(this.momentum >= 0 && this.momentum <= 1)) this.fail('INVALID_ARGUMENT', `momentum must be in [0, 1], got ${this.momentum}`);
    if (!(this.epsilon > 0)) this.fail('INVALID_ARGUMENT', `epsilon must be > 0, got ${this.epsilon}`);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.inits = {
      beta: initializerFrom(args.betaInitializer ?? 'zeros'),
      gamma: initializerFrom(args.gammaInitializer ?? 'ones'),
      movingMean: initializerFrom(args.movingMeanInitializer ?? 'zeros'),
      movingVariance: initializerFrom(args.movingVarianceInitializer ?? 'ones'),
    };
  }

  computeOutputShape([s]: LayerShape[]): LayerShape {
    this.expectRank(s!, [2, 8]);
    checkLastAxis(this, this.axis, s!);
    return [...s!];
  }

  protected build([s]: LayerShape[]): void {
    const c = checkLastAxis(this, this.axis, s!);
    if (this.scale) this.gamma = this.addWeight('gamma', [c], this.inits.gamma);
    if (this.center) this.beta = this.addWeight('beta', [c], this.inits.beta);
    this.movingMean = this.addWeight('moving_mean', [c], this.inits.movingMean, { trainable: false });
    this.movingVariance = this.addWeight('moving_variance', [c], this.inits.movingVariance, { trainable: false });
  }

  call([x]: SymbolicTensor[], ctx: CallContext): SymbolicTensor {
    const gamma = this.gamma ? ctx.variable(this.gamma) : null;
    const beta = this.beta ? ctx.variable(this.beta) : null;
    const mm = ctx.variable(this.movingMean!);
    const mv = ctx.variable(this.movingVariance!);
    if (!ctx.training) return batchNorm(x!, mm, mv, beta, gamma, this.epsilon);
    const axes = [...Array(x!.shape.length - 1).keys()];
    const m = mean(x!, axes);
    const v = mean(square(sub(x!, m)), axes);
    const decay = 1 - this.momentum;
    ctx.addUpdate(assign(mm, add(mul(mm, this.momentum), mul(m, decay))));
    ctx.addUpdate(assign(mv, add(mul(mv, this.momentum), mul(v, decay))));
    return batchNorm(x!, m, v, beta, gamma, this.epsilon);
  }

  protected layerConfig(): LayerConfig {
    return {
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      betaInitializer: initializerConfig(this.inits.beta),
      gammaInitializer: initializerConfig(this.inits.gamma),
      movingMeanInitializer: initializerConfig(this.inits.movingMean),
      movingVarianceInitializer: initializerConfig(this.inits.movingVariance),
    };
  }
}

export interface LayerNormalizationArgs extends LayerArgs {
  axis?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: InitializerIdentifier;
  gammaInitializer?: InitializerIdentifier;
}

export class LayerNormalization extends Layer {
  readonly className = 'LayerNormalization';
  readonly axis: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private readonly betaInit: Initializer;
  private readonly gammaInit: Initializer;
  private gamma: LayerVariable | null = null;
  private beta: LayerVariable | null = null;

  constructor(args: LayerNormalizationArgs = {}) {
    super(args, 'LayerNormalization');
    this.axis = args.axis ?? -1;
    this.epsilon = args.epsilon ?? 1e-3;
    if (!(this.epsilon > 0)) this.fail('INVALID_ARGUMENT', `epsilon must be > 0, got ${this.epsilon}`);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.betaInit = initializerFrom(args.betaInitializer ?? 'zeros');
    this.gammaInit = initializerFrom(args.gammaInitializer ?? 'ones');
  }

  computeOutputShape([s]: LayerShape[]): LayerShape {
    this.expectRank(s!, [2, 8]);
    checkLastAxis(this, this.axis, s!);
    return [...s!];
  }

  protected build([s]: LayerShape[]): void {
    const c = checkLastAxis(this, this.axis, s!);
    if (this.scale) this.gamma = this.addWeight('gamma', [c], this.gammaInit);
    if (this.center) this.beta = this.addWeight('beta', [c], this.betaInit);
  }

  call([x]: SymbolicTensor[], ctx: CallContext): SymbolicTensor {
    return layerNorm(x!, this.gamma ? ctx.variable(this.gamma) : null, this.beta ? ctx.variable(this.beta) : null, -1, this.epsilon);
  }

  protected layerConfig(): LayerConfig {
    return {
      axis: this.axis,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      betaInitializer: initializerConfig(this.betaInit),
      gammaInitializer: initializerConfig(this.gammaInit),
    };
  }
}
