/**
 * CNN inference per-kernel timings through the compiled CPU backend (not a test): batch 64,
 * conv 5x5x32 'same' + bias + relu -> maxPool 2 -> conv 5x5x64 'same' + relu -> maxPool 2 ->
 * dense 10. Prints each kernel's median wall time over many profiled runs (the machine is
 * shared) and the whole run's median.
 *   node --conditions=source --import tsx packages/runtime-cpu/test/cnn-inference-bench.mts [threads] [runs]
 */
import { Graph, Tensor, add, conv2d, matMul, maxPool, relu, reshape } from '@kiln/graph';
import { compile } from '@kiln/compiler';
import { CpuProgram, referenceConstantEvaluator } from '../src/index.js';
import { makeRandom } from '../src/reference/random.js';

const threads = Number(process.argv[2] ?? 2);
const runs = Number(process.argv[3] ?? 31);
const rnd = makeRandom(1);
const R = (s: number[], scale: number) => {
  const t = new Tensor('float32', s);
  for (let i = 0; i < t.size; i++) t.data[i] = (rnd() - 0.5) * scale;
  return t;
};

const g = new Graph();
const x = g.placeholder('float32', [64, 28, 28, 1], 'x');
let h = relu(add(conv2d(x, g.variable(R([5, 5, 1, 32], 0.3), 'f1'), 1, 'same'), g.variable(R([32], 0.1), 'b1')));
h = maxPool(h, 2, 2, 'valid');
h = relu(conv2d(h, g.variable(R([5, 5, 32, 64], 0.05), 'f2'), 1, 'same'));
h = maxPool(h, 2, 2, 'valid');
const logits = matMul(reshape(h, [64, 7 * 7 * 64]), g.variable(R([7 * 7 * 64, 10], 0.02), 'w3'));
const p = compile(g, { fetches: [logits], feeds: [x] }, { constantEvaluator: referenceConstantEvaluator });
const cp = new CpuProgram(p, { threads, profile: true });
const variables = new Map<string, Tensor>();
for (const v of g.variables()) variables.set(v.name, v.attrs.value as Tensor);
const feeds = new Map([['x', R([64, 28, 28, 1], 1)]]);
const per: number[][] = p.kernels.map(() => []);
const total: number[] = [];
for (let i = 0; i < runs + 3; i++) {
  const t0 = performance.now();
  cp.run({ feeds, variables, seed: 1 });
  const t = performance.now() - t0;
  if (i < 3) continue;
  total.push(t);
  cp.lastProfile.forEach((ms, k) => per[k]!.push(ms));
}
const median = (a: number[]) => [...a].sort((u, v) => u - v)[a.length >> 1]!;
console.log(`threads ${threads}, median of ${runs}`);
p.kernels.forEach((k, i) => {
  const s = k.spec;
  const name = s.kind === 'op' ? `op ${s.op}` : s.kind;
  console.log(`${String(i).padStart(3)} ${name.padEnd(28)} ${median(per[i]!).toFixed(2).padStart(8)} ms`);
});
console.log(`total ${median(total).toFixed(2)} ms`);
cp.dispose();
