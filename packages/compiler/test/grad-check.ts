/**
 * Gradient checking by central finite differences on the reference executor (test helper).
 *
 * A case builds an op on float32 placeholders with random values; the checker reduces its
 * output(s) to a scalar L = sum(y * w) with a fixed random w (so that every output element
 * matters differently), computes dL/dx symbolically with gradients() and compares it with
 * (L(x + eps) - L(x - eps)) / (2 eps) for every element of every input.
 *
 * The reference kernels compute in float32, so eps cannot be tiny: with eps = 1e-2 the
 * rounding error of L (~1e-6 relative) contributes ~1e-4 and the truncation error is
 * eps^2/6 * f''' ~ 2e-5 * f'''; we accept |analytic - numeric| <= 1e-2 + 1e-2 * |numeric|
 * (documented tolerance for float32 finite differences, looser than the 1e-4 forward rtol).
 */
import { type Graph, type SymbolicTensor, Tensor, add, mul, sum } from '@kiln/graph';
import { evaluate, makeRandom } from '@kiln/runtime-cpu';
import { gradients } from '@kiln/compiler';

export type Domain = 'any' | 'positive' | 'away' | 'unit' | ((r: () => number) => number);

export interface CaseBuilder {
  readonly g: Graph;
  /** A float32 placeholder whose gradient is checked, fed with random values from `domain`. */
  x(shape: number[], domain?: Domain): SymbolicTensor;
  /** A float32 placeholder whose gradient is checked, fed with exactly `value`. */
  xValue(value: Tensor): SymbolicTensor;
  /** A differentiated placeholder holding distinct values (shuffled grid, step 0.15): for max, min, pooling. */
  xDistinct(shape: number[], offset?: number): SymbolicTensor;
  /** A placeholder fed with a fixed value (not differentiated): int indices, masks, labels. */
  fixed(value: Tensor): SymbolicTensor;
  /** A random float32 host tensor (for constants or attrs). */
  rand(shape: number[], domain?: Domain): Tensor;
  /** Uniform random number in [0, 1). */
  random(): number;
}

export interface GradCheckOptions {
  eps?: number;
  rtol?: number;
  atol?: number;
  seed?: number;
}

export interface GradCheckResult {
  ok: boolean;
  checked: number;
  maxErr: number;
  /** A description of the worst mismatch, or '' when ok. */
  message: string;
}

export function sample(r: () => number, domain: Domain = 'any'): number {
  if (typeof domain === 'function') return domain(r);
  switch (domain) {
    case 'any':
      return r() * 2 - 1;
    case 'positive':
      return 0.5 + r() * 1.5;
    case 'away': {
      const v = 0.25 + r() * 0.75;
      return r() < 0.5 ? -v : v;
    }
    case 'unit':
      return (r() * 2 - 1) * 0.8;
  }
}

function randTensor(r: () => number, shape: number[], domain: Domain = 'any'): Tensor {
  const t = new Tensor('float32', shape);
  for (let i = 0; i < t.size; i++) t.data[i] = sample(r, domain);
  return t;
}

/** Runs `build` in a fresh graph and checks every input's gradient against finite differences. */
export function gradCheck(g: Graph, build: (b: CaseBuilder) => SymbolicTensor | SymbolicTensor[], opts: GradCheckOptions = {}): GradCheckResult {
  const eps = opts.eps ?? 1e-2;
  const rtol = opts.rtol ?? 1e-2;
  const atol = opts.atol ?? 1e-2;
  const r = makeRandom(opts.seed ?? 1234);
  const xs: SymbolicTensor[] = [];
  const feeds: Record<string, Tensor> = {};
  let counter = 0;
  const b: CaseBuilder = {
    g,
    x(shape, domain = 'any') {
      const p = g.placeholder('float32', shape, `x${counter++}`);
      feeds[p.name] = randTensor(r, shape, domain);
      xs.push(p);
      return p;
    },
    xValue(value) {
      const p = g.placeholder('float32', value.shape, `x${counter++}`);
      feeds[p.name] = value;
      xs.push(p);
      return p;
    },
    xDistinct(shape, offset = -1) {
      const t = new Tensor('float32', shape);
      const order = [...Array(t.size).keys()];
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      order.forEach((k, i) => (t.data[i] = offset + 0.15 * k));
      return b.xValue(t);
    },
    fixed(value) {
      const p = g.placeholder(value.dtype, value.shape, `fixed${counter++}`);
      feeds[p.name] = value;
      return p;
    },
    rand: (shape, domain) => randTensor(r, shape, domain),
    random: r,
  };
  const out = build(b);
  const ys = (Array.isArray(out) ? out : [out]).filter((y) => y.dtype === 'float32');
  if (ys.length === 0) throw new Error('gradCheck: the case has no float32 output');
  let loss: SymbolicTensor | null = null;
  for (const y of ys) {
    const shape = y.shape.map((d) => {
      if (d === null) throw new Error(`gradCheck: output '${y.name}' has unknown dims`);
      return d;
    });
    const term = sum(mul(y, g.constant(randTensor(r, shape, 'any'))));
    loss = loss ? add(loss, term) : term;
  }
  const grads = gradients(loss!, xs);
  const analytic = evaluate(grads, feeds);
  const lossAt = (f: Record<string, Tensor>): number => evaluate([loss!], f)[0]!.data[0]!;

  let maxErr = 0;
  let checked = 0;
  let message = '';
  xs.forEach((x, k) => {
    const base = feeds[x.name]!;
    const ga = analytic[k]!;
    if (ga.shape.join(',') !== base.shape.join(',')) {
      message = `gradient of '${x.name}' has shape [${ga.shape}] but the input is [${base.shape}]`;
      maxErr = Infinity;
      return;
    }
    for (let i = 0; i < base.size; i++) {
      const plus = base.clone();
      const minus = base.clone();
      plus.data[i] = base.data[i]! + eps;
      minus.data[i] = base.data[i]! - eps;
      const h = plus.data[i]! - minus.data[i]!;
      const numeric = (lossAt({ ...feeds, [x.name]: plus }) - lossAt({ ...feeds, [x.name]: minus })) / h;
      const a = ga.data[i]!;
      const err = Math.abs(a - numeric);
      const bound = atol + rtol * Math.abs(numeric);
      checked++;
      if (!(err <= bound) && (err / bound > maxErr || Number.isNaN(err))) {
        maxErr = Number.isNaN(err) ? Infinity : err / bound;
        message = `d/d${x.name}[${i}] (x=${base.data[i]}): analytic ${a} vs numeric ${numeric} (|diff| ${err.toExponential(2)} > ${bound.toExponential(2)})`;
      }
    }
  });
  return { ok: message === '', checked, maxErr, message };
}
