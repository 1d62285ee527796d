/**
 * Random graphs for property tests. A fast-check arbitrary draws raw choices (op names and
 * small integers), and `resolveRecipe` turns them into a Recipe: plain data (inputs with
 * shapes, steps naming an op, the indices of earlier values and the exact attrs) that is
 * valid by construction, because each choice is read against the shapes built so far.
 * `buildGraph(recipe)` then rebuilds the Graph from the Recipe alone, so a printed Recipe
 * reproduces a failing case. Values are kept float32 and bounded (|v| <= 1e4 by interval
 * arithmetic) so float32-vs-float64 rounding of intermediates never turns into overflow; a
 * step that could exceed the bound, or that the graph rejects (squeeze of an unknown dim),
 * becomes tanh.
 */
import fc from 'fast-check';
import * as k from 'kiln';
import { gradientsOrNull } from '@kiln/compiler';
import { Graph, type SymbolicTensor, Tensor, makeRandom } from 'kiln';

export const UNARY = [
  'neg',
  'abs',
  'exp',
  'tanh',
  'sigmoid',
  'relu',
  'square',
  'sqrtAbs',
  'log1pAbs',
  'sin',
  'softplus',
  'elu',
  'leakyRelu',
  'relu6',
  'castInt',
  'castBool',
] as const;
export const BINARY = ['add', 'sub', 'mul', 'divSafe', 'maximum', 'minimum', 'squaredDifference', 'where'] as const;
export const REDUCE = ['sum', 'mean', 'max', 'min'] as const;
export const OTHER = [
  'matMul',
  'transpose',
  'reshape',
  'expandDims',
  'squeeze',
  'slice',
  'concat',
  'broadcastTo',
  'softmax',
  'logSoftmax',
  'pad',
  'tile',
] as const;
export const OPS = [...UNARY, ...BINARY, ...REDUCE, ...OTHER] as const;
export type OpName = (typeof OPS)[number];

export interface InputSpec {
  kind: 'placeholder' | 'variable';
  /** The value's shape. */
  shape: number[];
  /** A placeholder declared with its first dim unknown (null), specialized from the feed. */
  unknownFirstDim?: boolean;
}
export interface Step {
  op: OpName;
  /** Indices of earlier values: inputs first, then one value per step. */
  args: number[];
  attrs: Record<string, unknown>;
}
export interface Recipe {
  inputs: InputSpec[];
  steps: Step[];
  /** Value indices to fetch (the last step always among them). */
  fetches: number[];
  /** When set: loss = sum(values[lossOf]), and d loss / d input for each input is fetched. */
  lossOf: number | null;
  /** With a loss: an optimizer step on the variables the loss reaches (run twice, compared). */
  train: OptimizerName | null;
  dataSeed: number;
}
export const OPTIMIZERS = ['sgd', 'momentum', 'adam', 'rmsprop', 'adagrad'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

const MAX_SIZE = 1024;
const MAX_BOUND = 1e4;
const CMPS = ['greater', 'less', 'greaterEqual', 'lessEqual'] as const;
const SCALARS = [0.5, -1.5, 2, 0];

// ---- raw choices ----

interface RawStep {
  op: OpName;
  picks: number[];
}
interface RawRecipe {
  base: number[];
  inputs: { variable: boolean; picks: number[] }[];
  steps: RawStep[];
  fetchPicks: number[];
  grad: boolean;
  gradPick: number;
  train: OptimizerName | null;
  dataSeed: number;
}

const picksArb = fc.array(fc.nat({ max: 1 << 20 }), { minLength: 12, maxLength: 12 });

export interface RecipeOptions {
  /** Add loss = sum(a fetched value) and fetch its gradient for every input. */
  grad: boolean;
  /** At most this many steps (default 15; at least 3). */
  maxSteps?: number;
  /** The ops to draw from (default OPS). */
  ops?: readonly OpName[];
}

/** Random recipes, valid by construction. */
export function recipeArbitrary(opts: RecipeOptions): fc.Arbitrary<Recipe> {
  const raw: fc.Arbitrary<RawRecipe> = fc.record({
    base: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 4, size: 'max' }),
    inputs: fc.array(fc.record({ variable: fc.boolean(), picks: picksArb }), { minLength: 1, maxLength: 3 }),
    steps: fc.array(fc.record({ op: fc.constantFrom(...(opts.ops ?? OPS)), picks: picksArb }), { minLength: 3, maxLength: opts.maxSteps ?? 15, size: 'max' }),
    fetchPicks: fc.array(fc.nat({ max: 1000 }), { minLength: 0, maxLength: 2, size: 'max' }),
    grad: fc.constant(opts.grad),
    gradPick: fc.nat({ max: 1000 }),
    train: opts.grad ? fc.option(fc.constantFrom(...OPTIMIZERS), { freq: 2 }) : fc.constant(null),
    dataSeed: fc.nat({ max: 1 << 30 }),
  });
  return raw.map(resolveRecipe);
}

