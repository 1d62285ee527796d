/**
 * Recurrent layers LSTM and GRU, unrolled over the (static) sequence length: the input
 * projection x . kernel is one matMul over every time step; each step then adds h . recurrent
 * kernel and applies the gates. The state starts at zero, so step 0 skips the recurrent terms.
 * Gate order and formulas follow Keras (LSTM: i, f, c, o; GRU: z, r, h with the reset gate
 * applied before the recurrent product, TensorFlow.js' GRU).
 */
import { type Initializer, type SymbolicTensor, add, matMul, mul, reshape, slice, split, stack, sub } from '@kiln/graph';
import { type ActivationIdentifier, applyActivation, checkActivation } from '../activations.js';
import type { LayerShape } from '../engine/keras-tensor.js';
import { type CallContext, Layer, type LayerArgs, type LayerConfig, type LayerVariable, initializerConfig } from '../engine/layer.js';
import { type Regularizer, type RegularizerIdentifier, getRegularizer } from '../regularizers.js';
import { type InitializerIdentifier, initializerFrom } from './initializer-config.js';
import { Tensor } from '@kiln/graph';

export interface RNNArgs extends LayerArgs {
  units: number;
  activation?: ActivationIdentifier;
  recurrentActivation?: ActivationIdentifier;
  useBias?: boolean;
  returnSequences?: boolean;
  kernelInitializer?: InitializerIdentifier;
  recurrentInitializer?: InitializerIdentifier;
  biasInitializer?: InitializerIdentifier;
  kernelRegularizer?: RegularizerIdentifier | null;
  recurrentRegularizer?: RegularizerIdentifier | null;
  biasRegularizer?: RegularizerIdentifier | null;
}

export interface LSTMArgs extends RNNArgs {
  /** Start the forget gate's bias at 1 (default true). */
  unitForgetBias?: boolean;
}

abstract class UnrolledRNN extends Layer {
  readonly units: number;
  readonly activation: ActivationIdentifier;
  readonly recurrentActivation: ActivationIdentifier;
  readonly useBias: boolean;
  readonly returnSequences: boolean;
  protected readonly inits: { kernel: Initializer; recurrent: Initializer; bias: Initializer };
  protected readonly regs: { kernel: Regularizer | null; recurrent: Regularizer | null; bias: Regularizer | null };
  protected kernel: LayerVariable | null = null;
  protected recurrentKernel: LayerVariable | null = null;
  protected bias: LayerVariable | null = null;
  /** Gates per step (4 for LSTM, 3 for GRU). */
  protected abstract readonly gates: number;

  constructor(args: RNNArgs, className: string) {
    super(args, className);
    if (!Number.isInteger(args.units) || args.units <= 0) this.fail('INVALID_ARGUMENT', `units must be a positive integer, got ${String(args.units)}`);
    const what = `${className} '${this.name}'`;
    this.units = args.units;
    this.activation = checkActivation(args.activation ?? 'tanh', what);
    this.recurrentActivation = checkActivation(args.recurrentActivation ?? 'sigmoid', what);
    this.useBias = args.useBias ?? true;
    this.returnSequences = args.returnSequences ?? false;
    this.inits = {
      kernel: initializerFrom(args.kernelInitializer ?? 'glorotUniform'),
      recurrent: initializerFrom(args.recurrentInitializer ?? 'orthogonal'),
      bias: initializerFrom(args.biasInitializer ?? 'zeros'),
    };
    this.regs = {
      kernel: getRegularizer(args.kernelRegularizer, what),
      recurrent: getRegularizer(args.recurrentRegularizer, what),
      bias: getRegularizer(args.biasRegularizer, what),
    };
  }

  computeOutputShape([s]: LayerShape[]): LayerShape {
    this.expectRank(s!, 3, 'input [batch, timesteps, features]');
    this.knownDim(s!, 1, 'timesteps (the sequence is unrolled)');
    this.knownDim(s!, 2, 'features');
    return this.returnSequences ? [s![0]!, s![1]!, this.units] : [s![0]!, this.units];
  }

