/**
 * AttrValue <-> Kiln attr values. The op's AttrSpec type decides the encoding (TensorFlow's
 * AttrValue cases: int -> i, float -> f, bool -> b, string -> s, dtype -> type, shape -> shape,
 * tensor -> tensor, ints -> list.i, floats -> list.f), and decoding restores exactly the same JS
 * values: float attrs that a float32 would round keep their float64 value in kiln_f64, shapes
 * keep null dims (-1 on the wire), empty lists stay empty lists.
 */
import { KilnError } from '../errors.js';
import type { AttrSpec, AttrType, AttrValue } from '../ops/registry.js';
import { Tensor } from '../tensor.js';
import type { AttrCase, AttrValueMsg, ListValueMsg } from './schema.js';
import { corrupt, dtypeFromProto, dtypeToProto, int64ToNumber, shapeFromProto, shapeToProto, tensorFromProto, tensorToProto } from './tensor-codec.js';

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** Whether a float32 holds `v` exactly (NaN counts: attrs are JS numbers, with no payload to keep). */
function exactInFloat32(v: number): boolean {
  return Number.isNaN(v) || Object.is(Math.fround(v), v);
}

function sameFloat(a: number, b: number): boolean {
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
}

function checkInt(v: number, where: string): number {
  if (!Number.isSafeInteger(v)) {
    throw new KilnError('INVALID_ATTR', `${where}: integer ${v} cannot be stored exactly (must be a safe integer, |v| < 2^53)`);
  }
  return v;
}

/** The AttrValue for `value` of type `spec.type`; `where` names node and attr for errors. */
export function attrToProto(spec: AttrSpec, value: AttrValue, where: string): AttrValueMsg {
  switch (spec.type) {
    case 'int':
      return { i: checkInt(value as number, where) };
    case 'float': {
      const v = value as number;
      return exactInFloat32(v) ? { f: v } : { f: v, kiln_f64: v };
    }
    case 'bool':
      return { b: value as boolean };
    case 'string':
      return { s: utf8Encoder.encode(value as string) };
    case 'dtype':
      return { type: dtypeToProto(value as 'float32') };
    case 'shape':
      return { shape: shapeToProto(value as (number | null)[]) };
    case 'tensor':
      return { tensor: tensorToProto(value as Tensor) };
    case 'ints':
      return { list: { i: (value as number[]).map((v) => checkInt(v, where)) } };
    case 'floats': {
      const vs = value as number[];
      const list: ListValueMsg = { f: [...vs] };
      if (!vs.every(exactInFloat32)) list.kiln_f64 = [...vs];
      return { list };
    }
  }
}

const EXPECTED_CASE: Record<AttrType, AttrCase> = {
  int: 'i',
  float: 'f',
  bool: 'b',
  string: 's',
  dtype: 'type',
  shape: 'shape',
  tensor: 'tensor',
  ints: 'list',
  floats: 'list',
};

const LIST_FIELDS = ['s', 'i', 'f', 'b', 'type', 'shape', 'tensor', 'kiln_f64'] as const;

/** Throws unless the only non-empty fields of `list` are among `allowed`. */
function checkListFields(list: ListValueMsg, allowed: readonly string[], spec: AttrSpec, where: string): void {
  for (const field of LIST_FIELDS) {
    if ((list[field]?.length ?? 0) > 0 && !allowed.includes(field)) {
      corrupt(`${where}: attr type '${spec.type}' does not allow list.${field}`);
    }
  }
}

/** Decodes an AttrValue as the AttrSpec's type; a mismatching case is CORRUPT_MODEL. */
export function attrFromProto(spec: AttrSpec, msg: AttrValueMsg, where: string): AttrValue {
  const expected = EXPECTED_CASE[spec.type];
  if (msg.value !== expected) {
    corrupt(`${where}: attr type '${spec.type}' needs AttrValue.${expected}, got ${msg.value ? `AttrValue.${msg.value}` : 'no value'}`);
  }
  switch (spec.type) {
    case 'int':
      return int64ToNumber(msg.i, where);
    case 'float': {
      const f = msg.f ?? 0;
      const exact = msg.kiln_f64 ?? 0;
      if (exact === 0) return f;
      if (!sameFloat(Math.fround(exact), f)) corrupt(`${where}: kiln_f64 ${exact} does not round to f ${f}`);
      return exact;
    }
    case 'bool':
      return msg.b === true;
    case 'string':
      try {
        return utf8Decoder.decode(msg.s ?? new Uint8Array(0));
      } catch {
        return corrupt(`${where}: string is not valid UTF-8`);
      }
    case 'dtype':
      return dtypeFromProto(msg.type, where);
    case 'shape':
      return shapeFromProto(msg.shape, where, true);
    case 'tensor':
      return tensorFromProto(msg.tensor, where);
    case 'ints': {
      const list = msg.list ?? {};
      checkListFields(list, ['i'], spec, where);
      return (list.i ?? []).map((v, k) => int64ToNumber(v, `${where}[${k}]`));
    }
    case 'floats': {
      const list = msg.list ?? {};
      checkListFields(list, ['f', 'kiln_f64'], spec, where);
      const f = list.f ?? [];
      const exact = list.kiln_f64 ?? [];
      if (exact.length === 0) return [...f];
      if (exact.length !== f.length) corrupt(`${where}: kiln_f64 has ${exact.length} values but f has ${f.length}`);
      exact.forEach((d, k) => {
        if (!sameFloat(Math.fround(d), f[k]!)) corrupt(`${where}[${k}]: kiln_f64 ${d} does not round to f ${f[k]}`);
      });
      return [...exact];
    }
  }
}
