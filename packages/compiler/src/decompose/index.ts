/**
 * Routine decomposition: the compile step that rewrites composite ops (softmax, normalization,
 * argMax, cumsum, tile, oneHot, batched matMul, non-overlapping pooling, ...) into ops that
 * lower to the elementwise, reduce and contraction kernel kinds, so that no backend needs
 * them as hand-written kernels. It runs after the graph passes, on the shape-specialized
 * graph; what it leaves are routines (routines/routines.ts), which a backend implements whole.
 */
import { KilnError, fmtShape, getOp, shapesEqual } from '@kiln/graph';
import { type GraphWithFetches, KEEP, rewriteGraph } from '../passes/rewrite.js';
import { DecompositionBuilder } from './builder.js';
import type { Decomposition } from './decomposition.js';
import { argReduceDecompositions } from './arg-reduce.js';
import { batchMatMulDecompositions } from './batch-matmul.js';
import { cumsumDecompositions } from './cumsum.js';
import { movementDecompositions } from './movement.js';
import { normalizationDecompositions } from './normalization.js';
import { poolDecompositions } from './pool.js';
import { softmaxDecompositions } from './softmax.js';

/** Per op, how it is decomposed (ops without an entry, and cases an entry declines, are routines). */
export const DECOMPOSITIONS: Readonly<Record<string, Decomposition>> = {
  ...softmaxDecompositions,
  ...normalizationDecompositions,
  ...argReduceDecompositions,
  ...cumsumDecompositions,
  ...movementDecompositions,
  ...batchMatMulDecompositions,
  ...poolDecompositions,
};

/**
 * Ops whose routine is faster than their decomposition where a device has it (the CPU's
 * pooling kernel is ~15x faster than the generated reduction over the window axes): they are
 * decomposed only for a device that lacks the routine.
 */
export const ROUTINE_PREFERRED: ReadonlySet<string> = new Set(['maxPool', 'avgPool']);

/**
 * Decomposes every op in DECOMPOSITIONS, except a ROUTINE_PREFERRED op when the target's
 * `routines` include it (no `routines`: a target with every routine).
 */
export function decomposeRoutines(src: GraphWithFetches, routines?: ReadonlySet<string>): GraphWithFetches {
  return rewriteGraph(src, (node, ctx) => {
    const d = DECOMPOSITIONS[node.op];
    if (!d || getOp(node.op).stateful || node.controlInputs.length > 0) return KEEP;
    if (ROUTINE_PREFERRED.has(node.op) && (!routines || routines.has(node.op))) return KEEP;
    if (!node.outputs.every((o) => o.shape.every((dim) => dim !== null))) return KEEP;
    const outs = d(node, ctx.inputs, new DecompositionBuilder(ctx.graph, node.name));
    if (!outs) return KEEP;
    // A decomposition must give exactly the node's outputs.
    outs.forEach((o, i) => {
      const want = node.outputs[i]!;
      if (o.dtype !== want.dtype || !shapesEqual(o.shape, want.shape)) {
        throw new KilnError(
          'INTERNAL',
          `decompose ${node.op} '${node.name}': gave ${o.dtype}${fmtShape(o.shape)} for output ${i}, expected ${want.dtype}${fmtShape(want.shape)}`,
        );
      }
    });
    return { kind: 'replace', outputs: outs };
  });
}
