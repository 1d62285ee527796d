/**
 * kiln.session(): the everyday entry point. Picks the Backend for `opts.backend` and returns
 * a Session (from @kiln/compiler) on it: 'cpu' runs the reference executor for now (generated
 * CPU code will take its place behind the same API); 'webgpu' is not wired up yet.
 */
import { type Backend, Session, type SessionOptions } from '@kiln/compiler';
import { type Graph, KilnError } from '@kiln/graph';
import { referenceBackend } from '@kiln/runtime-cpu';

export interface KilnSessionOptions extends SessionOptions {
  /** Where to run: 'cpu' (default) or 'webgpu'. */
  backend?: 'cpu' | 'webgpu';
}

async function pickBackend(name: string): Promise<Backend> {
  switch (name) {
    case 'cpu':
      return referenceBackend();
    case 'webgpu':
      throw new KilnError('UNSUPPORTED', "session: backend 'webgpu' is not available yet in this build; use backend: 'cpu'");
    default:
      throw new KilnError('INVALID_ARGUMENT', `session: unknown backend '${name}' (expected 'cpu' or 'webgpu')`);
  }
}

/** A Session running `g` on the chosen backend (default 'cpu'). */
export async function session(g: Graph, opts: KilnSessionOptions = {}): Promise<Session> {
  const { backend = 'cpu', ...rest } = opts;
  return new Session(g, await pickBackend(backend), rest);
}
