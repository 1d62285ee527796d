/**
 * Model files on disk for Session.save / kiln.restore: atomic writes (a temporary file in the
 * same folder, then a rename, so a crash never leaves a half-written model) and reads. Node's
 * fs is imported on demand, so bundles for browsers that never save load no Node module.
 */
import { KilnError } from '@kiln/graph';

async function fs(what: string): Promise<typeof import('node:fs/promises') & { dirname: (p: string) => string }> {
  try {
    // Inside try: a bundler for browsers leaves a failing dynamic import unresolved here.
    const promises = await import('node:fs/promises');
    const path = await import('node:path');
    return { ...promises, dirname: path.dirname };
  } catch {
    throw new KilnError('UNSUPPORTED', `${what}: files need Node's fs; in a browser, serialize with serializeGraph() and store the bytes yourself`);
  }
}

/**
 * Writes `bytes` to `path` atomically: the data go to a temporary file beside the target,
 * flushed to disk, then renamed over the target. `opts.makeParents` creates missing parent
 * folders (model.save does, as Keras; Session.save reports a missing folder).
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, what = 'save', opts: { makeParents?: boolean } = {}): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new KilnError('INVALID_ARGUMENT', `${what}: path must be a non-empty string, got ${JSON.stringify(path)}`);
  const { mkdir, open, rename, rm, dirname } = await fs(what);
  const tmp = `${path}.tmp-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
  try {
    if (opts.makeParents) await mkdir(dirname(path), { recursive: true });
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new KilnError('IO_ERROR', `${what}: cannot write '${path}': ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Reads a whole file as bytes. */
export async function readModelFile(path: string, what = 'restore'): Promise<Uint8Array> {
  if (typeof path !== 'string' || path === '') throw new KilnError('INVALID_ARGUMENT', `${what}: path must be a non-empty string, got ${JSON.stringify(path)}`);
  const { readFile } = await fs(what);
  try {
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new KilnError('IO_ERROR', `${what}: cannot read '${path}': ${e instanceof Error ? e.message : String(e)}`);
  }
}
