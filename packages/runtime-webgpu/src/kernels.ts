/**
 * From a Program's kernel to generated WGSL: resolves buffers to element offsets in the
 * Program's one storage buffer (reads see a variable's committed slot, writes go to its
 * staging slot) and calls the generator of the kernel's kind. Views need no code; op kernels
 * (routines) are rejected at compile time by the device's routine set.
 */
import { type BufferDecl, type Kernel } from '@kiln/compiler';
import { KilnError } from '@kiln/graph';
import { contractionWgsl } from './codegen/contraction-wgsl.js';
import { elementwiseWgsl } from './codegen/elementwise-wgsl.js';
import { reduceWgsl } from './codegen/reduce-wgsl.js';
import type { GeneratedKernel } from './codegen/wgsl-common.js';

/** Where buffers live: element offsets for reads and for writes. */
export interface Placement {
  readAt(id: number): number;
  writeAt(id: number): number;
}

/** The generated kernel for `k`, or null for a view. */
export function generateKernel(k: Kernel, bufs: readonly BufferDecl[], at: Placement): GeneratedKernel | null {
  const s = k.spec;
  const shape = (id: number) => bufs[id]!.shape;
  const dtype = (id: number) => bufs[id]!.dtype;
  switch (s.kind) {
    case 'view':
      return null;
    case 'elementwise':
      return elementwiseWgsl({
        exprs: s.exprs,
        inShapes: s.inputs.map(shape),
        inDTypes: s.inputs.map(dtype),
        inOffsets: s.inputs.map((id) => at.readAt(id)),
        views: s.inputViews,
        outShape: shape(s.outputs[0]!),
        outDTypes: s.outputs.map(dtype),
        outOffsets: s.outputs.map((id) => at.writeAt(id)),
      });
    case 'reduce':
      return reduceWgsl({
        reducer: s.reducer,
        prologue: s.prologue,
        inShapes: s.inputs.map(shape),
        inDTypes: s.inputs.map(dtype),
        inOffsets: s.inputs.map((id) => at.readAt(id)),
        inShape: s.inShape,
        axes: s.axes,
        epilogue: s.epilogue,
        epiShapes: s.epilogueInputs.map(shape),
        epiDTypes: s.epilogueInputs.map(dtype),
        epiOffsets: s.epilogueInputs.map((id) => at.readAt(id)),
        outShape: shape(s.output),
        outDType: dtype(s.output),
        outOffset: at.writeAt(s.output),
      });
    case 'contraction': {
      const [ar, ac] = shape(s.a) as [number, number];
      const [br, bc] = shape(s.b) as [number, number];
      const m = s.transposeA ? ac : ar;
      const kk = s.transposeA ? ar : ac;
      const n = s.transposeB ? br : bc;
      return contractionWgsl({
        m,
        n,
        k: kk,
        a: { offset: at.readAt(s.a), rowStride: s.transposeA ? 1 : ac, colStride: s.transposeA ? ac : 1 },
        b: { offset: at.readAt(s.b), rowStride: s.transposeB ? 1 : bc, colStride: s.transposeB ? bc : 1 },
        epilogue: s.epilogue,
        epiShapes: s.epilogueInputs.map(shape),
        epiDTypes: s.epilogueInputs.map(dtype),
        epiOffsets: s.epilogueInputs.map((id) => at.readAt(id)),
        outDType: dtype(s.output),
        outOffset: at.writeAt(s.output),
      });
    }
    case 'op':
      throw new KilnError('UNSUPPORTED', `WebGPU device: routine '${s.op}' (node '${s.node}') is not implemented`);
  }
}
