/**
 * Kiln's side of the benchmark, through the public API only: a kiln.Graph with placeholders
 * and variables, the ops, kiln.train.adam(...).minimize(loss), and a 'cpu' session whose
 * compiled Program supplies the kernel count and arena bytes (placeholders have the concrete
 * batch, so the stats are those of the measured shapes). 'kiln-unfused' (opt-in through
 * BENCH_FW) runs the same with `fuse: false`.
 */
import * as kiln from 'kiln';
import { ADAM, type BenchData, CNN_BATCH, MATMUL_N, MLP_BATCH, type Param } from '../data.js';
import type { Case, Framework, WorkloadId } from '../framework.js';

const f32 = (data: Float32Array, shape: number[]) => kiln.tensor(data, shape);

/** Session options; BENCH_KILN_THREADS passes a `threads` count where the backend has one. */
function sessionOptions(fuse: boolean): kiln.KilnSessionOptions {
  const threads = process.env.BENCH_KILN_THREADS;
  return { backend: 'cpu', fuse, ...(threads ? ({ threads: Number(threads) } as object) : {}) };
}

function variables(g: kiln.Graph, params: Param[]): Record<string, kiln.SymbolicTensor> {
  return Object.fromEntries(params.map((p) => [p.name, g.variable(f32(p.data, p.shape), p.name)]));
}

function mlp(g: kiln.Graph, d: BenchData) {
  const x = g.placeholder('float32', [MLP_BATCH, 784], 'x');
  const v = variables(g, d.mlp.params);
  let h: kiln.SymbolicTensor = x;
  for (let l = 0; l < 3; l++) {
    h = kiln.add(kiln.matMul(h, v[`w${l}`]!), v[`b${l}`]!);
    if (l < 2) h = kiln.relu(h);
  }
  return h;
}

function mlpTrainGraph(d: BenchData) {
  const g = new kiln.Graph();
  const logits = mlp(g, d);
  const y = g.placeholder('float32', [MLP_BATCH, 10], 'y');
  const loss = kiln.softmaxCrossEntropy(y, logits);
  const step = kiln.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.epsilon).minimize(loss);
  return { g, loss, step };
}

function cnn(g: kiln.Graph, d: BenchData) {
  const x = g.placeholder('float32', [CNN_BATCH, 28, 28, 1], 'x');
  const v = variables(g, d.cnn.params);
  let h = kiln.relu(kiln.add(kiln.conv2d(x, v.c1!, 1, 'same'), v.cb1!));
  h = kiln.maxPool(h, 2, 2, 'valid');
  h = kiln.relu(kiln.add(kiln.conv2d(h, v.c2!, 1, 'same'), v.cb2!));
  h = kiln.maxPool(h, 2, 2, 'valid');
  h = kiln.reshape(h, [CNN_BATCH, 7 * 7 * 64]);
  h = kiln.relu(kiln.add(kiln.matMul(h, v.d1!), v.db1!));
  return kiln.add(kiln.matMul(h, v.d2!), v.db2!);
}

function statsOf(sess: kiln.Session, fetches: kiln.SymbolicTensor[], feeds: string[]): Case['stats'] {
  const s = sess.compiled(fetches, feeds).stats;
  return { kernels: s.kernels, arenaBytes: s.arenaBytes, naiveBytes: s.naiveBytes, liveLowerBoundBytes: s.liveLowerBoundBytes };
}

/** A forward case: fetch `out` with `feeds`; the first call (compile) happens in setup. */
async function forwardCase(g: kiln.Graph, out: kiln.SymbolicTensor, feeds: Record<string, kiln.Tensor>, fuse: boolean): Promise<Case> {
  const sess = await kiln.session(g, sessionOptions(fuse));
  let last = (await sess.run([out], feeds))[0]!;
  return {
    run: async () => void (last = (await sess.run([out], feeds))[0]!),
    check: async () => Float32Array.from(last.data),
    stats: statsOf(sess, [out], Object.keys(feeds)),
    dispose: () => sess.dispose(),
  };
}

/** Kiln, fused (the default) or with `fuse: false` ('kiln-unfused', for comparison). */
export async function kilnFramework(d: BenchData, version: string, fuse = true): Promise<Framework> {
  const mlpFeeds = () => ({ x: f32(d.mlp.x, [MLP_BATCH, 784]), y: f32(d.mlp.y, [MLP_BATCH, 10]) });
  return {
    name: fuse ? 'kiln' : 'kiln-unfused',
    version: fuse ? version : `${version}, fuse: false`,
    async setup(w: WorkloadId): Promise<Case | string> {
      switch (w) {
        case 'matmul': {
          const g = new kiln.Graph();
          const a = g.placeholder('float32', [MATMUL_N, MATMUL_N], 'a');
          const b = g.placeholder('float32', [MATMUL_N, MATMUL_N], 'b');
          const feeds = { a: f32(d.matmul.a, [MATMUL_N, MATMUL_N]), b: f32(d.matmul.b, [MATMUL_N, MATMUL_N]) };
          return forwardCase(g, kiln.matMul(a, b), feeds, fuse);
        }
        case 'mlp-fwd': {
          const g = new kiln.Graph();
          return forwardCase(g, mlp(g, d), { x: mlpFeeds().x }, fuse);
        }
        case 'cnn-fwd': {
          const g = new kiln.Graph();
          return forwardCase(g, cnn(g, d), { x: f32(d.cnn.x, [CNN_BATCH, 28, 28, 1]) }, fuse);
        }
        case 'mlp-train': {
          const { g, loss, step } = mlpTrainGraph(d);
          const sess = await kiln.session(g, sessionOptions(fuse));
          const feeds = mlpFeeds();
          const losses: number[] = [];
          const run = async () => {
            const out = await sess.run([step, loss], feeds);
            if (losses.length < 2) losses.push(out[1]!.data[0]!);
          };
          await run();
          return {
            run,
            check: async () => Float32Array.from(losses),
            stats: statsOf(sess, [step, loss], ['x', 'y']),
            dispose: () => sess.dispose(),
          };
        }
        case 'mlp-first':
          return {
            run: async () => {
              const { g, loss, step } = mlpTrainGraph(d);
              const sess = await kiln.session(g, sessionOptions(fuse));
              await sess.run([step, loss], mlpFeeds());
              sess.dispose();
            },
          };
      }
    },
  };
}
