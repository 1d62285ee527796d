/** The type of a decomposition: an op rewritten into ops that lower to the three kernel kinds. */
import type { Node, SymbolicTensor } from '@kiln/graph';
import type { DecompositionBuilder } from './builder.js';

/**
 * Replaces `node` (its inputs already in the new graph) by nodes built with `b`, returning the
 * replacements of its outputs; undefined keeps the node (a case the decomposition does not
 * cover, e.g. an integer dtype: the op then stays a routine).
 */
export type Decomposition = (node: Node, inputs: SymbolicTensor[], b: DecompositionBuilder) => SymbolicTensor[] | undefined;
