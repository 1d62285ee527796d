/**
 * A minimal protobuf wire-format reader: enough to walk ONNX messages field by field. Every
 * malformed byte sequence (truncated varint, length past the end, unknown wire type) throws
 * KilnError('CORRUPT_MODEL') naming the message being read, never a RangeError.
 */
import { KilnError } from '@kiln/graph';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

/** One field occurrence: its number, wire type and raw payload. */
export interface WireField {
  no: number;
  wire: number;
  /** For varint fields: the value as a bigint (int64 fits; negative int32/int64 are 10-byte varints). */
  varint?: bigint;
  /** For length-delimited and fixed fields: the bytes (a view into the input). */
  bytes?: Uint8Array;
}

function corrupt(what: string, detail: string): KilnError {
  return new KilnError('CORRUPT_MODEL', `ONNX ${what}: ${detail} (the file is truncated or not an ONNX protobuf)`);
}

export class WireReader {
  private pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw corrupt(this.what, 'varint runs past the end');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
    throw corrupt(this.what, 'varint longer than 10 bytes');
  }

  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw corrupt(this.what, `field of ${n} bytes at offset ${this.pos} runs past the end (${this.buf.length} bytes)`);
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  field(): WireField {
    const key = this.varint();
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (no === 0) throw corrupt(this.what, 'field number 0');
    switch (wire) {
      case WIRE_VARINT:
        return { no, wire, varint: this.varint() };
      case WIRE_FIXED64:
        return { no, wire, bytes: this.take(8) };
      case WIRE_BYTES: {
        const len = this.varint();
        if (len > BigInt(this.buf.length)) throw corrupt(this.what, `length ${len} exceeds the buffer`);
        return { no, wire, bytes: this.take(Number(len)) };
      }
      case WIRE_FIXED32:
        return { no, wire, bytes: this.take(4) };
      default:
        throw corrupt(this.what, `unsupported wire type ${wire} for field ${no}`);
    }
  }

  /** All fields of the message, in order. */
  fields(): WireField[] {
    const out: WireField[] = [];
    while (!this.done) out.push(this.field());
    return out;
  }
}

export function readFields(buf: Uint8Array, what: string): WireField[] {
  return new WireReader(buf, what).fields();
}

/** Interprets a varint as signed 64-bit (two's complement). */
export function asInt64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

export function fieldString(f: WireField, what: string): string {
  if (!f.bytes) throw corrupt(what, `field ${f.no} should be a string`);
  return new TextDecoder('utf-8', { fatal: false }).decode(f.bytes);
}

export function fieldBytes(f: WireField, what: string): Uint8Array {
  if (!f.bytes || f.wire !== WIRE_BYTES) throw corrupt(what, `field ${f.no} should be length-delimited`);
  return f.bytes;
}

export function fieldInt(f: WireField, what: string): bigint {
  if (f.varint === undefined) throw corrupt(what, `field ${f.no} should be a varint`);
  return asInt64(f.varint);
}

export function fieldFloat(f: WireField, what: string): number {
  if (!f.bytes || f.wire !== WIRE_FIXED32) throw corrupt(what, `field ${f.no} should be a 32-bit float`);
  return new DataView(f.bytes.buffer, f.bytes.byteOffset, 4).getFloat32(0, true);
}

/** A repeated integer field, packed (one bytes field) or not (one varint per occurrence). */
export function pushInts(f: WireField, out: bigint[], what: string): void {
  if (f.wire === WIRE_VARINT) {
    out.push(asInt64(f.varint!));
  } else if (f.wire === WIRE_BYTES) {
    const r = new WireReader(f.bytes!, what);
    while (!r.done) out.push(asInt64(r.varint()));
  } else {
    throw corrupt(what, `field ${f.no} should hold integers`);
  }
}

/** A repeated float field, packed or not. */
export function pushFloats(f: WireField, out: number[], what: string): void {
  if (f.wire === WIRE_FIXED32) {
    out.push(fieldFloat(f, what));
  } else if (f.wire === WIRE_BYTES) {
    const b = f.bytes!;
    if (b.length % 4 !== 0) throw corrupt(what, `packed floats of ${b.length} bytes`);
    const dv = new DataView(b.buffer, b.byteOffset, b.length);
    for (let i = 0; i < b.length; i += 4) out.push(dv.getFloat32(i, true));
  } else {
    throw corrupt(what, `field ${f.no} should hold floats`);
  }
}

/** A repeated double field, packed or not. */
export function pushDoubles(f: WireField, out: number[], what: string): void {
  if (f.wire === WIRE_FIXED64) {
    out.push(new DataView(f.bytes!.buffer, f.bytes!.byteOffset, 8).getFloat64(0, true));
  } else if (f.wire === WIRE_BYTES) {
    const b = f.bytes!;
    if (b.length % 8 !== 0) throw corrupt(what, `packed doubles of ${b.length} bytes`);
    const dv = new DataView(b.buffer, b.byteOffset, b.length);
    for (let i = 0; i < b.length; i += 8) out.push(dv.getFloat64(i, true));
  } else {
    throw corrupt(what, `field ${f.no} should hold doubles`);
  }
}

export { corrupt };
