/**
 * NumPy .npy files (format versions 1.0, 2.0 and 3.0): the magic "\x93NUMPY", a version, a
 * little-endian header length, a Python dict literal header ({'descr': '<f4',
 * 'fortran_order': False, 'shape': (2, 3), }) padded with spaces to a multiple of 64 bytes and
 * ended by '\n', then the data in C order. float32, int32 and bool map directly; float64 and
 * int64 (NumPy's defaults) are narrowed to float32 / int32 on read (an int64 that does not fit
 * is an error). Writes version 1.0 in little-endian.
 */
import { Tensor } from '@kiln/graph';
import { CliError } from './errors.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

const DESCR_OUT: Record<Tensor['dtype'], string> = { float32: '<f4', int32: '<i4', bool: '|b1' };

interface NpyHeader {
  descr: string;
  fortran: boolean;
  shape: number[];
}

function parseHeader(text: string, what: string): NpyHeader {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new CliError(`${what}: the .npy header is not a dict with 'descr', 'fortran_order' and 'shape': ${text.trim()}`);
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const d = Number(s.replace(/L$/, ''));
      if (!Number.isSafeInteger(d) || d < 0) throw new CliError(`${what}: bad dim '${s}' in the .npy shape (${shapeText})`);
      return d;
    });
  return { descr, fortran: fortran === 'True', shape };
}

/** Reads .npy bytes as a Kiln Tensor; `what` names the file in errors. */
export function readNpy(bytes: Uint8Array, what: string): Tensor {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new CliError(`${what}: not a .npy file (no \\x93NUMPY magic)`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new CliError(`${what}: truncated .npy header`);
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw new CliError(`${what}: unsupported .npy format version ${major}.${bytes[7]} (expected 1.0, 2.0 or 3.0)`);
  }
  if (start + headerLen > bytes.length) throw new CliError(`${what}: truncated .npy header (${headerLen} bytes announced)`);
  const header = parseHeader(new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen)), what);
  if (header.fortran && header.shape.length > 1) throw new CliError(`${what}: Fortran-order arrays are not supported; save with np.ascontiguousarray`);
  const size = header.shape.reduce((a, b) => a * b, 1);
  const data = bytes.subarray(start + headerLen);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const int64At = (i: number): number => {
    const v = dv.getBigInt64(i * 8, true);
    if (v > 2147483647n || v < -2147483648n) throw new CliError(`${what}: int64 value ${v} at element ${i} does not fit int32`);
    return Number(v);
  };
  const kinds: Record<string, { bytes: number; dtype: Tensor['dtype']; get: (i: number) => number }> = {
    '<f4': { bytes: 4, dtype: 'float32', get: (i) => dv.getFloat32(i * 4, true) },
    '<f8': { bytes: 8, dtype: 'float32', get: (i) => dv.getFloat64(i * 8, true) },
    '<i4': { bytes: 4, dtype: 'int32', get: (i) => dv.getInt32(i * 4, true) },
    '<i8': { bytes: 8, dtype: 'int32', get: (i) => int64At(i) },
    '|b1': { bytes: 1, dtype: 'bool', get: (i) => (data[i] ? 1 : 0) },
    '|u1': { bytes: 1, dtype: 'int32', get: (i) => data[i]! },
  };
  const kind = kinds[header.descr];
  if (!kind) throw new CliError(`${what}: unsupported .npy dtype '${header.descr}' (expected <f4, <f8, <i4, <i8, |u1 or |b1)`);
  if (data.length < size * kind.bytes) {
    throw new CliError(`${what}: truncated .npy data: shape (${header.shape.join(', ')}) needs ${size * kind.bytes} bytes, got ${data.length}`);
  }
  const t = new Tensor(kind.dtype, header.shape);
  for (let i = 0; i < size; i++) t.data[i] = kind.get(i);
  return t;
}

/** A Kiln Tensor as .npy (format 1.0) bytes. */
export function writeNpy(t: Tensor): Uint8Array {
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '${DESCR_OUT[t.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + t.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), 10 + header.length);
  return out;
}
