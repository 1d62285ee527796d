/** Reference kernels: compare family (comparisons, logical ops, where). */
import { Tensor, allocData, broadcastShapes, castScalar, sizeOf, stridesOf } from '@kiln/graph';
import { registerRefKernel } from '../registry.js';
import { broadcastBinary, mapUnary } from './elementwise.js';

const b01 = (v: boolean): number => (v ? 1 : 0);

function compare(op: string, f: (x: number, y: number) => boolean): void {
  registerRefKernel(op, ([a, b]) => [broadcastBinary(a!, b!, 'bool', (x, y) => b01(f(x, y)))]);
}
// NaN compares unequal to everything (so notEqual(NaN, NaN) is true), as IEEE and TensorFlow.
compare('equal', (x, y) => x === y);
compare('notEqual', (x, y) => x !== y);
compare('less', (x, y) => x < y);
compare('lessEqual', (x, y) => x <= y);
compare('greater', (x, y) => x > y);
compare('greaterEqual', (x, y) => x >= y);
compare('logicalAnd', (x, y) => x !== 0 && y !== 0);
compare('logicalOr', (x, y) => x !== 0 || y !== 0);
registerRefKernel('logicalNot', ([x]) => [mapUnary(x!, (v) => b01(v === 0))]);

/** Index of the element of `t` (right-aligned to `shape`, broadcast) at each output position. */
function broadcastIndex(t: Tensor, shape: readonly number[]): Int32Array {
  const rank = shape.length;
  const padded = [...Array<number>(rank - t.shape.length).fill(1), ...t.shape];
  const st = stridesOf(padded).map((s, i) => (padded[i] === 1 ? 0 : s));
  const n = sizeOf(shape);
  const out = new Int32Array(n);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let k = 0;
    for (let d = 0; d < rank; d++) k += idx[d]! * st[d]!;
    out[i] = k;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

registerRefKernel('where', ([c, a, b]) => {
  const shape = broadcastShapes(c!.shape, broadcastShapes(a!.shape, b!.shape, 'where'), 'where') as number[];
  const ci = broadcastIndex(c!, shape);
  const ai = broadcastIndex(a!, shape);
  const bi = broadcastIndex(b!, shape);
  const out = allocData(a!.dtype, ci.length);
  for (let i = 0; i < ci.length; i++) {
    out[i] = castScalar(c!.data[ci[i]!]! !== 0 ? a!.data[ai[i]!]! : b!.data[bi[i]!]!, a!.dtype);
  }
  return [new Tensor(a!.dtype, shape, out)];
});
