/**
 * Building a decomposition: nodes added to the rewritten graph under the name of the node they
 * replace. Intermediates live under `<name>/lowered`, so their generated names cannot take the
 * name of an original node copied later; the result takes the original node's name, so error
 * messages and checkNumerics still name the user's node.
 */
import { type Attrs, type DType, type Graph, type SymbolicTensor, Tensor, allocData } from '@kiln/graph';

export class DecompositionBuilder {
  constructor(
    private readonly graph: Graph,
    private readonly name: string,
  ) {}

  /** An intermediate node's (first) output. */
  op(op: string, inputs: SymbolicTensor[], attrs: Attrs = {}): SymbolicTensor {
    return this.graph.addNode(op, inputs, { ...attrs }, { baseName: `${this.name}/lowered` }).output;
  }

  /** The node that replaces the original: it takes the original's name. */
  result(op: string, inputs: SymbolicTensor[], attrs: Attrs = {}): SymbolicTensor {
    return this.graph.addNode(op, inputs, { ...attrs }, { baseName: this.name }).output;
  }

  constant(value: Tensor): SymbolicTensor {
    return this.op('const', [], { value });
  }

  scalar(v: number, dtype: DType = 'float32'): SymbolicTensor {
    const data = allocData(dtype, 1);
    data[0] = v;
    return this.constant(new Tensor(dtype, [], data));
  }

  /** 0, 1, ..., n-1 (float32) laid along `axis` of a rank-`rank` tensor (size 1 elsewhere). */
  iota(n: number, axis: number, rank: number, dtype: DType = 'float32'): SymbolicTensor {
    const data = allocData(dtype, n);
    for (let i = 0; i < n; i++) data[i] = i;
    const shape = Array.from({ length: rank }, (_, d) => (d === axis ? n : 1));
    return this.constant(new Tensor(dtype, shape, data));
  }
}
