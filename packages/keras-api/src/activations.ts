/**
 * Activations by name (TensorFlow.js identifiers), each a composition of graph ops. Used by
 * the `activation` option of layers and by the Activation layer.
 */
import {
  KilnError,
  type SymbolicTensor,
  add,
  clipByValue,
  div,
  abs,
  elu,
  gelu,
  logSoftmax,
  mul,
  relu,
  relu6,
  selu,
  sigmoid,
  softmax,
  softplus,
  tanh,
} from '@kiln/graph';

const ACTIVATIONS = {
  linear: (x: SymbolicTensor) => x,
  relu,
  relu6,
  elu: (x: SymbolicTensor) => elu(x),
  selu,
  sigmoid,
  hardSigmoid: (x: SymbolicTensor) => clipByValue(add(mul(x, 0.2), 0.5), 0, 1),
  softmax: (x: SymbolicTensor) => softmax(x, -1),
  logSoftmax: (x: SymbolicTensor) => logSoftmax(x, -1),
  softplus,
  softsign: (x: SymbolicTensor) => div(x, add(abs(x), 1)),
  tanh,
  swish: (x: SymbolicTensor) => mul(x, sigmoid(x)),
  gelu: (x: SymbolicTensor) => gelu(x),
} as const satisfies Record<string, (x: SymbolicTensor) => SymbolicTensor>;

export type ActivationIdentifier = keyof typeof ACTIVATIONS;

/** Checks an activation name (undefined and null mean 'linear'). */
export function checkActivation(id: unknown, what: string): ActivationIdentifier {
  if (id === undefined || id === null) return 'linear';
  if (typeof id !== 'string' || !(id in ACTIVATIONS)) {
    throw new KilnError('INVALID_ARGUMENT', `${what}: unknown activation ${JSON.stringify(id)} (expected one of ${Object.keys(ACTIVATIONS).join(', ')})`);
  }
  return id as ActivationIdentifier;
}

/** Applies the named activation. */
export function applyActivation(id: ActivationIdentifier, x: SymbolicTensor): SymbolicTensor {
  return ACTIVATIONS[id](x);
}
