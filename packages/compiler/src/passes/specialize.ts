/**
 * Shape specialization: replaces unknown placeholder dims by concrete sizes (from the feeds of
 * a run, or a default) and re-infers every node, so that later stages see static shapes.
 */
import { KilnError, fmtShape } from '@kiln/graph';
import { type GraphWithFetches, KEEP, rewriteGraph } from './rewrite.js';

export function specializeShapes(src: GraphWithFetches, feedShapes: Record<string, readonly number[]>, defaultDim = 1): GraphWithFetches {
  return rewriteGraph(src, (node, ctx) => {
    if (node.op !== 'placeholder') return KEEP;
    const declared = node.attrs.shape as (number | null)[];
    const given = feedShapes[node.name];
    if (given && (given.length !== declared.length || declared.some((d, i) => d !== null && d !== given[i]))) {
      throw new KilnError('SHAPE_MISMATCH', `placeholder '${node.name}': declared ${fmtShape(declared)}, specialized to ${fmtShape(given)}`);
    }
    const shape = given ? [...given] : declared.map((d) => d ?? defaultDim);
    const p = ctx.graph.addNode('placeholder', [], { dtype: node.attrs.dtype, shape }, { name: node.name });
    return { kind: 'replace', outputs: [p.output] };
  });
}
