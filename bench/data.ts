/**
 * The benchmark's shared inputs: seeded random weights and inputs, generated once as
 * Float32Arrays and handed to every framework, so all of them compute the same numbers
 * (which the correctness check then compares). Layout helpers convert Kiln/TF.js's NHWC + HWIO
 * convention to the NCHW + OIHW one of jax-js and ONNX.
 */
import { makeRandom } from 'kiln';

export const MLP_SIZES = [784, 512, 256, 10] as const;
export const MLP_BATCH = 128;
export const CNN_BATCH = 64;
export const MATMUL_N = 1024;
export const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } as const;

function uniform(rng: () => number, n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng() * 2 - 1) * scale;
  return a;
}

export interface Param {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface BenchData {
  matmul: { a: Float32Array; b: Float32Array };
  /** w0, b0, w1, b1, w2, b2 (weights [in, out]). */
  mlp: { params: Param[]; x: Float32Array; y: Float32Array };
  /** c1 [5,5,1,32], cb1, c2 [5,5,32,64], cb2 (HWIO), d1 [3136,1024] (NHWC flatten order), db1, d2, db2. */
  cnn: { params: Param[]; x: Float32Array };
}

export function makeBenchData(seed = 1): BenchData {
  const rng = makeRandom(seed); // seeded uniforms in [0, 1)
  const N = MATMUL_N;
  const matmul = { a: uniform(rng, N * N, 1), b: uniform(rng, N * N, 1) };

  const mlpParams: Param[] = [];
  for (let l = 0; l < 3; l++) {
    const i = MLP_SIZES[l]!;
    const o = MLP_SIZES[l + 1]!;
    mlpParams.push({ name: `w${l}`, shape: [i, o], data: uniform(rng, i * o, Math.sqrt(6 / i)) });
    mlpParams.push({ name: `b${l}`, shape: [o], data: uniform(rng, o, 0.1) });
  }
  const x = uniform(rng, MLP_BATCH * 784, 1);
  const y = new Float32Array(MLP_BATCH * 10);
  for (let r = 0; r < MLP_BATCH; r++) y[r * 10 + Math.floor(rng() * 10)] = 1;

  const he = (fanIn: number, n: number) => uniform(rng, n, Math.sqrt(6 / fanIn));
  const cnnParams: Param[] = [
    { name: 'c1', shape: [5, 5, 1, 32], data: he(25, 5 * 5 * 32) },
    { name: 'cb1', shape: [32], data: uniform(rng, 32, 0.1) },
    { name: 'c2', shape: [5, 5, 32, 64], data: he(25 * 32, 5 * 5 * 32 * 64) },
    { name: 'cb2', shape: [64], data: uniform(rng, 64, 0.1) },
    { name: 'd1', shape: [7 * 7 * 64, 1024], data: he(7 * 7 * 64, 7 * 7 * 64 * 1024) },
    { name: 'db1', shape: [1024], data: uniform(rng, 1024, 0.1) },
    { name: 'd2', shape: [1024, 10], data: he(1024, 1024 * 10) },
    { name: 'db2', shape: [10], data: uniform(rng, 10, 0.1) },
  ];
  const cx = uniform(rng, CNN_BATCH * 28 * 28, 1);
  return { matmul, mlp: { params: mlpParams, x, y }, cnn: { params: cnnParams, x: cx } };
}

/** HWIO filter -> OIHW (jax-js, ONNX). */
export function hwioToOihw(f: Float32Array, [h, w, i, o]: number[]): Float32Array {
  const out = new Float32Array(f.length);
  for (let y = 0; y < h!; y++)
    for (let x = 0; x < w!; x++)
      for (let c = 0; c < i!; c++) for (let k = 0; k < o!; k++) out[((k * i! + c) * h! + y) * w! + x] = f[((y * w! + x) * i! + c) * o! + k]!;
  return out;
}

/**
 * Rows of a dense weight that follows a flatten of [H, W, C] (NHWC) reordered for a flatten of
 * [C, H, W] (NCHW), so both layouts compute the same logits.
 */
export function nhwcRowsToNchw(wt: Float32Array, [h, w, c]: number[], cols: number): Float32Array {
  const out = new Float32Array(wt.length);
  for (let y = 0; y < h!; y++)
    for (let x = 0; x < w!; x++)
      for (let k = 0; k < c!; k++) {
        const src = ((y * w! + x) * c! + k) * cols;
        const dst = ((k * h! + y) * w! + x) * cols;
        out.set(wt.subarray(src, src + cols), dst);
      }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
