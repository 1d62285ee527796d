/**
 * matMul of rank > 2 (float32; rank 2 is the contraction kind) as a reduction over a
 * broadcast product: the operands are expanded (views) into a common [..batch, three dims]
 * layout of M, K and N, multiplied with broadcasting, and summed over K in one reduce kernel
 * whose prologue is the product. The layout keeps each operand's own order of its two matrix
 * dims, so a transposed operand needs no copy:
 *   a [M,K], b [K,N]: (M,K,N)    a [K,M], b [K,N]: (K,M,N)    a [M,K], b [N,K]: (M,N,K)
 *   a [K,M], b [N,K]: (N,K,M), then the result [N,M] is read transposed by an elementwise copy.
 */
import type { Decomposition } from './decomposition.js';

const batchMatMul: Decomposition = (node, [a, b0], b) => {
  const ra = a!.shape.length;
  const rb = b0!.shape.length;
  if (a!.dtype !== 'float32' || (ra <= 2 && rb <= 2)) return undefined;
  const tA = node.attrs.transposeA === true;
  const tB = node.attrs.transposeB === true;
  // Positions (from the end, -3..-1) where M, K, N sit, and where each operand gets its new axis.
  const layout = !tA && !tB ? 'MKN' : tA && !tB ? 'KMN' : !tA && tB ? 'MNK' : 'NKM';
  const pos = (d: string) => layout.indexOf(d) - 3;
  const ea = b.op('expandDims', [a!], { axis: ra + 1 + pos('N') });
  const eb = b.op('expandDims', [b0!], { axis: rb + 1 + pos('M') });
  const k = pos('K');
  const prod = b.op('mul', [ea, eb]);
  const rank = prod.shape.length;
  if (layout !== 'NKM') return [b.result('sum', [prod], { axis: [rank + k], keepDims: false })];
  const nm = b.op('sum', [prod], { axis: [rank + k], keepDims: false });
  const perm = [...Array(rank - 1).keys()];
  [perm[rank - 3], perm[rank - 2]] = [rank - 2, rank - 3];
  // identity: an elementwise kernel that reads the transpose as a strided view (or fuses into
  // the consumer), so no transpose routine remains even when the product is fetched.
  return [b.result('identity', [b.op('transpose', [nm], { perm })])];
};

export const batchMatMulDecompositions = { matMul: batchMatMul };
