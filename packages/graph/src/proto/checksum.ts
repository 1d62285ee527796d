/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial) and the model container's checksum trailer:
 * a ModelProto ends with field 15 (fixed32) holding the CRC-32 of every byte before it.
 */
import { CHECKSUM_TAG } from './schema.js';

/**
 * A table-driven CRC-32 for a reflected polynomial (init and final xor 0xffffffff): the same
 * algorithm serves CRC-32 (0xedb88320) here and CRC-32C (0x82f63b78) for TFRecord files.
 */
export function reflectedCrc32(poly: number): (bytes: Uint8Array) => number {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? poly ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return (bytes) => {
    let c = 0xffffffff;
    for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
}

/** CRC-32 of `bytes` (crc32('123456789') === 0xcbf43926). */
export const crc32 = reflectedCrc32(0xedb88320);

/** Appends the checksum field (tag + little-endian CRC-32 of `body`) to `body`. */
export function sealModelBytes(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 5);
  out.set(body, 0);
  const crc = crc32(body);
  out[body.length] = CHECKSUM_TAG;
  out[body.length + 1] = crc & 0xff;
  out[body.length + 2] = (crc >>> 8) & 0xff;
  out[body.length + 3] = (crc >>> 16) & 0xff;
  out[body.length + 4] = (crc >>> 24) & 0xff;
  return out;
}

/**
 * Checks the trailer of a sealed model: returns the body (the bytes before the checksum
 * field), or a sentence saying what is wrong.
 */
export function unsealModelBytes(bytes: Uint8Array): { body: Uint8Array } | { error: string } {
  const n = bytes.length;
  if (n < 5 || bytes[n - 5] !== CHECKSUM_TAG) {
    return { error: 'the checksum field is missing at the end (truncated or not a Kiln model)' };
  }
  const body = bytes.subarray(0, n - 5);
  const stored = (bytes[n - 4]! | (bytes[n - 3]! << 8) | (bytes[n - 2]! << 16) | (bytes[n - 1]! << 24)) >>> 0;
  const actual = crc32(body);
  if (stored !== actual) {
    return { error: `checksum mismatch: stored 0x${hex(stored)}, computed 0x${hex(actual)}` };
  }
  return { body };
}

function hex(v: number): string {
  return v.toString(16).padStart(8, '0');
}
