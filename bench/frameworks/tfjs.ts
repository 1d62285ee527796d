/**
 * TensorFlow.js (@tensorflow/tfjs) on its 'cpu' (plain JS) and 'wasm' (XNNPACK, SIMD, one thread
 * under Node) backends. Each Framework keeps its own tensors, created while its backend is
 * active, and `activate()` switches the global backend before its calls (untimed), so no
 * tensor data ever moves between backends. Training uses tf.train.adam(...).minimize.
 */
// The union package, not bare tfjs-core: only its Node bundle registers the gradients.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ADAM, type BenchData, CNN_BATCH, MATMUL_N, MLP_BATCH } from '../data.js';
import type { Case, Framework, WorkloadId } from '../framework.js';

type Vars = Record<string, tf.Variable>;

function makeVars(params: BenchData['mlp']['params']): Vars {
  return Object.fromEntries(
    params.map((p) => {
      const init = tf.tensor(p.data, p.shape);
      const v = tf.variable(init, true);
      init.dispose(); // the variable keeps the data
      return [p.name, v];
    }),
  );
}

function mlpLogits(v: Vars, x: tf.Tensor): tf.Tensor2D {
  let h = x as tf.Tensor2D;
  for (let l = 0; l < 3; l++) {
    h = tf.add(tf.matMul(h, v[`w${l}`]!), v[`b${l}`]!);
    if (l < 2) h = tf.relu(h);
  }
  return h;
}

function cnnLogits(v: Vars, x: tf.Tensor4D): tf.Tensor {
  let h = tf.relu(tf.add(tf.conv2d(x, v.c1 as tf.Tensor4D, 1, 'same'), v.cb1!)) as tf.Tensor4D;
  h = tf.maxPool(h, 2, 2, 'valid');
  h = tf.relu(tf.add(tf.conv2d(h, v.c2 as tf.Tensor4D, 1, 'same'), v.cb2!)) as tf.Tensor4D;
  h = tf.maxPool(h, 2, 2, 'valid');
  const f = tf.relu(tf.add(tf.matMul(tf.reshape(h, [CNN_BATCH, 7 * 7 * 64]) as tf.Tensor2D, v.d1 as tf.Tensor2D), v.db1!)) as tf.Tensor2D;
  return tf.add(tf.matMul(f, v.d2 as tf.Tensor2D), v.db2!);
}

/** A forward case: `fn` runs in a tidy; each call reads the result back and frees it. */
async function forwardCase(fn: () => tf.Tensor, keep: tf.Tensor[]): Promise<Case> {
  const call = async () => {
    const out = tf.tidy(fn);
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  };
  let last = await call();
  return {
    run: async () => void (last = await call()),
    check: async () => Float32Array.from(last),
    dispose: () => keep.forEach((t) => t.dispose()),
  };
}

/** A training runner: fresh variables and Adam slots; each call is one minimize step. */
function trainRunner(d: BenchData) {
  const v = makeVars(d.mlp.params);
  const x = tf.tensor2d(d.mlp.x, [MLP_BATCH, 784]);
  const y = tf.tensor2d(d.mlp.y, [MLP_BATCH, 10]);
  const opt = tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.epsilon);
  const varList = Object.values(v);
  const losses: number[] = [];
  const run = async () => {
    const cost = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, mlpLogits(v, x)) as tf.Scalar, true, varList)!;
    const l = (await cost.data())[0]!;
    cost.dispose();
    if (losses.length < 2) losses.push(l);
  };
  const dispose = () => {
    opt.dispose();
    for (const t of [...varList, x, y]) t.dispose();
  };
  return { run, losses, dispose };
}

export async function tfjsFramework(d: BenchData, backend: 'cpu' | 'wasm', version: string): Promise<Framework> {
  await tf.setBackend(backend);
  await tf.ready();
  const activate = async () => {
    if (tf.getBackend() !== backend) await tf.setBackend(backend);
  };
  return {
    name: `tfjs-${backend}`,
    version,
    activate,
    async setup(w: WorkloadId): Promise<Case | string> {
      await activate();
      switch (w) {
        case 'matmul': {
          const a = tf.tensor2d(d.matmul.a, [MATMUL_N, MATMUL_N]);
          const b = tf.tensor2d(d.matmul.b, [MATMUL_N, MATMUL_N]);
          return forwardCase(() => tf.matMul(a, b), [a, b]);
        }
        case 'mlp-fwd': {
          const v = makeVars(d.mlp.params);
          const x = tf.tensor2d(d.mlp.x, [MLP_BATCH, 784]);
          return forwardCase(() => mlpLogits(v, x), [x, ...Object.values(v)]);
        }
        case 'cnn-fwd': {
          const v = makeVars(d.cnn.params);
          const x = tf.tensor4d(d.cnn.x, [CNN_BATCH, 28, 28, 1]);
          return forwardCase(() => cnnLogits(v, x), [x, ...Object.values(v)]);
        }
        case 'mlp-train': {
          const r = trainRunner(d);
          await r.run();
          return { run: r.run, check: async () => Float32Array.from(r.losses), dispose: r.dispose };
        }
        case 'mlp-first':
          return {
            run: async () => {
              const r = trainRunner(d);
              await r.run();
              r.dispose();
            },
          };
      }
    },
  };
}
