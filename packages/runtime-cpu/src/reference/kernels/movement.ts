/**
 * Reference kernels: movement family (reshape, transpose, expandDims, squeeze, concat, stack,
 * split, slice, gather, oneHot, pad, tile, broadcastTo, broadcastLike). Plain index math;
 * each output is a fresh tensor (never aliasing an input).
 */
import {
  type Attrs,
  type DType,
  KilnError,
  Tensor,
  allocData,
  castScalar,
  fmtShape,
  normalizeAxes,
  normalizeAxis,
  resolveReshape,
  sizeOf,
  splitSizes,
  stridesOf,
} from '@kiln/graph';
import { type RefContext, registerRefKernel } from '../registry.js';

function what(ctx: RefContext): string {
  return `${ctx.node.op} '${ctx.node.name}'`;
}

/**
 * out[c] = x.data[base + sum_k c[k] * inStrides[k]] for every coordinate c of outShape.
 * Expresses transpose (permuted strides), slice (an offset) and broadcasting (zero strides).
 */
export function stridedCopy(x: Tensor, outShape: readonly number[], inStrides: readonly number[], base = 0, dtype: DType = x.dtype): Tensor {
  const n = sizeOf(outShape);
  const out = allocData(dtype, n);
  const r = outShape.length;
  const idx = new Array<number>(r).fill(0);
  let off = base;
  for (let i = 0; i < n; i++) {
    out[i] = x.data[off]!;
    for (let d = r - 1; d >= 0; d--) {
      idx[d]!++;
      off += inStrides[d]!;
      if (idx[d]! < outShape[d]!) break;
      off -= idx[d]! * inStrides[d]!;
      idx[d] = 0;
    }
  }
  return new Tensor(dtype, outShape, out);
}

function copyWithShape(x: Tensor, shape: readonly number[]): Tensor {
  return new Tensor(x.dtype, shape, x.data.slice());
}

/** Views `shape` as [outer, shape[axis], inner] around axis. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis] ?? 1, sizeOf(shape.slice(axis + 1))];
}

/** Joins [outer, a_i, inner] blocks along the middle dim. */
function joinAlong(parts: readonly Tensor[], axis: number, outShape: number[]): Tensor {
  const out = allocData(parts[0]!.dtype, sizeOf(outShape));
  const [outer, total, inner] = around(outShape, axis);
  let start = 0;
  for (const p of parts) {
    const a = p.shape[axis] ?? 1;
    for (let o = 0; o < outer; o++) {
      const src = p.data.subarray(o * a * inner, (o + 1) * a * inner);
      out.set(src as never, (o * total + start) * inner);
    }
    start += a;
  }
  return new Tensor(parts[0]!.dtype, outShape, out);
}

/** Strides of x aligned to a target of rank `rank`, 0 where x broadcasts; throws if x does not fit. */
function broadcastStrides(x: Tensor, target: readonly number[], w: string): number[] {
  const off = target.length - x.rank;
  const xs = stridesOf(x.shape);
  const bad = (): never => {
    throw new KilnError('SHAPE_MISMATCH', `${w}: x ${fmtShape(x.shape)} cannot be broadcast to ${fmtShape(target)}`);
  };
  if (off < 0) bad();
  return target.map((t, i) => {
    if (i < off) return 0;
    const d = x.shape[i - off]!;
    if (d === t) return d === 1 ? 0 : xs[i - off]!;
    if (d === 1) return 0;
    return bad();
  });
}

registerRefKernel('reshape', ([x], attrs, ctx) => [copyWithShape(x!, resolveReshape(attrs.shape as number[], x!.size, what(ctx), x!.shape))]);

registerRefKernel('transpose', ([x], attrs) => {
  const perm = attrs.perm as number[];
  const st = stridesOf(x!.shape);
  return [
    stridedCopy(
      x!,
      perm.map((p) => x!.shape[p]!),
      perm.map((p) => st[p]!),
    ),
  ];
});

