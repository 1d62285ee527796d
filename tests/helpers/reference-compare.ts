/**
 * Comparing a compiled or rewritten graph with the reference executor: seeded random feeds for
 * every placeholder, and an element-wise closeness check that names what failed.
 */
import { expect } from '@jest/globals';
import { type Graph, Tensor } from '@kiln/graph';
import { makeRandom } from '@kiln/runtime-cpu';

/** A value for every placeholder: unknown dims become `unknownDim`; floats in [-2, 2), ints in [-5, 5). */
export function randomFeeds(g: Graph, seed: number, unknownDim = 1): Record<string, Tensor> {
  const rnd = makeRandom(seed);
  const feeds: Record<string, Tensor> = {};
  for (const p of g.placeholders()) {
    const shape = (p.attrs.shape as (number | null)[]).map((d) => d ?? unknownDim);
    const dtype = p.attrs.dtype as Tensor['dtype'];
    const t = new Tensor(dtype, shape);
    for (let i = 0; i < t.size; i++) t.data[i] = dtype === 'bool' ? (rnd() < 0.5 ? 1 : 0) : dtype === 'int32' ? Math.floor(rnd() * 10) - 5 : rnd() * 4 - 2;
    feeds[p.name] = t;
  }
  return feeds;
}

/** Same shape and dtype, NaN where `want` has NaN, else |got - want| <= atol + rtol * |want|. */
export function expectClose(got: Tensor | null | undefined, want: Tensor, what: string, atol = 1e-5, rtol = 1e-4): void {
  if (!got) throw new Error(`${what}: no value`);
  expect({ what, shape: got.shape, dtype: got.dtype }).toEqual({ what, shape: want.shape, dtype: want.dtype });
  for (let i = 0; i < want.size; i++) {
    const a = got.data[i]!;
    const e = want.data[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) throw new Error(`${what}: element ${i}: got ${a}, reference ${e}`);
  }
}
