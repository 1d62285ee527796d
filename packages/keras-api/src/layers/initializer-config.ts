/**
 * Initializer options of layers: a TensorFlow.js identifier ('glorotUniform'), an Initializer
 * from @kiln/graph's `initializers`, or the saved form { className, config } that a model file
 * holds. All resolve to the shared Initializer objects of @kiln/graph.
 */
import { type Initializer, KilnError, getInitializer, initializers, isInitializer } from '@kiln/graph';

export type InitializerIdentifier = string | Initializer | { className: string; config: Record<string, unknown> };

/** An Initializer from any of the accepted forms. */
export function initializerFrom(id: InitializerIdentifier): Initializer {
  if (typeof id === 'string' || isInitializer(id)) return getInitializer(id);
  if (typeof id === 'object' && id !== null && typeof id.className === 'string') {
    const fnName = id.className[0]!.toLowerCase() + id.className.slice(1);
    const make = (initializers as unknown as Record<string, (cfg: unknown) => Initializer>)[fnName];
    if (typeof make === 'function') return make({ ...(id.config ?? {}) });
  }
  throw new KilnError('INVALID_ARGUMENT', `unknown initializer ${JSON.stringify(id)}`);
}
