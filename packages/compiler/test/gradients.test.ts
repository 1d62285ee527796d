/**
 * The gradients() driver: accumulation, default and explicit dys, unknown dims, blocking,
 * integer paths, errors, naming, and second derivatives (Hessian-vector products, d2/dx2).
 * Values compare with rtol 1e-4 / atol 1e-5 unless noted.
 */
import { describe, expect, it } from '@jest/globals';
import {
  Graph,
  KilnError,
  type SymbolicTensor,
  Tensor,
  add,
  cast,
  exp,
  mul,
  registerOp,
  sigmoid,
  softplus,
  stopGradient,
  sum,
  tanh,
  tensor,
} from '@kiln/graph';
import { evaluate } from '@kiln/runtime-cpu';
import { gradients } from '@kiln/compiler';
import * as k from '@kiln/graph';
import { type CaseBuilder, gradCheck } from './grad-check.js';

function close(got: Tensor, want: number[], rtol = 1e-4, atol = 1e-5): void {
  const vals = got.toFlat();
  expect(vals.length).toBe(want.length);
  vals.forEach((v, i) => {
    const w = want[i]!;
    if (!(Math.abs(v - w) <= atol + rtol * Math.abs(w))) {
      throw new Error(`element ${i}: got ${v}, want ${w} (all: ${JSON.stringify(vals)})`);
    }
  });
}

// An op with neither a gradient rule nor a non-differentiable declaration (test-only).
registerOp({
  name: 'testOpWithoutGradient',
  family: 'test',
  inputs: [{ name: 'x' }],
  attrs: {},
  infer: ([x]) => [{ dtype: x!.dtype, shape: [...x!.shape] }],
});
function noGrad(x: SymbolicTensor): SymbolicTensor {
  return x.graph.addNode('testOpWithoutGradient', [x], {}).output;
}

describe('gradients()', () => {
  it('differentiates a polynomial and accumulates multiple uses', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [3], 'x');
    // y = x*x + 3x (x used three times)
    const y = add(mul(x, x), mul(x, 3));
    const [dx] = gradients(y, [x]);
    const xv = tensor([1, -2, 0.5]);
    close(evaluate([dx!], { x: xv })[0]!, [5, -1, 4]);
  });

  it('sums over several ys and weights them with dys', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [2], 'x');
    const y1 = mul(x, x);
    const y2 = mul(x, 5);
    const d1 = g.constant(tensor([1, 2]));
    const d2 = g.constant(tensor([10, 0]));
    const [dx] = gradients([y1, y2], [x], [d1, d2]);
    close(evaluate([dx!], { x: tensor([3, 4]) })[0]!, [2 * 3 * 1 + 5 * 10, 2 * 4 * 2]);
  });

  it('handles a null batch dim for the default dy and for unconnected xs', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [null, 3], 'x');
    const z = g.placeholder('float32', [null, 2], 'z');
    const y = mul(x, tensor([1, 2, 3]));
    const [dx, dz] = gradients(y, [x, z]);
    expect(dx!.shape).toEqual([null, 3]);
    expect(dz!.shape).toEqual([null, 2]);
    const feeds = {
      x: tensor([
        [1, 1, 1],
        [2, 2, 2],
      ]),
      z: tensor([[Infinity, NaN]]),
    };
    const [gx, gz] = evaluate([dx!, dz!], feeds);
    expect(gx!.shape).toEqual([2, 3]);
    close(gx!, [1, 2, 3, 1, 2, 3]);
    expect(gz!.shape).toEqual([1, 2]);
    close(gz!, [0, 0]);
  });

  it('gives zeros of x shape when y does not depend on x', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [2, 2], 'x');
    const w = g.placeholder('float32', [3], 'w');
    const [dx] = gradients(sum(w), [x]);
    expect(dx!.shape).toEqual([2, 2]);
    close(evaluate([dx!])[0]!, [0, 0, 0, 0]);
  });

  it('treats y == x as identity', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [2], 'x');
    const [dx] = gradients(x, [x]);
    close(evaluate([dx!], { x: tensor([7, 8]) })[0]!, [1, 1]);
  });

  it('is blocked by stopGradient', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [2], 'x');
    const y = mul(x, stopGradient(x));
    const [dx] = gradients(y, [x]);
    close(evaluate([dx!], { x: tensor([2, -3]) })[0]!, [2, -3]);
  });

  it('passes no gradient through integer tensors', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [2], 'x');
    const y = add(cast(cast(x, 'int32'), 'float32'), mul(x, 2));
    const [dx] = gradients(y, [x]);
    close(evaluate([dx!], { x: tensor([1.5, 2.5]) })[0]!, [2, 2]);
  });

  it('rejects integer xs and mismatched dys', () => {
    const g = new Graph();
    const i = g.placeholder('int32', [2], 'i');
    const x = g.placeholder('float32', [2], 'x');
    expect(() => gradients(cast(i, 'float32'), [i])).toThrow(/x 'i' is int32/);
    try {
      gradients(mul(x, 2), [x], [g.constant(tensor([1, 2, 3]))]);
      throw new Error('no error');
    } catch (e) {
      expect((e as KilnError).code).toBe('SHAPE_MISMATCH');
      expect((e as Error).message).toMatch(/\[3\].*\[2\]/);
    }
  });

  it('raises NOT_DIFFERENTIABLE naming the op and node, only for nodes on a path', () => {
    const g = new Graph();
    const x = g.placeholder('float32', [2], 'x');
    const w = g.placeholder('float32', [2], 'w');
    const bad = noGrad(mul(x, 2));
    try {
      gradients(sum(bad), [x]);
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(KilnError);
      expect((e as KilnError).code).toBe('NOT_DIFFERENTIABLE');
      expect((e as Error).message).toContain("'testOpWithoutGradient'");
      expect((e as Error).message).toContain(`'${bad.node.name}'`);
    }
    // Off the x -> y path: an ungradable branch that depends only on w, or that x feeds but y ignores.
    const y = add(mul(x, 3), noGrad(w));
    noGrad(x);
    const [dx] = gradients(y, [x]);
    close(evaluate([dx!], { x: tensor([1, 1]), w: tensor([0, 0]) })[0]!, [3, 3]);
  });

  it("creates its ops under the 'gradients' name scope", () => {
    const g = new Graph();
    const x = g.placeholder('float32', [2], 'x');
    const y = mul(x, x);
    const before = g.nodes.length;
    gradients(y, [x]);
    const added = g.nodes.slice(before);
    expect(added.length).toBeGreaterThan(0);
    expect(added.map((n) => n.name).filter((nm) => !nm.startsWith('gradients/'))).toEqual([]);
  });
});

