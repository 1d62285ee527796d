/**
 * Weight regularizers (TensorFlow.js `tf.regularizers`): l1, l2 and l1l2. A regularizer maps a
 * weight to a scalar penalty built from graph ops; the model adds every penalty to the loss it
 * trains on (and reports), as Keras does.
 */
import { KilnError, type SymbolicTensor, add, losses } from '@kiln/graph';

export interface Regularizer {
  readonly className: 'L1L2';
  readonly config: { l1: number; l2: number };
  /** The penalty of weight `x`: l1 * sum(|x|) + l2 * sum(x^2). */
  apply(x: SymbolicTensor): SymbolicTensor;
}

function check(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new KilnError('INVALID_ARGUMENT', `regularizers: ${name} must be a finite number >= 0, got ${String(v)}`);
  }
  return v;
}

/** l1 * sum(|x|) + l2 * sum(x^2). */
export function l1l2(config: { l1?: number; l2?: number } = {}): Regularizer {
  const l1 = check('l1', config.l1 ?? 0.01);
  const l2 = check('l2', config.l2 ?? 0.01);
  return {
    className: 'L1L2',
    config: { l1, l2 },
    apply(x) {
      const terms: SymbolicTensor[] = [];
      if (l1 > 0) terms.push(losses.l1(x, l1));
      if (l2 > 0) terms.push(losses.l2(x, l2));
      if (terms.length === 0) return x.graph.constant(0, 'float32');
      return terms.length === 1 ? terms[0]! : add(terms[0]!, terms[1]!);
    },
  };
}

/** l1 * sum(|x|) (default l1 = 0.01). */
export function l1(config: { l1?: number } = {}): Regularizer {
  return l1l2({ l1: config.l1 ?? 0.01, l2: 0 });
}

/** l2 * sum(x^2) (default l2 = 0.01). */
export function l2(config: { l2?: number } = {}): Regularizer {
  return l1l2({ l1: 0, l2: config.l2 ?? 0.01 });
}

export type RegularizerIdentifier = Regularizer | 'l1' | 'l2' | 'l1l2';

/** A regularizer from its name or itself; null/undefined stays null. */
export function getRegularizer(
  id: RegularizerIdentifier | { className: string; config: { l1: number; l2: number } } | null | undefined,
  what: string,
): Regularizer | null {
  if (id === null || id === undefined) return null;
  if (id === 'l1') return l1();
  if (id === 'l2') return l2();
  if (id === 'l1l2') return l1l2();
  if (typeof id === 'object' && id.className === 'L1L2' && typeof id.config === 'object') {
    return 'apply' in id ? (id as Regularizer) : l1l2(id.config);
  }
  throw new KilnError('INVALID_ARGUMENT', `${what}: unknown regularizer ${JSON.stringify(id)} (expected 'l1', 'l2', 'l1l2' or regularizers.l1/l2/l1l2(...))`);
}

export const regularizers = { l1, l2, l1l2 };
