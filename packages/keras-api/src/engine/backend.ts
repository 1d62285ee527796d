/**
 * The backend picker of Keras models: `compile({ backend })` names where training and
 * inference run: 'cpu' (default; compiled, fused kernels), 'reference' (the reference executor,
 * node by node: the oracle) or 'webgpu' (not available in this build yet). The umbrella's
 * session() makes the same choice; @kiln/keras-api cannot depend on the umbrella.
 */
import { type Backend, Session } from '@kiln/compiler';
import { type Graph, KilnError } from '@kiln/graph';
import { cpuBackend, referenceBackend } from '@kiln/runtime-cpu';

export type BackendName = 'cpu' | 'webgpu' | 'reference';

export function checkBackendName(name: unknown): BackendName {
  if (name === 'cpu' || name === 'webgpu' || name === 'reference') return name;
  throw new KilnError('INVALID_ARGUMENT', `compile: unknown backend ${JSON.stringify(name)} (expected 'cpu', 'webgpu' or 'reference')`);
}

function pickBackend(name: BackendName): Backend {
  switch (name) {
    case 'cpu':
      return cpuBackend();
    case 'reference':
      return referenceBackend();
    case 'webgpu':
      throw new KilnError('UNSUPPORTED', "model: backend 'webgpu' is not available yet in this build; use backend: 'cpu'");
  }
}

/** A Session running `g` on the named backend, its random streams seeded by `seed`. */
export function modelSession(g: Graph, backend: BackendName, seed: number): Session {
  return new Session(g, pickBackend(backend), { seed });
}
