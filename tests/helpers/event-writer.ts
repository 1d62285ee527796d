/**
 * A tiny TensorBoard event-file writer for tests, independent of the CLI's reader: protobuf
 * fields encoded by hand (TensorFlow's Event / Summary field numbers) and TFRecord framing
 * (length, masked CRC32C of the length, data, masked CRC32C of the data) with the CRC
 * computed bit by bit rather than with the reader's table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}
export const tag = (field: number, wire: number) => varint((field << 3) | wire);
export const bytesField = (field: number, data: number[] | Uint8Array) => [...tag(field, 2), ...varint(data.length), ...data];
export const stringField = (field: number, s: string) => bytesField(field, [...new TextEncoder().encode(s)]);
export function fixed(field: number, value: number, width: 4 | 8): number[] {
  const b = new Uint8Array(width);
  if (width === 4) new DataView(b.buffer).setFloat32(0, value, true);
  else new DataView(b.buffer).setFloat64(0, value, true);
  return [...tag(field, width === 4 ? 5 : 1), ...b];
}

/** Event { wall_time=1, step=2, summary=5 { value=1 { tag=1, simple_value=2 | tensor=8 } } } */
export function scalarEvent(step: number, name: string, value: number, tf2: boolean): number[] {
  const tensorProto = [...varint((1 << 3) | 0), 1, ...bytesField(2, []), ...bytesField(5, fixed(1, value, 4).slice(1))]; // dtype=DT_FLOAT, shape=[], float_val packed
  const metadata = bytesField(1, stringField(1, 'scalars')); // plugin_data { plugin_name }
  const v = tf2 ? [...stringField(1, name), ...bytesField(9, metadata), ...bytesField(8, tensorProto)] : [...stringField(1, name), ...fixed(2, value, 4)];
  return [...fixed(1, 1700000000 + step, 8), ...tag(2, 0), ...varint(step), ...bytesField(5, bytesField(1, v))];
}

function crc32cBitwise(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
const mask = (crc: number) => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;

export function tfRecords(records: number[][]): Uint8Array {
  const parts: number[] = [];
  for (const r of records) {
    const head = new Uint8Array(12);
    const dv = new DataView(head.buffer);
    dv.setBigUint64(0, BigInt(r.length), true);
    dv.setUint32(8, mask(crc32cBitwise(head.subarray(0, 8))), true);
    const tail = new Uint8Array(4);
    new DataView(tail.buffer).setUint32(0, mask(crc32cBitwise(Uint8Array.from(r))), true);
    parts.push(...head, ...r, ...tail);
  }
  return Uint8Array.from(parts);
}

/** Writes `<dir>/<run>/events.out.tfevents...` with one scalar per tag per step, per run. */
export function writeScalarLogs(dir: string, runs: Record<string, Record<string, number[]>>): void {
  for (const [run, tags] of Object.entries(runs)) {
    mkdirSync(join(dir, run), { recursive: true });
    const events = [[...fixed(1, 1700000000, 8), ...stringField(3, 'brain.Event:2')]];
    const steps = Math.max(...Object.values(tags).map((v) => v.length));
    for (let step = 0; step < steps; step++) {
      Object.entries(tags).forEach(([name, values], i) => {
        if (step < values.length) events.push(scalarEvent(step, name, values[step]!, i % 2 === 1));
      });
    }
    writeFileSync(join(dir, run, 'events.out.tfevents.1700000000.host.1.v2'), tfRecords(events));
  }
}
