/**
 * Test helper: checks one op's gradient rule (getGradient from @kiln/compiler, called
 * directly with placeholder dys) against central finite differences on the reference
 * executor. L = sum over outputs of sum(y * w) with fixed random w (accumulated in float64);
 * every element of every float32 placeholder input is perturbed by +-eps.
 *
 * Tolerance: |analytic - numeric| <= atol + rtol * |numeric| with atol = rtol = 1e-3 by
 * default (float32 kernels; eps = 1e-2, so rounding of L contributes ~1e-5 relative).
 */
import { expect } from '@jest/globals';
import { Graph, type Node, type SymbolicTensor, Tensor } from '@kiln/graph';
import { getGradient } from '@kiln/compiler';
import { evaluate, makeRandom } from '@kiln/runtime-cpu';

export interface FdInput {
  value: Tensor;
  /** Placeholder shape (may hold null to exercise unknown-dim paths); defaults to value.shape. */
  shape?: (number | null)[];
}

export interface FdOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Output indices whose dy is null (unused outputs). */
  nullDys?: number[];
  /** Input indices that must get no gradient although float32 (e.g. broadcastLike's like). */
  noGrad?: number[];
}

/** Random float32 values in [-1, 1) (or [lo, hi)). */
export function randn(shape: number[], seed = 7, lo = -1, hi = 1): Tensor {
  const r = makeRandom(seed);
  const t = new Tensor('float32', shape);
  for (let i = 0; i < t.size; i++) t.data[i] = lo + (hi - lo) * r();
  return t;
}

/** Builds the op on placeholders, checks its gradient rule; returns the gradient tensors. */
export function checkGrad(inputs: FdInput[], build: (...xs: SymbolicTensor[]) => SymbolicTensor, opts: FdOptions = {}): (Tensor | null)[] {
  const eps = opts.eps ?? 1e-2;
  const atol = opts.atol ?? 1e-3;
  const rtol = opts.rtol ?? 1e-3;
  const g = new Graph();
  const xs = inputs.map((inp, i) => g.placeholder(inp.value.dtype, inp.shape ?? inp.value.shape, `x${i}`));
  const feeds: Record<string, Tensor> = {};
  inputs.forEach((inp, i) => {
    feeds[`x${i}`] = inp.value;
  });
  const node: Node = build(...xs).node;
  const outs = evaluate(node.outputs, feeds);
  const r = makeRandom(99);
  const ws = outs.map((o) => {
    const w = new Tensor(o.dtype, o.shape);
    for (let i = 0; i < w.size; i++) w.data[i] = Math.round((r() * 2 - 1) * 8) / 8 || 0.5;
    return w;
  });
  const nullDys = new Set(opts.nullDys ?? []);
  const dys = node.outputs.map((o, i) => (nullDys.has(i) ? null : g.placeholder(o.dtype, o.shape, `dy${i}`)));
  dys.forEach((d, i) => {
    if (d) feeds[d.name] = ws[i]!;
  });
  const rule = getGradient(node.op);
  if (!rule) throw new Error(`no gradient rule for ${node.op}`);
  const grads = rule(dys, { node, inputs: node.inputs, outputs: node.outputs, attrs: node.attrs });
  expect(grads.length).toBe(node.inputs.length);

  const loss = (f: Record<string, Tensor>): number => {
    const ys = evaluate(node.outputs, f);
    let l = 0;
    ys.forEach((y, k) => {
      if (nullDys.has(k)) return;
      for (let i = 0; i < y.size; i++) l += y.data[i]! * ws[k]!.data[i]!;
    });
    return l;
  };

  return node.inputs.map((inp, k) => {
    const xi = xs.indexOf(inp);
    const gk = grads[k] ?? null;
    if (xi < 0 || inp.dtype !== 'float32' || opts.noGrad?.includes(k)) {
      expect(gk).toBeNull();
      return null;
    }
    expect(gk).not.toBeNull();
    const analytic = evaluate([gk!], feeds)[0]!;
    const base = feeds[`x${xi}`]!;
    expect(analytic.shape).toEqual(base.shape);
    for (let i = 0; i < base.size; i++) {
      const plus = base.clone();
      const minus = base.clone();
      plus.data[i] = base.data[i]! + eps;
      minus.data[i] = base.data[i]! - eps;
      const numeric = (loss({ ...feeds, [`x${xi}`]: plus }) - loss({ ...feeds, [`x${xi}`]: minus })) / (plus.data[i]! - minus.data[i]!);
      const a = analytic.data[i]!;
      if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
        throw new Error(`${node.op}: d/dx${xi}[${i}] analytic ${a} vs numeric ${numeric}`);
      }
    }
    return analytic;
  });
}
