/**
 * EventFileWriter: writes a TensorBoard event file (events.out.tfevents.<time>.<host>) in a
 * log directory: TFRecord framing (uint64 length, masked CRC-32C of the length, the Event
 * bytes, masked CRC-32C of the bytes), starting with the 'brain.Event:2' version event.
 * scalar(tag, value, step) appends one scalar; graph(bytes) stores a GraphDef for the graph
 * tab; histogram(tag, values, step) a weight histogram (histogram.ts). readEventFile parses a file back, checking every CRC (the test oracle and `kiln`'s
 * tools). Writes are synchronous appends, so a crashed run keeps every event written.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '@kiln/graph';
import { maskedCrc32c } from './crc32c.js';
import { type EventMsg, eventType } from './event-schema.js';
import { histogramOf } from './histogram.js';

/** One TFRecord: length, masked CRC of the length, data, masked CRC of the data. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length >>> 0, true);
  view.setUint32(4, Math.floor(data.length / 2 ** 32), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

export function encodeEvent(e: EventMsg): Uint8Array {
  return eventType().encode(eventType().fromObject(e)).finish();
}

let fileCounter = 0;

export class EventFileWriter {
  readonly path: string;

  constructor(logdir: string) {
    mkdirSync(logdir, { recursive: true });
    const secs = Math.floor(Date.now() / 1000);
    // A counter keeps two writers of one process in one second apart.
    this.path = join(logdir, `events.out.tfevents.${secs}.${hostname()}.${process.pid}.${fileCounter++}`);
    writeFileSync(this.path, tfRecord(encodeEvent({ wall_time: Date.now() / 1000, file_version: 'brain.Event:2' })));
  }

  /** Appends one scalar summary. */
  scalar(tag: string, value: number, step: number): void {
    this.write({ wall_time: Date.now() / 1000, step, summary: { value: [{ tag, simple_value: value }] } });
  }

  /** Appends the histogram of `values` (TensorBoard's histograms and distributions tabs). */
  histogram(tag: string, values: ArrayLike<number>, step: number): void {
    this.write({ wall_time: Date.now() / 1000, step, summary: { value: [{ tag, histo: histogramOf(values, `'${tag}'`) }] } });
  }

  /** Appends a serialized GraphDef (TensorBoard's graph tab). */
  graph(graphDef: Uint8Array): void {
    this.write({ wall_time: Date.now() / 1000, step: 0, graph_def: graphDef });
  }

  write(e: EventMsg): void {
    appendFileSync(this.path, tfRecord(encodeEvent(e)));
  }
}

export interface ParsedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  graphDef?: Uint8Array;
  scalars: { tag: string; value: number }[];
}

/** Parses an event file, checking both CRCs of every record; a damaged file is KilnError('PARSE_ERROR'). */
export function readEventFile(path: string): ParsedEvent[] {
  const bytes = new Uint8Array(readFileSync(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const events: ParsedEvent[] = [];
  const bad = (at: number, why: string): never => {
    throw new KilnError('PARSE_ERROR', `readEventFile '${path}': record at byte ${at}: ${why}`);
  };
  let off = 0;
  while (off < bytes.length) {
    if (off + 12 > bytes.length) bad(off, 'truncated header');
    const len = view.getUint32(off, true) + view.getUint32(off + 4, true) * 2 ** 32;
    if (view.getUint32(off + 8, true) !== maskedCrc32c(bytes.subarray(off, off + 8))) bad(off, 'length CRC mismatch');
    if (off + 12 + len + 4 > bytes.length) bad(off, `truncated data (${len} bytes announced)`);
    const data = bytes.subarray(off + 12, off + 12 + len);
    if (view.getUint32(off + 12 + len, true) !== maskedCrc32c(data)) bad(off, 'data CRC mismatch');
    const msg = eventType().toObject(eventType().decode(data), { longs: Number, defaults: false }) as EventMsg;
    events.push({
      wallTime: msg.wall_time ?? 0,
      step: Number(msg.step ?? 0),
      fileVersion: msg.file_version,
      graphDef: msg.graph_def,
      scalars: (msg.summary?.value ?? []).flatMap((v) => ('simple_value' in v && v.simple_value !== undefined ? [{ tag: v.tag, value: v.simple_value }] : [])),
    });
    off += 12 + len + 4;
  }
  return events;
}
