/** Reference kernels: elementwise family. */
import { Tensor, allocData, broadcastShapes, castScalar, stridesOf, sizeOf } from '@kiln/graph';
import { registerRefKernel } from '../registry.js';

/** Applies f to each broadcast pair of elements (NumPy broadcasting). */
export function broadcastBinary(a: Tensor, b: Tensor, outDType: Tensor['dtype'], f: (x: number, y: number) => number): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, 'broadcast') as number[];
  const rank = shape.length;
  const pad = (s: number[]) => [...Array(rank - s.length).fill(1), ...s] as number[];
  const as = pad(a.shape);
  const bs = pad(b.shape);
  const ast = stridesOf(as).map((st, i) => (as[i] === 1 ? 0 : st));
  const bst = stridesOf(bs).map((st, i) => (bs[i] === 1 ? 0 : st));
  const n = sizeOf(shape);
  const out = allocData(outDType, n);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let ai = 0;
    let bi = 0;
    for (let d = 0; d < rank; d++) {
      ai += idx[d]! * ast[d]!;
      bi += idx[d]! * bst[d]!;
    }
    out[i] = castScalar(f(a.data[ai]!, b.data[bi]!), outDType);
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return new Tensor(outDType, shape, out);
}

/** Applies f to each element. */
export function mapUnary(x: Tensor, f: (v: number) => number, outDType: Tensor['dtype'] = x.dtype): Tensor {
  const out = allocData(outDType, x.size);
  for (let i = 0; i < x.size; i++) out[i] = castScalar(f(x.data[i]!), outDType);
  return new Tensor(outDType, x.shape, out);
}

registerRefKernel('add', ([a, b]) => [broadcastBinary(a!, b!, a!.dtype, (x, y) => x + y)]);
registerRefKernel('relu', ([x]) => [mapUnary(x!, (v) => (v > 0 ? v : 0))]);
