/**
 * jax-js (@jax-js/jax) on its 'wasm' device: every workload is one jit-compiled function; the
 * training step jits the whole step (loss, gradients and the Adam update), as a jax user would.
 * jax-js consumes the arrays passed to it (reference counting), so kept inputs are passed as
 * `.ref` and the training state is replaced by the step's outputs. Convolutions are NCHW/OIHW.
 */
import { blockUntilReady, defaultDevice, init, jit, lax, nn, numpy as np, tree, valueAndGrad } from '@jax-js/jax';
import { ADAM, type BenchData, CNN_BATCH, MATMUL_N, MLP_BATCH, hwioToOihw, nhwcRowsToNchw } from '../data.js';
import type { Case, Framework, WorkloadId } from '../framework.js';

type Arr = np.Array;
type Params = Record<string, Arr>;

const arr = (data: Float32Array, shape: number[]): Arr => np.array(data).reshape(shape);

function mlpParams(d: BenchData): Params {
  return Object.fromEntries(d.mlp.params.map((p) => [p.name, arr(p.data, p.shape)]));
}

/** Consumes `p` and `x`. */
function mlpLogits(p: Params, x: Arr): Arr {
  let h = x;
  for (let l = 0; l < 3; l++) {
    h = np.matmul(h, p[`w${l}`]!).add(p[`b${l}`]!);
    if (l < 2) h = nn.relu(h);
  }
  return h;
}

/** Mean softmax cross-entropy of one-hot `y`; consumes its arguments. */
function mlpLoss(p: Params, x: Arr, y: Arr): Arr {
  const logp = nn.logSoftmax(mlpLogits(p, x), -1);
  return np.mean(np.sum(y.mul(logp), -1)).neg();
}

/** A type alias, not an interface: jax-js's JsTree needs the index signature. */
type TrainState = { p: Params; m: Params; v: Params };

/** One jitted Adam step (TF's bias correction through `lrT`); consumes everything. */
function trainStep(s: TrainState, x: Arr, y: Arr, lrT: Arr): [TrainState, Arr] {
  const [loss, g] = valueAndGrad(mlpLoss)(tree.ref(s.p), x, y) as [Arr, Params];
  const out: TrainState = { p: {}, m: {}, v: {} };
  const { beta1: b1, beta2: b2, epsilon } = ADAM;
  const names = Object.keys(s.p);
  names.forEach((k, i) => {
    const gk = g[k]!;
    const m = s.m[k]!.mul(b1).add(gk.ref.mul(1 - b1));
    const v = s.v[k]!.mul(b2).add(gk.ref.mul(gk).mul(1 - b2));
    const lr = i === names.length - 1 ? lrT : lrT.ref;
    out.p[k] = s.p[k]!.sub(lr.mul(m.ref).div(np.sqrt(v.ref).add(epsilon)));
    out.m[k] = m;
    out.v[k] = v;
  });
  return [out, loss];
}

function freshState(d: BenchData): TrainState {
  const zeros = (p: Params) => Object.fromEntries(Object.entries(p).map(([k, a]) => [k, np.zeros(a.shape)]));
  const p = mlpParams(d);
  return { p, m: zeros(p), v: zeros(p) };
}

function cnnParams(d: BenchData): Params {
  const out: Params = {};
  for (const p of d.cnn.params) {
    if (p.shape.length === 4) out[p.name] = arr(hwioToOihw(p.data, p.shape), [p.shape[3]!, p.shape[2]!, p.shape[0]!, p.shape[1]!]);
    else if (p.name === 'd1') out[p.name] = arr(nhwcRowsToNchw(p.data, [7, 7, 64], 1024), p.shape);
    else out[p.name] = arr(p.data, p.shape);
  }
  return out;
}