describe('second derivatives', () => {
  it('computes a Hessian-vector product', () => {
    // f(x) = sum(x^3) + x0*x1  ->  H = diag(6x) + [[0,1],[1,0]] on the first two coordinates.
    const g = new Graph();
    const x = g.placeholder('float32', [3], 'x');
    const v = g.placeholder('float32', [3], 'v');
    const x0 = sum(mul(x, tensor([1, 0, 0])));
    const x1 = sum(mul(x, tensor([0, 1, 0])));
    const f = add(sum(mul(mul(x, x), x)), mul(x0, x1));
    const [grad] = gradients(f, [x]);
    const [hv] = gradients(sum(mul(grad!, v)), [x]);
    const xv = [1, 2, -1];
    const vv = [0.5, -1, 2];
    const want = [6 * xv[0]! * vv[0]! + vv[1]!, 6 * xv[1]! * vv[1]! + vv[0]!, 6 * xv[2]! * vv[2]!];
    close(evaluate([hv!], { x: tensor(xv), v: tensor(vv) })[0]!, want);
  });

  const xs = [-1.5, -0.3, 0.2, 1.1];
  const sig = (t: number): number => 1 / (1 + Math.exp(-t));
  const cases: [string, (x: SymbolicTensor) => SymbolicTensor, (t: number) => number][] = [
    ['tanh', tanh, (t) => -2 * Math.tanh(t) * (1 - Math.tanh(t) ** 2)],
    ['sigmoid', sigmoid, (t) => sig(t) * (1 - sig(t)) * (1 - 2 * sig(t))],
    ['softplus', softplus, (t) => sig(t) * (1 - sig(t))],
    ['exp', exp, (t) => Math.exp(t)],
  ];
  for (const [name, f, d2] of cases) {
    it(`d2/dx2 of ${name} matches the analytic value`, () => {
      const g = new Graph();
      const x = g.placeholder('float32', [xs.length], 'x');
      const [d1] = gradients(f(x), [x]);
      const [d2x] = gradients(d1!, [x]);
      close(evaluate([d2x!], { x: tensor(xs) })[0]!, xs.map(d2), 1e-4, 1e-5);
    });
  }
});

describe('second derivatives by finite differences of the first (tolerances as grad-check.ts)', () => {
  // Each case returns a first gradient; gradCheck differentiates it again and compares with
  // central differences of it.
  const first =
    (f: (b: CaseBuilder) => { y: SymbolicTensor; xs: SymbolicTensor[] }) =>
    (b: CaseBuilder): SymbolicTensor[] => {
      const { y, xs } = f(b);
      return gradients(y, xs);
    };
  const cases: [string, (b: CaseBuilder) => SymbolicTensor[]][] = [
    [
      'dense + tanh',
      first((b) => {
        const x = b.x([2, 3]);
        const w = b.x([3, 2]);
        return { y: k.sum(k.tanh(k.matMul(x, w))), xs: [x, w] };
      }),
    ],
    [
      'softmax cross entropy',
      first((b) => {
        const x = b.x([2, 3]);
        return {
          y: k.softmaxCrossEntropy(
            b.g.constant(
              tensor([
                [0, 1, 0],
                [0.2, 0.3, 0.5],
              ]),
            ),
            x,
          ),
          xs: [x],
        };
      }),
    ],
    [
      'sigmoid cross entropy + broadcasting bias',
      first((b) => {
        const x = b.x([3, 2]);
        const bias = b.x([2]);
        return {
          y: k.sigmoidCrossEntropy(
            b.g.constant(
              tensor([
                [1, 0],
                [0, 1],
                [1, 1],
              ]),
            ),
            k.add(x, bias),
          ),
          xs: [x, bias],
        };
      }),
    ],
    [
      'conv2d + relu-free smooth head',
      first((b) => {
        const x = b.x([1, 4, 4, 1]);
        const f = b.x([2, 2, 1, 2]);
        return { y: k.sum(k.square(k.conv2d(x, f, 1, 'same'))), xs: [x, f] };
      }),
    ],
    [
      'layerNorm',
      first((b) => {
        const x = b.x([2, 4]);
        return { y: k.sum(k.mul(k.layerNorm(x), b.g.constant(tensor([1, -2, 0.5, 3])))), xs: [x] };
      }),
    ],
    [
      'mean and exp over a reduced axis',
      first((b) => {
        const x = b.x([3, 2]);
        return { y: k.sum(k.exp(k.mean(x, 0))), xs: [x] };
      }),
    ],
  ];
  for (const [name, build] of cases) {
    it(name, () => {
      const res = gradCheck(new Graph(), build, { seed: 5 });
      expect(res.checked).toBeGreaterThan(0);
      expect(res.message).toBe('');
    });
  }
});