  protected build([s]: LayerShape[]): void {
    const n = this.gates * this.units;
    this.kernel = this.addWeight('kernel', [s![2]!, n], this.inits.kernel, { regularizer: this.regs.kernel });
    this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, n], this.inits.recurrent, { regularizer: this.regs.recurrent });
    if (this.useBias) {
      this.bias = this.addWeight('bias', [n], this.inits.bias, { regularizer: this.regs.bias });
      this.adjustBias(this.bias.value);
    }
  }

  /** LSTM's unit forget bias. */
  protected adjustBias(_bias: Tensor): void {}

  /** x . kernel + bias for every step: [batch, timesteps, gates * units], then one slice per step. */
  protected projectedSteps(x: SymbolicTensor, ctx: CallContext): SymbolicTensor[] {
    const [t, f] = [x.shape[1] as number, x.shape[2] as number];
    const n = this.gates * this.units;
    let xw = matMul(reshape(x, [-1, f]), ctx.variable(this.kernel!));
    if (this.bias) xw = add(xw, ctx.variable(this.bias));
    const seq = reshape(xw, [-1, t, n]);
    return [...Array(t).keys()].map((i) => reshape(slice(seq, [0, i, 0], [-1, 1, n]), [-1, n]));
  }

  protected output(hs: SymbolicTensor[]): SymbolicTensor {
    return this.returnSequences ? stack(hs, 1) : hs[hs.length - 1]!;
  }

  protected act(x: SymbolicTensor): SymbolicTensor {
    return applyActivation(this.activation, x);
  }
  protected gate(x: SymbolicTensor): SymbolicTensor {
    return applyActivation(this.recurrentActivation, x);
  }

  protected baseConfig(): LayerConfig {
    const reg = (r: Regularizer | null) => (r ? { className: 'L1L2', config: r.config } : null);
    return {
      units: this.units,
      activation: this.activation,
      recurrentActivation: this.recurrentActivation,
      useBias: this.useBias,
      returnSequences: this.returnSequences,
      kernelInitializer: initializerConfig(this.inits.kernel),
      recurrentInitializer: initializerConfig(this.inits.recurrent),
      biasInitializer: initializerConfig(this.inits.bias),
      kernelRegularizer: reg(this.regs.kernel),
      recurrentRegularizer: reg(this.regs.recurrent),
      biasRegularizer: reg(this.regs.bias),
    };
  }
}

/** LSTM: i, f, o = σ(.), c' = tanh(.); c = f*c + i*c'; h = o*tanh(c). */
export class LSTM extends UnrolledRNN {
  readonly className = 'LSTM';
  protected readonly gates = 4;
  readonly unitForgetBias: boolean;
  constructor(args: LSTMArgs) {
    super(args, 'LSTM');
    this.unitForgetBias = args.unitForgetBias ?? true;
  }
  protected adjustBias(bias: Tensor): void {
    if (this.unitForgetBias) for (let i = this.units; i < 2 * this.units; i++) bias.data[i] = 1;
  }
  call([x]: SymbolicTensor[], ctx: CallContext): SymbolicTensor {
    const u = ctx.variable(this.recurrentKernel!);
    const hs: SymbolicTensor[] = [];
    let h: SymbolicTensor | null = null;
    let c: SymbolicTensor | null = null;
    for (const xw of this.projectedSteps(x!, ctx)) {
      const z = h ? add(xw, matMul(h, u)) : xw;
      const [zi, zf, zc, zo] = split(z, 4, -1) as [SymbolicTensor, SymbolicTensor, SymbolicTensor, SymbolicTensor];
      const ic = mul(this.gate(zi), this.act(zc));
      c = c ? add(mul(this.gate(zf), c), ic) : ic;
      h = mul(this.gate(zo), this.act(c));
      hs.push(h);
    }
    return this.output(hs);
  }
  protected layerConfig(): LayerConfig {
    return { ...this.baseConfig(), unitForgetBias: this.unitForgetBias };
  }
}

/** GRU: z, r = σ(.); h' = tanh(x.Wh + (r*h).Uh + bh); h = z*h + (1-z)*h'. */
export class GRU extends UnrolledRNN {
  readonly className = 'GRU';
  protected readonly gates = 3;
  constructor(args: RNNArgs) {
    super(args, 'GRU');
  }
  call([x]: SymbolicTensor[], ctx: CallContext): SymbolicTensor {
    const n = this.units;
    const u = ctx.variable(this.recurrentKernel!);
    const uzr = slice(u, [0, 0], [n, 2 * n]);
    const uh = slice(u, [0, 2 * n], [n, n]);
    const hs: SymbolicTensor[] = [];
    let h: SymbolicTensor | null = null;
    for (const xw of this.projectedSteps(x!, ctx)) {
      const [xz, xr, xh] = split(xw, 3, -1) as [SymbolicTensor, SymbolicTensor, SymbolicTensor];
      if (!h) {
        h = mul(sub(1, this.gate(xz)), this.act(xh));
      } else {
        const [hz, hr] = split(matMul(h, uzr), 2, -1) as [SymbolicTensor, SymbolicTensor];
        const z = this.gate(add(xz, hz));
        const r = this.gate(add(xr, hr));
        const hh = this.act(add(xh, matMul(mul(r, h), uh)));
        h = add(mul(z, h), mul(sub(1, z), hh));
      }
      hs.push(h);
    }
    return this.output(hs);
  }
  protected layerConfig(): LayerConfig {
    return this.baseConfig();
  }
}