function cnnLogits(p: Params, x: Arr): Arr {
  const pool = (a: Arr) => lax.reduceWindow(a, (w: Arr) => np.max(w), [2, 2], [2, 2]);
  let h = nn.relu(lax.conv(x, p.c1!, [1, 1], 'SAME').add(p.cb1!.reshape([32, 1, 1])));
  h = pool(h);
  h = nn.relu(lax.conv(h, p.c2!, [1, 1], 'SAME').add(p.cb2!.reshape([64, 1, 1])));
  h = pool(h).reshape([CNN_BATCH, 7 * 7 * 64]);
  h = nn.relu(np.matmul(h, p.d1!).add(p.db1!));
  return np.matmul(h, p.d2!).add(p.db2!);
}

/** A jitted forward function of kept arguments (compiled by a first call here); each call reads the result back to JS. */
async function forwardCase(fn: (...a: Arr[]) => Arr, args: Arr[]): Promise<Case> {
  const f = jit((...a: Arr[]) => fn(...a));
  const call = async () => f(...args.map((a) => a.ref)).data() as Promise<Float32Array>;
  let last = await call();
  return {
    run: async () => void (last = await call()),
    check: async () => Float32Array.from(last),
    dispose: () => {
      f.dispose();
      for (const a of args) a.dispose();
    },
  };
}

export async function jaxFramework(d: BenchData, version: string): Promise<Framework> {
  await init('wasm');
  defaultDevice('wasm');
  const lrAt = (t: number) => np.array([(ADAM.lr * Math.sqrt(1 - ADAM.beta2 ** t)) / (1 - ADAM.beta1 ** t)]).reshape([]);
  const trainRunner = (state: TrainState, x: Arr, y: Arr) => {
    const step = jit(trainStep);
    let t = 0;
    const losses: number[] = [];
    const run = async () => {
      t++;
      const [next, loss] = step(state, x.ref, y.ref, lrAt(t));
      state = next;
      await blockUntilReady(state);
      const l = (await loss.data())[0]!;
      if (losses.length < 2) losses.push(l);
    };
    const dispose = () => {
      step.dispose();
      for (const part of [state.p, state.m, state.v]) for (const a of Object.values(part)) a.dispose();
    };
    return { run, losses, dispose };
  };
  return {
    name: 'jax-js',
    version,
    async setup(w: WorkloadId): Promise<Case | string> {
      switch (w) {
        case 'matmul':
          return forwardCase((a, b) => np.matmul(a!, b!), [arr(d.matmul.a, [MATMUL_N, MATMUL_N]), arr(d.matmul.b, [MATMUL_N, MATMUL_N])]);
        case 'mlp-fwd': {
          const p = mlpParams(d);
          const names = Object.keys(p);
          const fn = (...a: Arr[]) => mlpLogits(Object.fromEntries(names.map((k, i) => [k, a[i]!])), a[names.length]!);
          return forwardCase(fn, [...names.map((k) => p[k]!), arr(d.mlp.x, [MLP_BATCH, 784])]);
        }
        case 'cnn-fwd': {
          const p = cnnParams(d);
          const names = Object.keys(p);
          const fn = (...a: Arr[]) => cnnLogits(Object.fromEntries(names.map((k, i) => [k, a[i]!])), a[names.length]!);
          return forwardCase(fn, [...names.map((k) => p[k]!), arr(d.cnn.x, [CNN_BATCH, 1, 28, 28])]);
        }
        case 'mlp-train': {
          const x = arr(d.mlp.x, [MLP_BATCH, 784]);
          const y = arr(d.mlp.y, [MLP_BATCH, 10]);
          const r = trainRunner(freshState(d), x, y);
          await r.run();
          return {
            run: r.run,
            check: async () => Float32Array.from(r.losses),
            dispose: () => (r.dispose(), x.dispose(), y.dispose()),
          };
        }
        case 'mlp-first': {
          const x = arr(d.mlp.x, [MLP_BATCH, 784]);
          const y = arr(d.mlp.y, [MLP_BATCH, 10]);
          return {
            run: async () => {
              const r = trainRunner(freshState(d), x, y);
              await r.run();
              r.dispose();
            },
            dispose: () => (x.dispose(), y.dispose()),
          };
        }
      }
    },
  };
}
