/**
 * kiln.restore(path, { backend }): opens a model file written by Session.save in a new
 * session: the graph, every variable's saved value (optimizer slots included), and the saved
 * seed and run counter, so training resumes exactly where it stopped (the same random draws).
 */
import { COUNTER_KEY, SEED_KEY, type Session, readModelFile } from '@kiln/compiler';
import { KilnError, deserializeModel } from '@kiln/graph';
import { type KilnSessionOptions, session } from './session.js';

function savedInt(meta: Record<string, string>, key: string, path: string): number | undefined {
  const v = meta[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new KilnError('CORRUPT_MODEL', `restore: '${path}' has an invalid ${key} '${v}'`);
  return n;
}

/** A session on the model saved at `path` (options as kiln.session; a given seed overrides the saved one). */
export async function restore(path: string, opts: KilnSessionOptions = {}): Promise<Session> {
  const bytes = await readModelFile(path, 'restore');
  const model = deserializeModel(bytes);
  const seed = opts.seed ?? savedInt(model.metadata, SEED_KEY, path);
  const s = await session(model.graph, { ...opts, ...(seed !== undefined ? { seed } : {}) });
  const counter = savedInt(model.metadata, COUNTER_KEY, path);
  if (counter !== undefined) s.runCounter = counter;
  return s;
}
