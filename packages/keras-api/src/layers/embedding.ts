/** Embedding: integer ids [batch, ...] -> rows of a [inputDim, outputDim] table ([batch, ..., outputDim]). */
import { type Initializer, type SymbolicTensor, cast, gather } from '@kiln/graph';
import type { LayerShape } from '../engine/keras-tensor.js';
import { type CallContext, Layer, type LayerArgs, type LayerConfig, type LayerVariable, initializerConfig } from '../engine/layer.js';
import { type Regularizer, type RegularizerIdentifier, getRegularizer } from '../regularizers.js';
import { type InitializerIdentifier, initializerFrom } from './initializer-config.js';

export interface EmbeddingArgs extends LayerArgs {
  inputDim: number;
  outputDim: number;
  embeddingsInitializer?: InitializerIdentifier;
  embeddingsRegularizer?: RegularizerIdentifier | null;
  inputLength?: number;
}

export class Embedding extends Layer {
  readonly className = 'Embedding';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly inputLength: number | undefined;
  private readonly init: Initializer;
  private readonly regularizer: Regularizer | null;
  private embeddings: LayerVariable | null = null;

  constructor(args: EmbeddingArgs) {
    super(args.inputLength !== undefined && !args.inputShape && !args.batchInputShape ? { ...args, inputShape: [args.inputLength] } : args, 'Embedding');
    for (const k of ['inputDim', 'outputDim'] as const) {
      if (!Number.isInteger(args[k]) || args[k] <= 0) this.fail('INVALID_ARGUMENT', `${k} must be a positive integer, got ${String(args[k])}`);
    }
    this.inputDim = args.inputDim;
    this.outputDim = args.outputDim;
    this.inputLength = args.inputLength;
    this.init = initializerFrom(args.embeddingsInitializer ?? { className: 'RandomUniform', config: { minval: -0.05, maxval: 0.05 } });
    this.regularizer = getRegularizer(args.embeddingsRegularizer, `Embedding '${this.name}'`);
  }

  computeOutputShape([s]: LayerShape[]): LayerShape {
    this.expectRank(s!, [1, 7]);
    return [...s!, this.outputDim];
  }

  protected build(): void {
    this.embeddings = this.addWeight('embeddings', [this.inputDim, this.outputDim], this.init, { regularizer: this.regularizer });
  }

  protected outputDType(): 'float32' {
    return 'float32';
  }

  call([x]: SymbolicTensor[], ctx: CallContext): SymbolicTensor {
    const ids = x!.dtype === 'int32' ? x! : cast(x!, 'int32');
    return gather(ctx.variable(this.embeddings!), ids, 0);
  }

  protected layerConfig(): LayerConfig {
    return {
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      inputLength: this.inputLength ?? null,
      embeddingsInitializer: initializerConfig(this.init),
      embeddingsRegularizer: this.regularizer ? { className: 'L1L2', config: this.regularizer.config } : null,
    };
  }
}