/** Reads choices from a fixed list of integers (wrapping around when used up). */
class Chooser {
  private i = 0;
  constructor(private readonly picks: readonly number[]) {}
  /** An integer in [0, n). */
  int(n: number): number {
    if (n <= 1) return 0;
    const p = this.picks[this.i % this.picks.length]! + Math.floor(this.i / this.picks.length);
    this.i++;
    return p % n;
  }
  bool(): boolean {
    return this.int(2) === 1;
  }
  of<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

// ---- shape helpers ----

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(Math.max(x, y));
  }
  return out;
}

function primeFactors(n: number): number[] {
  const fs: number[] = [];
  for (let p = 2; n > 1; p++) {
    while (n % p === 0) {
      fs.push(p);
      n /= p;
    }
  }
  return fs;
}

/** A random shape of rank <= 4 with `size` elements. */
function randomShape(size: number, c: Chooser): number[] {
  const fs = primeFactors(size);
  let rank = c.int(5);
  if (rank === 0 && size > 1) rank = 1;
  const dims = new Array<number>(rank).fill(1);
  for (const f of fs) dims[c.int(rank)]! *= f;
  return dims;
}

// ---- resolving raw choices into a valid Recipe ----

interface Val {
  shape: number[];
  bound: number;
}

function resolveRecipe(raw: RawRecipe): Recipe {
  const inputs: InputSpec[] = raw.inputs.map((inp) => {
    const c = new Chooser(inp.picks);
    let shape: number[];
    if (c.int(4) === 0) {
      shape = new Array<number>(c.int(5)).fill(0).map(() => 1 + c.int(5));
    } else {
      // A suffix of the base shape with some dims set to 1: broadcasts against the others.
      shape = raw.base.slice(c.int(raw.base.length + 1)).map((d) => (c.int(3) === 0 ? 1 : d));
    }
    // Unknown dims only without gradients: the slice/concat/tile rules need static shapes.
    if (!raw.grad && !inp.variable && shape.length > 0 && c.int(4) === 0) return { kind: 'placeholder', shape, unknownFirstDim: true };
    return { kind: inp.variable ? 'variable' : 'placeholder', shape };
  });
  const vals: Val[] = inputs.map((i) => ({ shape: i.shape, bound: 2 }));
  const steps: Step[] = [];
  const consumed = new Set<number>();
  // The graph built alongside: it has the declared shapes (unknown first dims included), and a
  // step it rejects (e.g. squeeze of an unknown dim) becomes tanh.
  const g = new Graph();
  const syms = inputs.map((spec, i) => makeInput(g, spec, i, new Tensor('float32', spec.shape)));
  for (const rs of raw.steps) {
    const c = new Chooser(rs.picks);
    // Unconsumed and recent values are likelier operands, so that most steps reach a fetch.
    const open = [...Array(vals.length).keys()].filter((i) => i >= inputs.length && !consumed.has(i));
    const pickVal = () =>
      open.length > 0 && c.int(3) > 0 ? open[open.length - 1 - c.int(open.length)]! : vals.length - 1 - Math.min(c.int(vals.length), c.int(vals.length));
    let step = resolveStep(rs.op, pickVal(), vals, c);
    let out = step && outVal(step, vals);
    let sym = step && out && out.bound <= MAX_BOUND && sizeOf(out.shape) <= MAX_SIZE ? trySymbolic(step, syms) : null;
    if (!step || !out || !sym) {
      step = { op: 'tanh', args: [step?.args[0] ?? vals.length - 1], attrs: {} };
      out = outVal(step, vals)!;
      sym = applyStep(step, syms);
    }
    // The graph's inferred shape must agree with ours wherever it knows a dim.
    if (sym.shape.length !== out.shape.length || sym.shape.some((d, i) => d !== null && d !== out!.shape[i])) {
      throw new Error(`random-graph: ${step.op} infers ${JSON.stringify(sym.shape)}, the generator expected ${JSON.stringify(out.shape)}`);
    }
    steps.push(step);
    vals.push(out);
    syms.push(sym);
    for (const i of step.args) consumed.add(i);
  }
  const n = vals.length;
  const nIn = inputs.length;
  // The last value, then for each pick another unconsumed value (odd picks) or any step's
  // value (even picks: often one that later steps consume too, which fusion must keep).
  const sinks = [...Array(n - 1).keys()].filter((i) => i >= nIn && !consumed.has(i));
  const fetches = [n - 1];
  for (const p of raw.fetchPicks) {
    const f = p % 2 === 1 && sinks.length > 0 ? sinks[(p >> 1) % sinks.length]! : nIn + ((p >> 1) % (n - nIn));
    if (!fetches.includes(f)) fetches.push(f);
  }
  const lossOf = raw.grad ? fetches[raw.gradPick % fetches.length]! : null;
  const train = lossOf !== null && inputs.some((i) => i.kind === 'variable') ? raw.train : null;
  return { inputs, steps, fetches, lossOf, train, dataSeed: raw.dataSeed };
}

