/** Seeded random inputs for `kiln bench`: floats in [-1, 1), ints in [0, 10), bools. */
import { type DType, Tensor } from '@kiln/graph';
import { makeRandom } from '@kiln/runtime-cpu';

export function makeRandomTensor(dtype: DType, shape: readonly number[], seed: number): Tensor {
  const r = makeRandom(seed);
  const t = new Tensor(dtype, [...shape]);
  for (let i = 0; i < t.size; i++) t.data[i] = dtype === 'float32' ? r() * 2 - 1 : dtype === 'int32' ? Math.floor(r() * 10) : r() < 0.5 ? 1 : 0;
  return t;
}
