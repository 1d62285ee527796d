/**
 * Helpers shared by the GemmEngine tests (gemm, conv-gemm, conv-backprop-gemm): engines on 1
 * and 2 threads, seeded random fills, the element-wise tolerance check, and a case's im2col
 * workspace (optionally limited to a few rows to force many row blocks).
 */
import { expect } from '@jest/globals';
import type { Shape4 } from '../src/compiled/wasm/conv-common.js';
import { GemmEngine } from '../src/compiled/wasm/index.js';
import { type Node, Tensor } from '@kiln/graph';
import { makeRandom } from '../src/reference/random.js';
import type { RefContext } from '../src/reference/registry.js';

export type { Pair, Shape4 } from '../src/compiled/wasm/conv-common.js';

/** A GemmEngine on 1 thread and one on 2 threads. */
export async function openEngines(): Promise<[GemmEngine, GemmEngine]> {
  return [await GemmEngine.create({ threads: 1 }), await GemmEngine.create({ threads: 2 })];
}

export function closeEngines(...engines: GemmEngine[]): void {
  for (const e of engines) e.dispose();
}

/** Seeded uniforms in [-0.5, 0.5). */
export function centeredRandom(seed: number): () => number {
  const r = makeRandom(seed);
  return () => r() - 0.5;
}

/** Fills `view` with successive draws of `r`. */
export function fillRandom(view: Float32Array, r: () => number): void {
  for (let i = 0; i < view.length; i++) view[i] = r();
}

/** Every |got[i] - want[i]| <= atol + rtol * |want[i]|; throws naming `what` and the first element that is not. */
export function expectAllClose(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (!(Math.abs(got[i]! - w) <= atol + rtol * Math.abs(w))) throw new Error(`${what}: element ${i} is ${got[i]}, expected ${w}`);
  }
  expect(got.length).toBe(want.length);
}

/** The workspace for a case: `need` bytes, or only `scratchRows` im2col rows of the filter c.f when set. */
export function scratchFor(e: GemmEngine, need: number, c: { f: Shape4; scratchRows?: number }): { scratch: number; scratchBytes: number } {
  const scratchBytes = c.scratchRows ? c.scratchRows * c.f[0] * c.f[1] * c.f[2] * 4 : need;
  return { scratch: e.alloc(scratchBytes), scratchBytes };
}

/** A float32 tensor of seeded uniforms in [-1, 1). */
export function randomTensor(shape: number[], seed: number): Tensor {
  const r = makeRandom(seed);
  const t = new Tensor('float32', shape);
  for (let i = 0; i < t.size; i++) t.data[i] = 2 * r() - 1;
  return t;
}

/** A RefContext for calling a stateless reference kernel directly. */
export function statelessContext(node: Node): RefContext {
  const none = (): never => {
    throw new Error('no state in this test');
  };
  return { node, random: none, readVariable: none, writeVariable: none };
}
