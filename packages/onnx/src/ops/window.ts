/**
 * Spatial attributes of ONNX Conv/ConvTranspose/pooling nodes (kernel_shape, strides,
 * dilations, pads, auto_pad, output_padding, output_shape), read as 2-D lists. A 1-D node
 * (rank-3 input [N, C, L]) is lifted to 2-D with a height of 1: [N, C, 1, L], so that Kiln's
 * 2-D ops serve both; `lift`/`lower` move tensors in and out of that form.
 */
import { type PadArg, type SymbolicTensor, expandDims, squeeze } from '@kiln/graph';
import type { ConvertContext } from '../context.js';
import { staticDim } from './util.js';

export class Spatial {
  /** True for a 1-D node lifted to 2-D. */
  readonly oneD: boolean;

  constructor(
    private readonly ctx: ConvertContext,
    rank: number,
  ) {
    if (rank !== 3 && rank !== 4) ctx.unsupported(`input of rank ${rank} (only 1-D and 2-D: NCL or NCHW inputs)`);
    this.oneD = rank === 3;
  }

  /** [N, C, L] -> [N, C, 1, L] for a 1-D node (also for OIL weights). */
  lift(t: SymbolicTensor): SymbolicTensor {
    return this.oneD ? expandDims(t, 2) : t;
  }

  /** The inverse of lift. */
  lower(t: SymbolicTensor): SymbolicTensor {
    return this.oneD ? squeeze(t, [2]) : t;
  }

  /** An attribute as an [h, w] pair (1-D: [fill, value]); `dflt` when absent. */
  pair(name: string, fill: number, dflt: number): [number, number] {
    const v = this.ctx.intList(name);
    if (!v) return [dflt, dflt];
    const want = this.oneD ? 1 : 2;
    if (v.length !== want) this.ctx.unsupported(`${name} of length ${v.length} for a ${want}-D node`);
    return this.oneD ? [fill, v[0]!] : [v[0]!, v[1]!];
  }

  /** ONNX pads [top, left, bottom, right] (1-D: [begin, end] lifted), or undefined. */
  pads(): number[] | undefined {
    const v = this.ctx.intList('pads');
    if (!v) return undefined;
    const want = this.oneD ? 2 : 4;
    if (v.length !== want) this.ctx.unsupported(`pads of length ${v.length} for a ${want / 2}-D node`);
    return this.oneD ? [0, v[0]!, 0, v[1]!] : v;
  }

  /** output_shape's spatial dims as [h, w], or undefined. */
  outputShape(): number[] | undefined {
    const v = this.ctx.intList('output_shape');
    if (!v) return undefined;
    const s = v.slice(this.oneD ? -1 : -2);
    return this.oneD ? [1, s[0]!] : s;
  }
}

export interface Window {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  pad: PadArg;
  /** Explicit [top, bottom, left, right] padding (auto_pad resolved), for index arithmetic. */
  padding: [number, number, number, number];
}

/** Resolves strides, dilations and auto_pad/pads of a conv/pool node over lifted NCHW `x`. */
export function resolveWindow(ctx: ConvertContext, sp: Spatial, x: SymbolicTensor, kernel: [number, number]): Window {
  const strides = sp.pair('strides', 1, 1);
  const dilations = sp.pair('dilations', 1, 1);
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  let p: number[][];
  if (autoPad === 'VALID')
    p = [
      [0, 0],
      [0, 0],
    ];
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const hw = [2, 3].map((a) => staticDim(ctx, x, a, `auto_pad ${autoPad}`));
    p = [0, 1].map((i) => {
      const out = Math.ceil(hw[i]! / strides[i]!);
      const total = Math.max((out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - hw[i]!, 0);
      const small = Math.floor(total / 2);
      return autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    });
  } else if (autoPad === 'NOTSET') {
    const pads = sp.pads() ?? [0, 0, 0, 0];
    if (pads.some((v) => v < 0)) ctx.unsupported('negative pads');
    p = [
      [pads[0]!, pads[2]!],
      [pads[1]!, pads[3]!],
    ];
  } else {
    return ctx.unsupported(`auto_pad '${autoPad}'`);
  }
  return {
    kernel,
    strides,
    dilations,
    pad: [[0, 0], p[0]!, p[1]!, [0, 0]],
    padding: [p[0]![0]!, p[0]![1]!, p[1]![0]!, p[1]![1]!],
  };
}