registerRefKernel('expandDims', ([x], attrs, ctx) => {
  const axis = normalizeAxis(attrs.axis as number, x!.rank + 1, what(ctx));
  const shape = [...x!.shape];
  shape.splice(axis, 0, 1);
  return [copyWithShape(x!, shape)];
});

registerRefKernel('squeeze', ([x], attrs, ctx) => {
  const given = attrs.axis as number[];
  if (given.length === 0)
    return [
      copyWithShape(
        x!,
        x!.shape.filter((d) => d !== 1),
      ),
    ];
  const axes = normalizeAxes(given, x!.rank, what(ctx));
  for (const a of axes) {
    if (x!.shape[a] !== 1) {
      throw new KilnError('INVALID_ARGUMENT', `${what(ctx)}: cannot squeeze axis ${a} of size ${x!.shape[a]} (x: ${fmtShape(x!.shape)})`);
    }
  }
  return [
    copyWithShape(
      x!,
      x!.shape.filter((_, i) => !axes.includes(i)),
    ),
  ];
});

function checkSameOutside(parts: readonly Tensor[], axis: number | null, w: string): void {
  const first = parts[0]!;
  parts.forEach((p, i) => {
    const ok = p.rank === first.rank && p.shape.every((d, k) => k === axis || d === first.shape[k]);
    if (!ok) {
      throw new KilnError('SHAPE_MISMATCH', `${w}: tensor ${i} has shape ${fmtShape(p.shape)}, incompatible with tensor 0 ${fmtShape(first.shape)}`);
    }
  });
}

registerRefKernel('concat', (xs, attrs, ctx) => {
  const axis = normalizeAxis(attrs.axis as number, xs[0]!.rank, what(ctx));
  checkSameOutside(xs, axis, what(ctx));
  const shape = [...xs[0]!.shape];
  shape[axis] = xs.reduce((n, t) => n + t.shape[axis]!, 0);
  return [joinAlong(xs, axis, shape)];
});

registerRefKernel('stack', (xs, attrs, ctx) => {
  const axis = normalizeAxis(attrs.axis as number, xs[0]!.rank + 1, what(ctx));
  checkSameOutside(xs, null, what(ctx));
  const expanded = xs.map((t) => {
    const s = [...t.shape];
    s.splice(axis, 0, 1);
    return t.reshape(s);
  });
  const shape = [...expanded[0]!.shape];
  shape[axis] = xs.length;
  return [joinAlong(expanded, axis, shape)];
});

registerRefKernel('split', ([x], attrs, ctx) => {
  const axis = normalizeAxis(attrs.axis as number, x!.rank, what(ctx));
  const sizes = splitSizes(x!.shape[axis]!, attrs.num as number, attrs.sizes as number[], what(ctx), x!.shape) as number[];
  const st = stridesOf(x!.shape);
  let start = 0;
  return sizes.map((s) => {
    const shape = [...x!.shape];
    shape[axis] = s;
    const t = stridedCopy(x!, shape, st, start * st[axis]!);
    start += s;
    return t;
  });
});

registerRefKernel('slice', ([x], attrs, ctx) => {
  const begin = attrs.begin as number[];
  const size = attrs.size as number[];
  const shape = x!.shape.map((d, i) => {
    const b = begin[i]!;
    const s = size[i] === -1 ? d - b : size[i]!;
    if (b < 0 || s < 0 || b + s > d) {
      throw new KilnError(
        'INVALID_ARGUMENT',
        `${what(ctx)}: begin ${JSON.stringify(begin)} size ${JSON.stringify(size)} is out of bounds for x ${fmtShape(x!.shape)} at dim ${i}`,
      );
    }
    return s;
  });
  const st = stridesOf(x!.shape);
  return [
    stridedCopy(
      x!,
      shape,
      st,
      begin.reduce((n, b, i) => n + b * st[i]!, 0),
    ),
  ];
});