/** Chooses operands and attrs for `op` with first operand `a`; null when `op` does not fit. */
function resolveStep(op: OpName, a: number, vals: Val[], c: Chooser): Step | null {
  const sa = vals[a]!.shape;
  const r = sa.length;
  const axisOf = (ax: number, rank: number) => (c.int(3) === 0 ? ax - rank : ax);
  if ((UNARY as readonly string[]).includes(op)) return { op, args: [a], attrs: {} };
  if ((BINARY as readonly string[]).includes(op)) {
    if (c.int(5) === 0 && op !== 'where') return { op, args: [a], attrs: { scalar: c.of(SCALARS), scalarFirst: c.bool() } };
    const cands = vals.map((v, i) => i).filter((i) => broadcastShape(sa, vals[i]!.shape) !== null);
    const b = cands[cands.length - 1 - c.int(cands.length)]!;
    return { op, args: c.bool() ? [a, b] : [b, a], attrs: op === 'where' ? { cmp: c.of(CMPS), swap: c.bool() } : {} };
  }
  if ((REDUCE as readonly string[]).includes(op)) {
    const mask = c.int(1 << r);
    const axes = mask === 0 ? null : [...Array(r).keys()].filter((i) => mask & (1 << i)).map((i) => axisOf(i, r));
    return { op, args: [a], attrs: { axes, keepDims: c.bool() } };
  }
  switch (op) {
    case 'matMul': {
      const tA = c.bool();
      const tB = c.bool();
      let aShape: number[] | null = null;
      if (r < 2 || c.int(3) === 0) {
        const size = sizeOf(sa);
        const divs = [...Array(size).keys()].map((i) => i + 1).filter((d) => size % d === 0);
        const m = c.of(divs);
        aShape = [m, size / m];
      }
      const as = aShape ?? sa;
      const kk = tA ? as[as.length - 2]! : as[as.length - 1]!;
      const batchA = as.slice(0, -2);
      // b as it is (rank >= 2, matching inner dim, batch dims that broadcast) or reshaped to 2-D.
      const cands: { i: number; bShape: number[] | null }[] = [];
      vals.forEach((v, i) => {
        const s = v.shape;
        if (s.length >= 2 && (tB ? s[s.length - 1] : s[s.length - 2]) === kk && broadcastShape(batchA, s.slice(0, -2))) cands.push({ i, bShape: null });
        if (sizeOf(s) % kk === 0) cands.push({ i, bShape: tB ? [sizeOf(s) / kk, kk] : [kk, sizeOf(s) / kk] });
      });
      const pick = cands[cands.length - 1 - c.int(cands.length)]!;
      return { op, args: [a, pick.i], attrs: { aShape, bShape: pick.bShape, transposeA: tA, transposeB: tB } };
    }
    case 'transpose': {
      const perm = [...Array(r).keys()];
      for (let i = r - 1; i > 0; i--) {
        const j = c.int(i + 1);
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      return { op, args: [a], attrs: { perm } };
    }
    case 'reshape':
      return { op, args: [a], attrs: { shape: randomShape(sizeOf(sa), c) } };
    case 'expandDims':
      return r >= 4 ? null : { op, args: [a], attrs: { axis: axisOf(c.int(r + 1), r + 1) } };
    case 'squeeze': {
      const ones = [...Array(r).keys()].filter((i) => sa[i] === 1);
      const axes = ones.filter(() => c.bool());
      return { op, args: [a], attrs: { axes: ones.length > 0 && axes.length === 0 ? [ones[0]!] : axes } };
    }
    case 'slice': {
      const begin = sa.map((d) => c.int(d));
      const size = sa.map((d, i) => (c.int(4) === 0 ? -1 : 1 + c.int(d - begin[i]!)));
      return { op, args: [a], attrs: { begin, size } };
    }
    case 'concat': {
      if (r === 0) return null;
      const axis = c.int(r);
      const fits = vals
        .map((v, i) => i)
        .filter((i) => {
          const s = vals[i]!.shape;
          return s.length === r && s.every((d, j) => j === axis || d === sa[j]);
        });
      const more = 1 + c.int(2);
      const args = [a];
      for (let i = 0; i < more; i++) args.push(fits[fits.length - 1 - c.int(fits.length)]!);
      return { op, args, attrs: { axis: axisOf(axis, r) } };
    }
    case 'broadcastTo': {
      const lead = r >= 4 ? 0 : c.int(4 - r);
      const shape = [...new Array<number>(lead).fill(0).map(() => 1 + c.int(4)), ...sa.map((d) => (d === 1 ? 1 + c.int(4) : d))];
      return { op, args: [a], attrs: { shape } };
    }
    case 'softmax':
    case 'logSoftmax':
      return r === 0 ? null : { op, args: [a], attrs: { axis: c.int(3) === 0 ? -1 : c.int(r) } };
    case 'pad':
      return r === 0 ? null : { op, args: [a], attrs: { paddings: sa.map(() => [c.int(3), c.int(3)]), value: c.of(SCALARS) } };
    case 'tile':
      return { op, args: [a], attrs: { reps: sa.map(() => 1 + c.int(3)) } };
    default:
      return null;
  }
}

/** The shape and magnitude bound of a step's result; null when the step is invalid. */
function outVal(step: Step, vals: Val[]): Val | null {
  const [x, y] = step.args.map((i) => vals[i]!);
  const a = step.attrs;
  const b = x!.bound;
  const same = (bound: number): Val => ({ shape: x!.shape, bound });
  switch (step.op) {
    case 'neg':
    case 'abs':
    case 'relu':
    case 'leakyRelu':
    case 'castInt':
      return same(b);
    case 'elu':
      return same(Math.max(b, 1));
    case 'exp':
      return same(Math.exp(b));
    case 'tanh':
    case 'sigmoid':
    case 'castBool':
      return same(1);
    // sin of a large x turns x's float32 rounding (ulp(1e3) = 6e-5) into an absolute error.
    case 'sin':
      return b > 100 ? null : same(1);
    case 'square':
      return same(b * b);
    case 'sqrtAbs':
      return same(Math.sqrt(b + 0.01));
    case 'log1pAbs':
      return same(Math.log1p(b));
    case 'softplus':
      return same(b + 1);
    case 'relu6':
      return same(6);
    case 'softmax':
      return same(1);
    case 'logSoftmax':
      return same(2 * b + Math.log(sizeOf(x!.shape)) + 1);
  }
  if ((BINARY as readonly string[]).includes(step.op)) {
    const shape = y ? broadcastShape(x!.shape, y.shape) : x!.shape;
    const bb = y ? y.bound : 2;
    if (!shape) return null;
    const bound = {
      add: b + bb,
      sub: b + bb,
      mul: b * bb,
      divSafe: Math.max(b, bb),
      maximum: Math.max(b, bb),
      minimum: Math.max(b, bb),
      squaredDifference: (b + bb) ** 2,
      where: Math.max(b, bb),
    }[step.op as (typeof BINARY)[number]];
    return { shape, bound };
  }
  if ((REDUCE as readonly string[]).includes(step.op)) {
    const r = x!.shape.length;
    const axes = ((a.axes as number[] | null) ?? [...Array(r).keys()]).map((ax) => (ax < 0 ? ax + r : ax));
    const shape = a.keepDims ? x!.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x!.shape.filter((_, i) => !axes.includes(i));
    const n = sizeOf(axes.map((i) => x!.shape[i]!));
    return { shape, bound: step.op === 'sum' ? b * n : b };
  }
  const s = x!.shape;
  switch (step.op) {
    case 'matMul': {
      const as = (a.aShape as number[] | null) ?? s;
      const bs = (a.bShape as number[] | null) ?? y!.shape;
      const m = a.transposeA ? as[as.length - 1]! : as[as.length - 2]!;
      const kk = a.transposeA ? as[as.length - 2]! : as[as.length - 1]!;
      const n = a.transposeB ? bs[bs.length - 2]! : bs[bs.length - 1]!;
      const batch = broadcastShape(as.slice(0, -2), bs.slice(0, -2));
      return batch ? { shape: [...batch, m, n], bound: b * y!.bound * kk } : null;
    }
    case 'transpose':
      return { shape: (a.perm as number[]).map((p) => s[p]!), bound: b };
    case 'reshape':
      return { shape: a.shape as number[], bound: b };
    case 'expandDims': {
      const ax = a.axis as number;
      const shape = [...s];
      shape.splice(ax < 0 ? ax + s.length + 1 : ax, 0, 1);
      return { shape, bound: b };
    }
    case 'squeeze': {
      const axes = a.axes as number[];
      return { shape: s.filter((d, i) => (axes.length === 0 ? d !== 1 : !axes.includes(i))), bound: b };
    }
    case 'slice':
      return { shape: s.map((d, i) => ((a.size as number[])[i] === -1 ? d - (a.begin as number[])[i]! : (a.size as number[])[i]!)), bound: b };
    case 'concat': {
      const r = s.length;
      const ax = (a.axis as number) < 0 ? (a.axis as number) + r : (a.axis as number);
      const shape = [...s];
      shape[ax] = step.args.reduce((t, i) => t + vals[i]!.shape[ax]!, 0);
      return { shape, bound: Math.max(...step.args.map((i) => vals[i]!.bound)) };
    }
    case 'broadcastTo':
      return { shape: a.shape as number[], bound: b };
    case 'pad':
      return { shape: s.map((d, i) => d + (a.paddings as number[][])[i]![0]! + (a.paddings as number[][])[i]![1]!), bound: Math.max(b, 2) };
    case 'tile':
      return { shape: s.map((d, i) => d * (a.reps as number[])[i]!), bound: b };
  }
  return null;
}

// ---- building the Graph ----

export interface BuiltGraph {
  g: Graph;
  inputs: SymbolicTensor[];
  values: SymbolicTensor[];
  /** The recipe's fetches, then (with a loss) one gradient per input. */
  fetches: SymbolicTensor[];
  /** The optimizer step (a target), when the recipe trains and the loss reaches a variable. */
  target: SymbolicTensor | null;
  feeds: Record<string, Tensor>;
}

function applyStep(step: Step, vals: SymbolicTensor[]): SymbolicTensor {
  const [x, y] = step.args.map((i) => vals[i]!);
  const a = step.attrs;
  const other = (): SymbolicTensor | number => y ?? (a.scalar as number);
  const bin = (f: (p: SymbolicTensor | number, q: SymbolicTensor | number) => SymbolicTensor) => (a.scalarFirst ? f(other(), x!) : f(x!, other()));
  switch (step.op) {
    case 'neg':
      return k.neg(x!);
    case 'abs':
      return k.abs(x!);
    case 'exp':
      return k.exp(x!);
    case 'tanh':
      return k.tanh(x!);
    case 'sigmoid':
      return k.sigmoid(x!);
    case 'relu':
      return k.relu(x!);
    case 'square':
      return k.square(x!);
    // + 0.01 keeps the gradient bounded (1 / (2 sqrt(|x|)) near 0 amplifies 1-ulp differences).
    case 'sqrtAbs':
      return k.sqrt(k.add(k.abs(x!), 0.01));
    case 'log1pAbs':
      return k.log(k.add(k.abs(x!), 1));
    case 'sin':
      return k.sin(x!);
    case 'softplus':
      return k.softplus(x!);
    case 'elu':
      return k.elu(x!);
    case 'leakyRelu':
      return k.leakyRelu(x!, 0.1);
    case 'relu6':
      return k.relu6(x!);
    case 'castInt':
      return k.cast(k.cast(x!, 'int32'), 'float32');
    case 'castBool':
      return k.cast(k.cast(x!, 'bool'), 'float32');
    case 'add':
      return bin(k.add);
    case 'sub':
      return bin(k.sub);
    case 'mul':
      return bin(k.mul);
    case 'divSafe':
      return bin((p, q) => k.div(p, typeof q === 'number' ? Math.abs(q) + 1 : k.add(k.abs(q), 1)));
    case 'maximum':
      return bin(k.maximum);
    case 'minimum':
      return bin(k.minimum);
    case 'squaredDifference':
      return bin(k.squaredDifference);
    case 'where': {
      const cond = k[a.cmp as (typeof CMPS)[number]](x!, y!);
      return a.swap ? k.where(cond, y!, x!) : k.where(cond, x!, y!);
    }
    case 'sum':
      return k.sum(x!, a.axes as number[] | null, a.keepDims as boolean);
    case 'mean':
      return k.mean(x!, a.axes as number[] | null, a.keepDims as boolean);
    case 'max':
      return k.max(x!, a.axes as number[] | null, a.keepDims as boolean);
    case 'min':
      return k.min(x!, a.axes as number[] | null, a.keepDims as boolean);
    case 'matMul': {
      const p = a.aShape ? k.reshape(x!, a.aShape as number[]) : x!;
      const q = a.bShape ? k.reshape(y!, a.bShape as number[]) : y!;
      return k.matMul(p, q, a.transposeA as boolean, a.transposeB as boolean);
    }
    case 'transpose':
      return k.transpose(x!, a.perm as number[]);
    case 'reshape':
      return k.reshape(x!, a.shape as number[]);
    case 'expandDims':
      return k.expandDims(x!, a.axis as number);
    case 'squeeze':
      return k.squeeze(x!, a.axes as number[]);
    case 'slice':
      return k.slice(x!, a.begin as number[], a.size as number[]);
    case 'concat':
      return k.concat(
        step.args.map((i) => vals[i]!),
        a.axis as number,
      );
    case 'broadcastTo':
      return k.broadcastTo(x!, a.shape as number[]);
    case 'softmax':
      return k.softmax(x!, a.axis as number);
    case 'logSoftmax':
      return k.logSoftmax(x!, a.axis as number);
    case 'pad':
      return k.pad(x!, a.paddings as number[][], a.value as number);
    case 'tile':
      return k.tile(x!, a.reps as number[]);
  }
}

function makeInput(g: Graph, spec: InputSpec, i: number, value: Tensor): SymbolicTensor {
  if (spec.kind === 'variable') return g.variable(value, `v${i}`);
  return g.placeholder('float32', spec.unknownFirstDim ? [null, ...spec.shape.slice(1)] : spec.shape, `x${i}`);
}

/** The step applied to the graph, or null when the graph rejects it (a KilnError). */
function trySymbolic(step: Step, vals: SymbolicTensor[]): SymbolicTensor | null {
  try {
    return applyStep(step, vals);
  } catch (e) {
    if (e instanceof k.KilnError) return null;
    throw e;
  }
}

/** The Graph of a Recipe, with its feeds (placeholder values drawn from recipe.dataSeed). */
export function buildGraph(recipe: Recipe): BuiltGraph {
  const g = new Graph();
  const rand = makeRandom(recipe.dataSeed);
  const feeds: Record<string, Tensor> = {};
  const inputs = recipe.inputs.map((spec, i) => {
    const t = new Tensor('float32', spec.shape);
    for (let j = 0; j < t.size; j++) t.data[j] = rand() * 4 - 2;
    const x = makeInput(g, spec, i, t);
    if (spec.kind === 'placeholder') feeds[x.name] = t;
    return x;
  });
  const values = [...inputs];
  for (const step of recipe.steps) values.push(applyStep(step, values));
  const fetches = recipe.fetches.map((i) => values[i]!);
  let target: SymbolicTensor | null = null;
  if (recipe.lossOf !== null) {
    const loss = k.sum(values[recipe.lossOf]!);
    fetches.push(...k.gradients(loss, inputs));
    if (recipe.train) {
      // Only the variables a gradient reaches (casts and comparisons block the others).
      const vars = inputs.filter((x) => x.node.op === 'variable');
      const reached = gradientsOrNull(loss, vars);
      const varList = vars.filter((_, i) => reached[i] !== null);
      if (varList.length > 0) target = makeOptimizer(recipe.train).minimize(loss, varList);
    }
  }
  return { g, inputs, values, fetches, target, feeds };
}

/**
 * Adam and RMSProp divide by sqrt(mean of grad^2) + epsilon: with TF's 1e-7, a gradient that is
 * 0 up to rounding (1e-8 noise) becomes a full step of either sign, so epsilon is 1e-3 here.
 */
function makeOptimizer(name: OptimizerName): k.Optimizer {
  switch (name) {
    case 'sgd':
      return k.train.sgd(0.1);
    case 'momentum':
      return k.train.momentum(0.1, 0.9);
    case 'adam':
      return k.train.adam(0.05, 0.9, 0.999, 1e-3);
    case 'rmsprop':
      return k.train.rmsprop(0.05, 0.9, 0.5, 1e-3, true);
    case 'adagrad':
      return k.train.adagrad(0.1);
  }
}
