/**
 * Weight histograms for TensorBoard's histogram and distribution dashboards: a HistogramProto
 * (min, max, num, sum, sum_squares, bucket_limit, bucket) over TensorFlow's default bucket
 * edges: 0, then +-1e-12 growing by 10% per bucket up to 1e20, then +-DBL_MAX. Bucket i
 * counts the values v with limit[i-1] <= v < limit[i]; runs of empty buckets are collapsed
 * into one (the last edge of the run), as TensorFlow writes them.
 */
import { KilnError } from '@kiln/graph';

export interface HistogramMsg {
  min: number;
  max: number;
  num: number;
  sum: number;
  sum_squares: number;
  bucket_limit: number[];
  bucket: number[];
}

let edges: Float64Array | undefined;

/** TensorFlow's default histogram bucket edges (ascending, 1549 of them). */
export function defaultBucketEdges(): Float64Array {
  if (edges) return edges;
  const pos: number[] = [];
  for (let v = 1e-12; v < 1e20; v *= 1.1) pos.push(v);
  pos.push(Number.MAX_VALUE);
  edges = Float64Array.from([...pos.map((v) => -v).reverse(), 0, ...pos]);
  return edges;
}

/** Index of the first edge greater than v (the bucket v falls in). */
function bucketOf(limits: Float64Array, v: number): number {
  let lo = 0;
  let hi = limits.length - 1; // v < MAX_VALUE always holds for finite v
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (limits[mid]! > v) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The histogram of `values`; `what` names them in the error for a non-finite value or none at all. */
export function histogramOf(values: ArrayLike<number>, what: string): HistogramMsg {
  if (values.length === 0) throw new KilnError('INVALID_ARGUMENT', `histogram of ${what}: no values`);
  const limits = defaultBucketEdges();
  const counts = new Float64Array(limits.length);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new KilnError('INVALID_ARGUMENT', `histogram of ${what}: value ${i} is ${v}, expected a finite number`);
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSquares += v * v;
    counts[bucketOf(limits, v)]!++;
  }
  const bucketLimit: number[] = [];
  const bucket: number[] = [];
  for (let i = 0; i < limits.length;) {
    let end = limits[i]!;
    const count = counts[i]!;
    i++;
    if (count === 0) {
      while (i < limits.length && counts[i] === 0) end = limits[i++]!;
    }
    bucketLimit.push(end);
    bucket.push(count);
  }
  return { min, max, num: values.length, sum, sum_squares: sumSquares, bucket_limit: bucketLimit, bucket };
}
