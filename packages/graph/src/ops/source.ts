/** Source ops: placeholder, variable, const. Created through Graph methods, not free functions. */
import { KilnError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor.js';
import { registerOp } from './registry.js';

registerOp({
  name: 'placeholder',
  family: 'source',
  source: true,
  doc: 'A value fed at run time; null dims are unknown.',
  inputs: [],
  attrs: { dtype: { type: 'dtype' }, shape: { type: 'shape' } },
  infer: (_, attrs) => [{ dtype: attrs.dtype as 'float32', shape: [...(attrs.shape as (number | null)[])] }],
});

registerOp({
  name: 'variable',
  family: 'source',
  source: true,
  stateful: true,
  doc: 'State living in the session, initialized from `value`; updated by assign ops.',
  inputs: [],
  attrs: { value: { type: 'tensor' }, trainable: { type: 'bool', default: true } },
  infer: (_, attrs) => {
    const v = attrs.value as Tensor;
    return [{ dtype: v.dtype, shape: [...v.shape] }];
  },
});

registerOp({
  name: 'const',
  family: 'source',
  source: true,
  doc: 'A constant value.',
  inputs: [],
  attrs: { value: { type: 'tensor' } },
  infer: (_, attrs, ctx) => {
    const v = attrs.value;
    if (!(v instanceof Tensor)) throw new KilnError('INVALID_ATTR', `${ctx.what}: value must be a Tensor`);
    return [{ dtype: v.dtype, shape: [...v.shape] }];
  },
});

export { fmtShape };