registerRefKernel('gather', ([x, indices], attrs, ctx) => {
  const w = what(ctx);
  const axis = normalizeAxis(attrs.axis as number, x!.rank, w);
  let bd = attrs.batchDims as number;
  if (bd < 0) bd += indices!.rank;
  for (let i = 0; i < bd; i++) {
    if (x!.shape[i] !== indices!.shape[i]) {
      throw new KilnError('SHAPE_MISMATCH', `${w}: batch dim ${i} differs (x: ${fmtShape(x!.shape)}, indices: ${fmtShape(indices!.shape)})`);
    }
  }
  // x viewed as [B, P, A, Q]; indices as [B, I]; out as [B, P, I, Q].
  const B = sizeOf(x!.shape.slice(0, bd));
  const P = sizeOf(x!.shape.slice(bd, axis));
  const A = x!.shape[axis]!;
  const Q = sizeOf(x!.shape.slice(axis + 1));
  const I = sizeOf(indices!.shape.slice(bd));
  const outShape = [...x!.shape.slice(0, axis), ...indices!.shape.slice(bd), ...x!.shape.slice(axis + 1)];
  const out = allocData(x!.dtype, sizeOf(outShape));
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < I; i++) {
      const k = indices!.data[b * I + i]!;
      if (k < 0 || k >= A) {
        throw new KilnError(
          'INVALID_ARGUMENT',
          `${w}: index ${k} (indices element ${b * I + i}) is out of range [0, ${A}) for axis ${axis} of x ${fmtShape(x!.shape)}`,
        );
      }
      for (let p = 0; p < P; p++) {
        const src = ((b * P + p) * A + k) * Q;
        const dst = ((b * P + p) * I + i) * Q;
        for (let q = 0; q < Q; q++) out[dst + q] = x!.data[src + q]!;
      }
    }
  }
  return [new Tensor(x!.dtype, outShape, out)];
});

registerRefKernel('oneHot', ([indices], attrs) => {
  const depth = attrs.depth as number;
  const dtype = attrs.dtype as DType;
  const on = castScalar(attrs.onValue as number, dtype);
  const off = castScalar(attrs.offValue as number, dtype);
  const out = allocData(dtype, indices!.size * depth).fill(off);
  for (let i = 0; i < indices!.size; i++) {
    const k = indices!.data[i]!;
    if (k >= 0 && k < depth) out[i * depth + k] = on;
  }
  return [new Tensor(dtype, [...indices!.shape, depth], out)];
});

registerRefKernel('pad', ([x], attrs) => {
  const p = attrs.paddings as number[];
  const shape = x!.shape.map((d, i) => d + p[2 * i]! + p[2 * i + 1]!);
  const out = allocData(x!.dtype, sizeOf(shape)).fill(castScalar(attrs.constantValue as number, x!.dtype));
  const ost = stridesOf(shape);
  const r = x!.rank;
  const idx = new Array<number>(r).fill(0);
  for (let i = 0; i < x!.size; i++) {
    let o = 0;
    for (let d = 0; d < r; d++) o += (idx[d]! + p[2 * d]!) * ost[d]!;
    out[o] = x!.data[i]!;
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d]! < x!.shape[d]!) break;
      idx[d] = 0;
    }
  }
  return [new Tensor(x!.dtype, shape, out)];
});

registerRefKernel('tile', ([x], attrs) => {
  const reps = attrs.reps as number[];
  const shape = x!.shape.map((d, i) => d * reps[i]!);
  const n = sizeOf(shape);
  const out = allocData(x!.dtype, n);
  const ist = stridesOf(x!.shape);
  const r = x!.rank;
  const idx = new Array<number>(r).fill(0);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < r; d++) s += (idx[d]! % x!.shape[d]!) * ist[d]!;
    out[i] = x!.data[s]!;
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return [new Tensor(x!.dtype, shape, out)];
});

function broadcastKernel(x: Tensor, target: readonly number[], w: string): Tensor {
  return stridedCopy(x, target, broadcastStrides(x, target, w));
}

registerRefKernel('broadcastTo', ([x], attrs: Attrs, ctx) => [broadcastKernel(x!, attrs.shape as number[], what(ctx))]);
registerRefKernel('broadcastLike', ([x, like], _attrs, ctx) => [broadcastKernel(x!, like!.shape, what(ctx))]);
