/**
 * A minimal protobuf wire-format reader and writer, independent of protobufjs and of
 * kiln.proto, so the tests can check field numbers against TensorFlow's and hand-write files.
 */

export interface WireField {
  field: number;
  wire: number;
  /** varint (as a signed 64-bit BigInt), fixed32/fixed64 (raw BigInt), or the bytes of a length-delimited field. */
  value: bigint | Uint8Array;
}

function readVarint(b: Uint8Array, pos: number): [bigint, number] {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    const byte = b[pos++];
    if (byte === undefined) throw new Error('truncated varint');
    v |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [v, pos];
    shift += 7n;
  }
}

export function readFields(b: Uint8Array): WireField[] {
  const out: WireField[] = [];
  let pos = 0;
  while (pos < b.length) {
    const [tag, p1] = readVarint(b, pos);
    pos = p1;
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === 0) {
      const [v, p2] = readVarint(b, pos);
      out.push({ field, wire, value: BigInt.asIntN(64, v) });
      pos = p2;
    } else if (wire === 2) {
      const [len, p2] = readVarint(b, pos);
      out.push({ field, wire, value: b.subarray(p2, p2 + Number(len)) });
      pos = p2 + Number(len);
    } else if (wire === 5) {
      out.push({ field, wire, value: BigInt(new DataView(b.buffer, b.byteOffset + pos, 4).getUint32(0, true)) });
      pos += 4;
    } else if (wire === 1) {
      out.push({ field, wire, value: new DataView(b.buffer, b.byteOffset + pos, 8).getBigUint64(0, true) });
      pos += 8;
    } else {
      throw new Error(`unexpected wire type ${wire}`);
    }
  }
  return out;
}

/** The fields of a message as field number -> values, for assertions. */
export function fieldMap(b: Uint8Array): Map<number, (bigint | Uint8Array)[]> {
  const m = new Map<number, (bigint | Uint8Array)[]>();
  for (const f of readFields(b)) m.set(f.field, [...(m.get(f.field) ?? []), f.value]);
  return m;
}

export function text(v: bigint | Uint8Array | undefined): string {
  return new TextDecoder().decode(v as Uint8Array);
}

function varint(v: bigint): number[] {
  let x = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    let byte = Number(x & 0x7fn);
    x >>= 7n;
    if (x !== 0n) byte |= 0x80;
    out.push(byte);
  } while (x !== 0n);
  return out;
}

/** Message builder: fields in the order they are added. */
export class Msg {
  private readonly bytes: number[] = [];
  int(field: number, v: number | bigint): this {
    this.bytes.push(...varint(BigInt(field << 3)), ...varint(BigInt(v)));
    return this;
  }
  bytesField(field: number, data: Uint8Array | number[]): this {
    this.bytes.push(...varint(BigInt((field << 3) | 2)), ...varint(BigInt(data.length)), ...data);
    return this;
  }
  str(field: number, s: string): this {
    return this.bytesField(field, new TextEncoder().encode(s));
  }
  msg(field: number, m: Msg): this {
    return this.bytesField(field, m.finish());
  }
  float(field: number, v: number): this {
    this.bytes.push(...varint(BigInt((field << 3) | 5)), ...new Uint8Array(new Float32Array([v]).buffer));
    return this;
  }
  double(field: number, v: number): this {
    this.bytes.push(...varint(BigInt((field << 3) | 1)), ...new Uint8Array(new Float64Array([v]).buffer));
    return this;
  }
  packedDoubles(field: number, vs: number[]): this {
    return this.bytesField(field, new Uint8Array(new Float64Array(vs).buffer));
  }
  packedFloats(field: number, vs: number[]): this {
    return this.bytesField(field, new Uint8Array(new Float32Array(vs).buffer));
  }
  packedVarints(field: number, vs: number[]): this {
    return this.bytesField(
      field,
      vs.flatMap((v) => varint(BigInt(v))),
    );
  }
  finish(): Uint8Array {
    return new Uint8Array(this.bytes);
  }
}
