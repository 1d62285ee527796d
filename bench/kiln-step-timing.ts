/**
 * Timing of one compiled Program run (no Session): the MLP training step and the CNN forward
 * pass of the benchmark, compiled once and run N times on a CpuProgram; prints min and median
 * of the whole run, the kernel count, and (with `decompose`) the same program compiled without
 * routine decomposition for comparison. `node --conditions=source --import tsx bench/kiln-step-timing.ts [runs]`.
 */
import * as kiln from 'kiln';
import { type CompileOptions, compile } from '@kiln/compiler';
import { CpuProgram, referenceConstantEvaluator } from '@kiln/runtime-cpu';
import { ADAM, CNN_BATCH, MLP_BATCH, makeBenchData } from './data.js';

const runs = Number(process.argv[2] ?? 40);
const d = makeBenchData();
const vars = (g: kiln.Graph, ps: typeof d.mlp.params) => Object.fromEntries(ps.map((p) => [p.name, g.variable(kiln.tensor(p.data, p.shape), p.name)]));

function mlp() {
  const g = new kiln.Graph();
  const x = g.placeholder('float32', [MLP_BATCH, 784], 'x');
  const v = vars(g, d.mlp.params);
  let h: kiln.SymbolicTensor = x;
  for (let l = 0; l < 3; l++) {
    h = kiln.add(kiln.matMul(h, v[`w${l}`]!), v[`b${l}`]!);
    if (l < 2) h = kiln.relu(h);
  }
  const y = g.placeholder('float32', [MLP_BATCH, 10], 'y');
  const loss = kiln.softmaxCrossEntropy(y, h);
  const step = kiln.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.epsilon).minimize(loss);
  return { g, fetches: [step, loss], feeds: { x: kiln.tensor(d.mlp.x, [MLP_BATCH, 784]), y: kiln.tensor(d.mlp.y, [MLP_BATCH, 10]) } };
}

function cnn() {
  const g = new kiln.Graph();
  const x = g.placeholder('float32', [CNN_BATCH, 28, 28, 1], 'x');
  const v = vars(g, d.cnn.params);
  let h = kiln.relu(kiln.add(kiln.conv2d(x, v.c1!, 1, 'same'), v.cb1!));
  h = kiln.maxPool(h, 2, 2, 'valid');
  h = kiln.relu(kiln.add(kiln.conv2d(h, v.c2!, 1, 'same'), v.cb2!));
  h = kiln.maxPool(h, 2, 2, 'valid');
  h = kiln.reshape(h, [CNN_BATCH, 7 * 7 * 64]);
  h = kiln.relu(kiln.add(kiln.matMul(h, v.d1!), v.db1!));
  return { g, fetches: [kiln.add(kiln.matMul(h, v.d2!), v.db2!)], feeds: { x: kiln.tensor(d.cnn.x, [CNN_BATCH, 28, 28, 1]) } };
}

for (const [name, make] of [
  ['mlp-train', mlp],
  ['cnn-fwd', cnn],
] as const) {
  const { g, fetches, feeds } = make();
  const opts: CompileOptions & { decompose?: boolean } = { constantEvaluator: referenceConstantEvaluator };
  const p = compile(g, { fetches, feeds: g.placeholders().map((n) => n.output) }, opts);
  const cp = new CpuProgram(p);
  let variables = new Map(g.variables().map((n) => [n.name, n.attrs.value as kiln.Tensor]));
  const inputs = () => ({ feeds: new Map(Object.entries(feeds)), variables, seed: 0 });
  const times: number[] = [];
  for (let i = 0; i < runs + 3; i++) {
    const t0 = performance.now();
    const out = cp.run(inputs());
    if (i >= 3) times.push(performance.now() - t0);
    variables = new Map([...variables, ...out.writes]);
  }
  times.sort((a, b) => a - b);
  console.log(`${name}: min ${times[0]!.toFixed(2)} ms, median ${times[runs >> 1]!.toFixed(2)} ms, ${p.stats.kernels} kernels`);
}
process.exit(0);
