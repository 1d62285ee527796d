/**
 * Number and byte literals of the text IR, chosen so that printing then parsing gives back the
 * same bits: doubles (float attrs) in JS's shortest round-trip form, float32 tensor elements in
 * the shortest decimal that rounds back to the same float32, NaN payloads as raw bits, and
 * tensor data as hex of its little-endian bytes.
 */
import { type DType, allocData, bytesPerElement } from '../dtype.js';
import type { TypedArray } from '../dtype.js';

/** Makes an integral decimal look like a float ("1" -> "1.0"); leaves "1e-7", "0.5" alone. */
function floatLooking(s: string): string {
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

/** A double as the shortest decimal that parses back to it (inf, -inf, nan, -0.0 spelled out). */
export function formatDouble(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Object.is(v, -0)) return '-0.0';
  return floatLooking(String(v));
}

const CANONICAL_NAN_BITS = 0x7fc00000;
const bitsView = new DataView(new ArrayBuffer(4));

function float32Bits(v: number): number {
  bitsView.setFloat32(0, v, true);
  return bitsView.getUint32(0, true);
}

/**
 * A float32 (given as its bit pattern, so NaN payloads survive) as the shortest decimal that
 * rounds back to it; a NaN other than the canonical one prints as nan(0x........).
 */
export function formatFloat32Bits(bits: number): string {
  bitsView.setUint32(0, bits >>> 0, true);
  const v = bitsView.getFloat32(0, true);
  if (Number.isNaN(v)) return bits >>> 0 === CANONICAL_NAN_BITS ? 'nan' : `nan(0x${(bits >>> 0).toString(16).padStart(8, '0')})`;
  if (!Number.isFinite(v) || Object.is(v, -0)) return formatDouble(v);
  for (let p = 1; p <= 9; p++) {
    const d = Number(v.toPrecision(p));
    if (Math.fround(d) === v) return floatLooking(String(d));
  }
  return floatLooking(String(v));
}

/**
 * Parses a float literal (decimal, inf, -inf, nan, nan(0x...)) to a double; nan(0x...) gives
 * NaN here (parseFloat32Bits keeps its payload). Returns undefined when it is not one.
 */
export function parseDouble(text: string): number | undefined {
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  if (text === 'nan' || /^nan\(0x[0-9a-fA-F]{1,8}\)$/.test(text)) return NaN;
  if (!/^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** Parses a float literal to the bit pattern of the float32 it denotes (NaN payloads kept). */
export function parseFloat32Bits(text: string): number | undefined {
  const m = /^nan\(0x([0-9a-fA-F]{1,8})\)$/.exec(text);
  if (m) {
    const bits = parseInt(m[1]!, 16) >>> 0;
    bitsView.setUint32(0, bits, true);
    return Number.isNaN(bitsView.getFloat32(0, true)) ? bits : undefined;
  }
  const d = parseDouble(text);
  if (d === undefined) return undefined;
  return Number.isNaN(d) ? CANONICAL_NAN_BITS : float32Bits(d);
}

/** The bit pattern of element i of a typed array's float32 data (exact, NaN payloads included). */
export function float32BitsAt(data: Float32Array, i: number): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(i * 4, true);
}

const HEX_OF_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/**
 * Tensor data as lowercase hex of its bytes in memory order: little-endian, as on every
 * platform JS runs on (bool: one byte per element).
 */
export function dataToHex(_dtype: DType, data: TypedArray): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const parts: string[] = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) parts[i] = HEX_OF_BYTE[bytes[i]!]!;
  return parts.join('');
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  if (c >= 65 && c <= 70) return c - 55; // A-F
  return -1;
}

/**
 * Tensor data from hex of its bytes (as dataToHex writes them); returns a message instead when
 * the hex does not hold exactly `size` elements of `dtype`.
 */
export function hexToData(dtype: DType, size: number, hex: string): TypedArray | string {
  const nbytes = size * bytesPerElement(dtype);
  if (hex.length !== nbytes * 2) {
    return `expected ${nbytes} bytes (${size} x ${dtype}), got ${hex.length / 2}`;
  }
  const data = allocData(dtype, size);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < nbytes; i++) {
    const hi = hexDigit(hex.charCodeAt(2 * i));
    const lo = hexDigit(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return `bad hex digit near byte ${i}`;
    bytes[i] = (hi << 4) | lo;
  }
  return data;
}
