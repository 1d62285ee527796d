/**
 * Reference kernels: linalg family. matMul with optional transposes and broadcast batch dims;
 * each dot product accumulates in float64.
 */
import { KilnError, Tensor, allocData, broadcastShapes, castScalar, fmtShape, sizeOf, stridesOf } from '@kiln/graph';
import { registerRefKernel } from '../registry.js';

/** Offsets of each broadcast batch element's matrix within x (matrix size `mat`). */
function batchOffsets(shape: readonly number[], batch: readonly number[], mat: number): number[] {
  const own = shape.slice(0, -2);
  const off = batch.length - own.length;
  const st = stridesOf(own).map((s, i) => (own[i] === 1 ? 0 : s * mat));
  const n = sizeOf(batch);
  const out = new Array<number>(n);
  const idx = new Array<number>(batch.length).fill(0);
  for (let i = 0; i < n; i++) {
    let o = 0;
    for (let d = off; d < batch.length; d++) o += idx[d]! * st[d - off]!;
    out[i] = o;
    for (let d = batch.length - 1; d >= 0; d--) {
      if (++idx[d]! < batch[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

registerRefKernel('matMul', ([a, b], attrs, ctx) => {
  const tA = attrs.transposeA as boolean;
  const tB = attrs.transposeB as boolean;
  const w = `${ctx.node.op} '${ctx.node.name}'`;
  const [ar, ac] = a!.shape.slice(-2) as [number, number];
  const [br, bc] = b!.shape.slice(-2) as [number, number];
  const m = tA ? ac : ar;
  const k = tA ? ar : ac;
  const kb = tB ? bc : br;
  const n = tB ? br : bc;
  if (k !== kb) {
    throw new KilnError('SHAPE_MISMATCH', `${w}: inner dims differ: ${k} vs ${kb} (a: ${fmtShape(a!.shape)}, b: ${fmtShape(b!.shape)})`);
  }
  const batch = broadcastShapes(a!.shape.slice(0, -2), b!.shape.slice(0, -2), w) as number[];
  const aOff = batchOffsets(a!.shape, batch, ar * ac);
  const bOff = batchOffsets(b!.shape, batch, br * bc);
  // Element (i, p) of op(a) and (p, j) of op(b), as strides into the stored matrices.
  const [aRow, aCol] = tA ? [1, ac] : [ac, 1];
  const [bRow, bCol] = tB ? [1, bc] : [bc, 1];
  const dtype = a!.dtype;
  const out = allocData(dtype, batch.reduce((x, y) => x * y, 1) * m * n);
  const ad = a!.data;
  const bd = b!.data;
  for (let t = 0; t < aOff.length; t++) {
    const ao = aOff[t]!;
    const bo = bOff[t]!;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) acc += ad[ao + i * aRow + p * aCol]! * bd[bo + p * bRow + j * bCol]!;
        out[(t * m + i) * n + j] = castScalar(acc, dtype);
      }
    }
  }
  return [new Tensor(dtype, [...batch, m, n], out)];
});
