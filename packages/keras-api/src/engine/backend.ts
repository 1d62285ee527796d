/**
 * The backend picker of Keras models: `compile({ backend })` names where training and
 * inference run: 'cpu' (default; compiled, fused kernels), 'reference' (the reference executor,
 * node by node: the oracle) or 'webgpu' (not wired to Keras models yet: kiln.session() runs
 * graphs on WebGPU, but a model's session is created synchronously and the adapter is acquired
 * asynchronously). The umbrella's
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
      throw new KilnError(
        'UNSUPPORTED',
        "model: backend 'webgpu' does not run Keras models yet (graphs run on WebGPU through kiln.session(g, { backend: 'webgpu' })); use backend: 'cpu'",
      );
  }
}

/** A Session running `g` on the named backend, its random streams seeded by `seed`. */
export function modelSession(g: Graph, backend: BackendName, seed: number): Session {
  return new Session(g, pickBackend(backend), { seed });
}
