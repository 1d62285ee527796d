/**
 * Convolution op kernels on the WebAssembly engine: for each conv op, how to plan it once per
 * Program (window geometry from the op's attrs, im2col scratch size) and run it on byte
 * offsets in the engine's memory. conv2d and its input/filter gradients and conv2dTranspose
 * are GEMMs over im2col/col2im row blocks, except a conv2d with few input channels, which runs
 * the direct loop (direct-conv.ts); the depthwise ops are direct SIMD loops; maxPool and
 * avgPool run the pooling loop (pool.ts).
 */
import type { BufferDecl, KernelSpec } from '@kiln/compiler';
import { geometry2D } from '@kiln/graph';
import type { GemmEngine } from './wasm/gemm-engine.js';
import { conv2dGemm, conv2dScratchBytes } from './wasm/conv2d.js';
import {
  conv2dBackpropFilterGemm,
  conv2dBackpropFilterScratchBytes,
  conv2dBackpropInputGemm,
  conv2dBackpropInputScratchBytes,
  conv2dTransposeGemm,
  conv2dTransposeScratchBytes,
} from './wasm/conv2d-backprop.js';
import { depthwiseConv2dBackpropFilterDirect, depthwiseConv2dBackpropInputDirect, depthwiseConv2dDirect } from './wasm/depthwise.js';
import { directConv2d, directConvPays } from './wasm/direct-conv.js';
import { pool2d } from './wasm/pool.js';

type Shape4 = [number, number, number, number];

export interface ConvKernel {
  scratchBytes: number;
  /** ins: byte offsets of the op's inputs; out: of its output; scratch: of the workspace. */
  run(engine: GemmEngine, ins: number[], out: number, scratch: number): void;
}

/** The engine kernel for a conv op kernel, or undefined (the reference kernel runs). */
export function planConv(s: KernelSpec, bufs: readonly BufferDecl[]): ConvKernel | undefined {
  if (s.kind !== 'op' || s.outputs.length !== 1 || s.inputs.some((i) => bufs[i]!.dtype !== 'float32')) return undefined;
  const shape = (i: number) => bufs[i]!.shape as Shape4;
  const outShape = shape(s.outputs[0]!);
  const win = (xShape: Shape4, f: Shape4) => {
    const g = geometry2D(xShape, f[0], f[1], s.attrs, `${s.op} '${s.node}'`);
    return {
      strides: [g.strideH, g.strideW] as [number, number],
      dilations: [g.dilationH, g.dilationW] as [number, number],
      padTop: g.padTop,
      padLeft: g.padLeft,
    };
  };
  switch (s.op) {
    case 'conv2d': {
      const [xShape, filterShape] = [shape(s.inputs[0]!), shape(s.inputs[1]!)];
      const w = win(xShape, filterShape);
      if (directConvPays(xShape, filterShape)) {
        return { scratchBytes: 0, run: (e, [x, filter], out) => directConv2d(e, { ...w, x: x!, xShape, filter: filter!, filterShape, out, outShape }) };
      }
      const scratchBytes = conv2dScratchBytes(xShape, filterShape, outShape, w.strides, w.dilations);
      return {
        scratchBytes,
        run: (e, [x, filter], out, scratch) => conv2dGemm(e, { ...w, x: x!, xShape, filter: filter!, filterShape, out, outShape, scratch, scratchBytes }),
      };
    }
    case 'conv2dBackpropInput': {
      const [xShape, filterShape, dyShape] = [shape(s.inputs[0]!), shape(s.inputs[1]!), shape(s.inputs[2]!)];
      const w = win(xShape, filterShape);
      const scratchBytes = conv2dBackpropInputScratchBytes(xShape, filterShape, dyShape, w.strides, w.dilations);
      return {
        scratchBytes,
        run: (e, [, filter, dy], out, scratch) =>
          conv2dBackpropInputGemm(e, { ...w, dy: dy!, dyShape, filter: filter!, filterShape, dx: out, xShape, scratch, scratchBytes }),
      };
    }
    case 'conv2dBackpropFilter': {
      const [xShape, filterShape, dyShape] = [shape(s.inputs[0]!), shape(s.inputs[1]!), shape(s.inputs[2]!)];
      const w = win(xShape, filterShape);
      const scratchBytes = conv2dBackpropFilterScratchBytes(xShape, filterShape, dyShape, w.strides, w.dilations);
      return {
        scratchBytes,
        run: (e, [x, , dy], out, scratch) =>
          conv2dBackpropFilterGemm(e, { ...w, x: x!, xShape, dy: dy!, dyShape, dFilter: out, filterShape, scratch, scratchBytes }),
      };
    }
    case 'conv2dTranspose': {
      const [xShape, filterShape] = [shape(s.inputs[0]!), shape(s.inputs[1]!)];
      const w = win(outShape, filterShape);
      if (w.dilations[0] !== 1 || w.dilations[1] !== 1) return undefined;
      const scratchBytes = conv2dTransposeScratchBytes(xShape, filterShape, outShape, w.strides);
      return {
        scratchBytes,
        run: (e, [x, filter], out, scratch) =>
          conv2dTransposeGemm(e, {
            x: x!,
            xShape,
            filter: filter!,
            filterShape,
            out,
            outShape,
            strides: w.strides,
            padTop: w.padTop,
            padLeft: w.padLeft,
            scratch,
            scratchBytes,
          }),
      };
    }
    case 'depthwiseConv2d': {
      const [xShape, filterShape] = [shape(s.inputs[0]!), shape(s.inputs[1]!)];
      const w = win(xShape, filterShape);
      return { scratchBytes: 0, run: (e, [x, filter], out) => depthwiseConv2dDirect(e, { ...w, x: x!, xShape, filter: filter!, filterShape, out, outShape }) };
    }
    case 'depthwiseConv2dBackpropInput': {
      const [xShape, filterShape, dyShape] = [shape(s.inputs[0]!), shape(s.inputs[1]!), shape(s.inputs[2]!)];
      const w = win(xShape, filterShape);
      return {
        scratchBytes: 0,
        run: (e, [, filter, dy], out) => depthwiseConv2dBackpropInputDirect(e, { ...w, dy: dy!, dyShape, filter: filter!, filterShape, dx: out, xShape }),
      };
    }
    case 'depthwiseConv2dBackpropFilter': {
      const [xShape, filterShape, dyShape] = [shape(s.inputs[0]!), shape(s.inputs[1]!), shape(s.inputs[2]!)];
      const w = win(xShape, filterShape);
      return {
        scratchBytes: 0,
        run: (e, [x, , dy], out) => depthwiseConv2dBackpropFilterDirect(e, { ...w, x: x!, xShape, dy: dy!, dyShape, dFilter: out, filterShape }),
      };
    }
    case 'maxPool':
    case 'avgPool': {
      const xShape = shape(s.inputs[0]!);
      if (xShape.length !== 4 || outShape.length !== 4) return undefined;
      const [kh, kw] = s.attrs.filterSize as [number, number];
      const geometry = geometry2D(xShape, kh, kw, s.attrs, `${s.op} '${s.node}'`);
      if (outShape[0] !== geometry.batch || outShape[1] !== geometry.outH || outShape[2] !== geometry.outW || outShape[3] !== xShape[3]) return undefined;
      const mode = s.op === 'maxPool' ? 'max' : 'avg';
      const countIncludePad = s.attrs.countIncludePad === true;
      return { scratchBytes: 0, run: (e, [x], out) => pool2d(e, { mode, countIncludePad, x: x!, out, c: xShape[3], geometry }) };
    }
    default:
      return undefined;
  }
}
