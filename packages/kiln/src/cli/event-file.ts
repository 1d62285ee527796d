/**
 * Reads TensorBoard event files (the files a TensorBoard callback writes under a log dir),
 * independently of any writer. An event file is a TFRecord stream: each record is
 *   uint64 length (little-endian) | uint32 masked CRC32C of those 8 bytes | data |
 *   uint32 masked CRC32C of data
 * with mask(crc) = ((crc >>> 15) | (crc << 17)) + 0xa282ead8; every CRC is checked. Each
 * record's data is an Event protobuf (TensorFlow's event.proto / summary.proto field
 * numbers, declared below in a subset written for this reader) decoded with protobufjs.
 * Scalars are read from simple_value (TF1 style) or from a scalar tensor (TF2 style).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import protobuf from 'protobufjs';
import { CliError } from './errors.js';

const EVENT_PROTO = `
syntax = "proto3";
package tbreader;

message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    bytes graph_def = 4;
    Summary summary = 5;
  }
}

message Summary {
  message Value {
    string node_name = 7;
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
      bytes obsolete_old_style_histogram = 3;
      bytes image = 4;
      HistogramProto histo = 5;
      bytes audio = 6;
      TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}

message SummaryMetadata {
  message PluginData {
    string plugin_name = 1;
    bytes content = 2;
  }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
}

message HistogramProto {
  double min = 1;
  double max = 2;
  double num = 3;
  double sum = 4;
  double sum_squares = 5;
  repeated double bucket_limit = 6;
  repeated double bucket = 7;
}

message TensorShapeProto {
  message Dim {
    int64 size = 1;
    string name = 2;
  }
  repeated Dim dim = 2;
}

message TensorProto {
  int32 dtype = 1;
  TensorShapeProto tensor_shape = 2;
  bytes tensor_content = 4;
  repeated float float_val = 5;
  repeated double double_val = 6;
  repeated int32 int_val = 7;
}
`;

export interface TensorMsg {
  dtype?: number;
  tensor_content?: Uint8Array;
  float_val?: number[];
  double_val?: number[];
  int_val?: number[];
}

export interface SummaryValueMsg {
  tag?: string;
  simple_value?: number;
  histo?: { min?: number; max?: number; num?: number; sum?: number; sum_squares?: number; bucket_limit?: number[]; bucket?: number[] };
  tensor?: TensorMsg;
  metadata?: { plugin_data?: { plugin_name?: string } };
  value?: string;
}

export interface EventMsg {
  wall_time?: number;
  step?: number | { toNumber(): number };
  file_version?: string;
  graph_def?: Uint8Array;
  summary?: { value?: SummaryValueMsg[] };
  what?: string;
}

let eventType: protobuf.Type | undefined;

function eventMessage(): protobuf.Type {
  eventType ??= protobuf.parse(EVENT_PROTO, { keepCase: true }).root.lookupType('tbreader.Event');
  return eventType;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), as TFRecord uses. */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC32C_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** The records of a TFRecord stream, every length and data CRC checked; `what` names the file. */
export function readTfRecords(bytes: Uint8Array, what: string): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const at = `${what}: record ${records.length} (byte ${pos})`;
    if (pos + 12 > bytes.length) throw new CliError(`${at}: truncated header (${bytes.length - pos} bytes left, need 12)`);
    const len = Number(view.getBigUint64(pos, true));
    if (view.getUint32(pos + 8, true) !== maskedCrc32c(bytes.subarray(pos, pos + 8))) throw new CliError(`${at}: length CRC mismatch (corrupt file)`);
    const start = pos + 12;
    if (start + len + 4 > bytes.length) throw new CliError(`${at}: truncated data (${len} bytes announced, ${bytes.length - start} left)`);
    const data = bytes.subarray(start, start + len);
    if (view.getUint32(start + len, true) !== maskedCrc32c(data)) throw new CliError(`${at}: data CRC mismatch (corrupt file)`);
    records.push(data);
    pos = start + len + 4;
  }
  return records;
}

/** Every Event of an event file's bytes. */
export function readEvents(bytes: Uint8Array, what: string): EventMsg[] {
  const type = eventMessage();
  return readTfRecords(bytes, what).map((r, i) => {
    try {
      return type.toObject(type.decode(r), { longs: Number, bytes: Uint8Array, defaults: false, oneofs: true }) as EventMsg;
    } catch (e) {
      throw new CliError(`${what}: record ${i} is not an Event protobuf (${e instanceof Error ? e.message : String(e)})`);
    }
  });
}

/** The number held by a scalar summary value, or undefined when it holds something else. */
export function scalarOf(v: SummaryValueMsg): number | undefined {
  if (v.value === 'simple_value') return v.simple_value;
  const t = v.tensor;
  if (v.value !== 'tensor' || !t) return undefined;
  if (t.float_val?.length) return t.float_val[0];
  if (t.double_val?.length) return t.double_val[0];
  if (t.int_val?.length) return t.int_val[0];
  const c = t.tensor_content;
  if (c && c.length > 0) {
    const dv = new DataView(c.buffer, c.byteOffset, c.byteLength);
    if (t.dtype === 1 && c.length === 4) return dv.getFloat32(0, true);
    if (t.dtype === 2 && c.length === 8) return dv.getFloat64(0, true);
  }
  return undefined;
}

export interface ScalarPoint {
  step: number;
  wallTime: number;
  value: number;
}

/** run (event file's folder relative to the log dir, '.' for the top) -> tag -> points by step. */
export type ScalarSeries = Map<string, Map<string, ScalarPoint[]>>;

function eventFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...eventFiles(p));
    else if (name.includes('tfevents')) out.push(p);
  }
  return out;
}

/** Scalars of every event file under `logdir` (files whose name contains 'tfevents'). */
export function readScalars(logdir: string): ScalarSeries {
  let files: string[];
  try {
    if (!statSync(logdir).isDirectory()) throw new CliError(`log dir '${logdir}' is not a directory`);
    files = eventFiles(logdir);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`log dir '${logdir}' cannot be read (${e instanceof Error ? e.message : String(e)})`);
  }
  if (files.length === 0) throw new CliError(`log dir '${logdir}' holds no event files (*tfevents*)`);
  const series: ScalarSeries = new Map();
  for (const file of files) {
    const run = relative(logdir, join(file, '..')) || '.';
    const b = readFileSync(file);
    for (const ev of readEvents(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), `'${file}'`)) {
      for (const v of ev.summary?.value ?? []) {
        const value = scalarOf(v);
        if (value === undefined || !v.tag) continue;
        const tags = series.get(run) ?? new Map<string, ScalarPoint[]>();
        series.set(run, tags);
        const points = tags.get(v.tag) ?? [];
        tags.set(v.tag, points);
        const step = typeof ev.step === 'object' ? ev.step.toNumber() : (ev.step ?? 0);
        points.push({ step, wallTime: ev.wall_time ?? 0, value });
      }
    }
  }
  for (const tags of series.values()) for (const pts of tags.values()) pts.sort((a, b) => a.step - b.step || a.wallTime - b.wallTime);
  return series;
}
