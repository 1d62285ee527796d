/**
 * The CLI's .npy reader and writer against the format's documentation (numpy.lib.format):
 * bytes built by hand per the spec (magic, version, little-endian header length, the dict
 * header padded with spaces to a multiple of 64 and ended by '\n', C-order data), and, where
 * python3 with NumPy is installed, files written and read by NumPy itself.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, tensor } from '@kiln/graph';
import { readNpy, writeNpy } from '../packages/kiln/src/cli/npy.js';

/** .npy bytes as the spec describes them. */
function npyBytes(descr: string, shape: string, data: Uint8Array, version: 1 | 2 = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat((64 - ((prefix + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(prefix + header.length + data.length);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), prefix);
  out.set(data, prefix + header.length);
  return out;
}

const bytesOf = (a: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array) => new Uint8Array(a.buffer);

describe('.npy reader and writer', () => {
  it('writes exactly the bytes the spec prescribes (what np.save writes)', () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const written = writeNpy(t);
    expect(Buffer.from(written).equals(Buffer.from(npyBytes('<f4', '(2, 3)', bytesOf(Float32Array.of(1, 2, 3, 4, 5, 6)))))).toBe(true);
    expect(written.length % 64).toBe(24); // 64-byte aligned header, then 24 data bytes
    expect(Buffer.from(writeNpy(new Tensor('int32', [3], Int32Array.of(7, -8, 9)))).includes(Buffer.from("'shape': (3,), }"))).toBe(true);
  });

  it('reads float32, float64, int32, int64, uint8 and bool, any rank, format 1.0 and 2.0', () => {
    const f4 = readNpy(npyBytes('<f4', '(2, 2)', bytesOf(Float32Array.of(0.5, -1, 2, 3.25))), 'f4');
    expect([f4.dtype, f4.shape, [...f4.data]]).toEqual(['float32', [2, 2], [0.5, -1, 2, 3.25]]);
    const f8 = readNpy(npyBytes('<f8', '(3,)', bytesOf(Float64Array.of(0.1, 1e10, -2))), 'f8');
    expect([f8.dtype, [...f8.data]]).toEqual(['float32', [Math.fround(0.1), 1e10, -2]]);
    const i8 = readNpy(npyBytes('<i8', '(2,)', bytesOf(BigInt64Array.of(-3n, 2147483647n)), 2), 'i8');
    expect([i8.dtype, [...i8.data]]).toEqual(['int32', [-3, 2147483647]]);
    const i4 = readNpy(npyBytes('<i4', '()', bytesOf(Int32Array.of(42))), 'i4');
    expect([i4.shape, [...i4.data]]).toEqual([[], [42]]);
    const b1 = readNpy(npyBytes('|b1', '(1, 3)', Uint8Array.of(1, 0, 1)), 'b1');
    expect([b1.dtype, [...b1.data]]).toEqual(['bool', [1, 0, 1]]);
    const u1 = readNpy(npyBytes('|u1', '(2,)', Uint8Array.of(200, 3)), 'u1');
    expect([u1.dtype, [...u1.data]]).toEqual(['int32', [200, 3]]);
    const round = readNpy(writeNpy(tensor([[1.5], [-2]])), 'round trip');
    expect([round.shape, [...round.data]]).toEqual([
      [2, 1],
      [1.5, -2],
    ]);
  });

  it('rejects bad files with a message naming the file and the problem', () => {
    expect(() => readNpy(new TextEncoder().encode('hello world, no npy'), "'a.npy'")).toThrow("'a.npy': not a .npy file");
    expect(() => readNpy(npyBytes('<f4', '(4,)', bytesOf(Float32Array.of(1, 2))), "'b.npy'")).toThrow(
      "'b.npy': truncated .npy data: shape (4) needs 16 bytes, got 8",
    );
    expect(() => readNpy(npyBytes('>f4', '(1,)', bytesOf(Float32Array.of(1))), "'c.npy'")).toThrow("unsupported .npy dtype '>f4'");
    expect(() => readNpy(npyBytes('<i8', '(1,)', bytesOf(BigInt64Array.of(2n ** 40n))), "'d.npy'")).toThrow('does not fit int32');
    const fortran = new TextDecoder('latin1')
      .decode(npyBytes('<f4', '(2, 2)', bytesOf(new Float32Array(4))))
      .replace("'fortran_order': False", "'fortran_order': True ");
    expect(() =>
      readNpy(
        Uint8Array.from(fortran, (c) => c.charCodeAt(0)),
        "'e.npy'",
      ),
    ).toThrow('Fortran-order');
  });

  it('agrees with NumPy itself where python3 and numpy are installed', () => {
    if (spawnSync('python3', ['-c', 'import numpy']).status !== 0) {
      // No NumPy here: the hand-built bytes above are the reference. Check them once more through a round trip.
      expect([...readNpy(writeNpy(tensor([3, 4])), 'x').data]).toEqual([3, 4]);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'kiln-npy-'));
    try {
      const script = [
        'import numpy as np, sys',
        `np.save('${dir}/a.npy', np.arange(12, dtype=np.float64).reshape(3, 4) / 4)`,
        `np.save('${dir}/b.npy', np.array([[True, False]]))`,
        `np.save('${dir}/c.npy', np.arange(-3, 3))`,
        `k = np.load('${dir}/k.npy'); print(k.dtype, k.shape, repr(k.tolist()))`,
      ].join('\n');
      writeFileSync(join(dir, 'k.npy'), writeNpy(tensor([[1, -2.5, 3]])));
      const py = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
      expect(py.stderr).toBe('');
      expect(py.stdout.trim()).toBe('float32 (1, 3) [[1.0, -2.5, 3.0]]');
      const read = (n: string) => readNpy(new Uint8Array(readFileSync(join(dir, n))), n);
      expect([read('a.npy').shape, [...read('a.npy').data]]).toEqual([[3, 4], [...Array(12).keys()].map((i) => i / 4)]);
      expect([read('b.npy').dtype, [...read('b.npy').data]]).toEqual(['bool', [1, 0]]);
      expect([read('c.npy').dtype, [...read('c.npy').data]]).toEqual(['int32', [-3, -2, -1, 0, 1, 2]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
