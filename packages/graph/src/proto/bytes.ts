/**
 * Bytes as users have them: every entry point that reads a file's bytes (model files, compiled
 * programs, ONNX, text IR) accepts a Uint8Array (a Node Buffer, a view at any byteOffset and
 * alignment), any other ArrayBufferView (DataView, Int8Array...) or an ArrayBuffer /
 * SharedArrayBuffer, and turns it into a plain Uint8Array view of exactly those bytes.
 *
 * The view is a plain Uint8Array (never a Buffer): Buffer.prototype.slice returns a view into
 * the whole file where Uint8Array.prototype.slice copies, and code that expects a copy at
 * offset 0 silently reads other bytes. Readers must still honour byteOffset (never build a
 * DataView or a typed array at offset 0 of `.buffer`); this only removes the Buffer surprise.
 */
import { KilnError } from '../errors.js';

/** What the byte-reading entry points accept. */
export type BytesLike = Uint8Array | ArrayBuffer | SharedArrayBuffer | ArrayBufferView;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object';
}

/**
 * `input` as a plain Uint8Array over the same memory (no copy). `who` names the entry point
 * for the error: anything that is not bytes is KilnError('INVALID_ARGUMENT').
 */
export function toBytes(input: unknown, who: string): Uint8Array {
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (typeof SharedArrayBuffer !== 'undefined' && input instanceof SharedArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) {
    if (input instanceof Uint8Array && input.constructor === Uint8Array) return input;
    return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  }
  throw new KilnError('INVALID_ARGUMENT', `${who}: expected the file's bytes (a Uint8Array, Buffer or ArrayBuffer), got ${describe(input)}`);
}
