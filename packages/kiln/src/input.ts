/**
 * `input` in the umbrella: both @kiln/compiler (a scalar-expression leaf, input(index, dtype))
 * and @kiln/keras-api (a model input, input({ shape })) export the name. The umbrella's
 * `input` dispatches on its arguments so that both keep working through 'kiln'.
 */
import { type ScalarExpr, input as scalarInput } from '@kiln/compiler';
import type { DType } from '@kiln/graph';
import { type KerasTensor, input as kerasInput } from '@kiln/keras-api';

type KerasInputArgs = Parameters<typeof kerasInput>[0];

export function input(args: KerasInputArgs): KerasTensor;
export function input(index: number, dtype: DType): ScalarExpr;
export function input(a: KerasInputArgs | number, dtype?: DType): KerasTensor | ScalarExpr {
  return typeof a === 'number' ? scalarInput(a, dtype!) : kerasInput(a);
}
