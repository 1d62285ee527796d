/** Attribute validation against an op's AttrSpec table (types, required, allowed values). */
import { isDType } from '../dtype.js';
import { KilnError } from '../errors.js';
import { Tensor } from '../tensor.js';
import type { AttrSpec, AttrValue, Attrs, OpDef } from './registry.js';

function fmt(v: unknown): string {
  if (v instanceof Tensor) return v.toString();
  return JSON.stringify(v) ?? String(v);
}

function checkOne(spec: AttrSpec, v: AttrValue, key: string, what: string): void {
  const bad = (expected: string): never => {
    throw new KilnError('INVALID_ATTR', `${what}: attr '${key}' expects ${expected}, got ${fmt(v)}`);
  };
  switch (spec.type) {
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v)) bad('an integer');
      break;
    case 'float':
      if (typeof v !== 'number') bad('a number');
      break;
    case 'bool':
      if (typeof v !== 'boolean') bad('a boolean');
      break;
    case 'string':
      if (typeof v !== 'string') bad('a string');
      if (spec.oneOf && !spec.oneOf.includes(v as string)) bad(`one of ${spec.oneOf.map((s) => `'${s}'`).join(', ')}`);
      break;
    case 'ints':
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isInteger(x))) bad('a list of integers');
      break;
    case 'floats':
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) bad('a list of numbers');
      break;
    case 'shape':
      if (!Array.isArray(v) || !v.every((x) => x === null || (typeof x === 'number' && Number.isInteger(x) && x >= 0))) {
        bad('a shape (non-negative integers or null)');
      }
      break;
    case 'dtype':
      if (!isDType(v)) bad("a dtype ('float32', 'int32' or 'bool')");
      break;
    case 'tensor':
      if (!(v instanceof Tensor)) bad('a Tensor');
      break;
  }
}

/** Returns the attrs with defaults filled in; throws INVALID_ATTR for unknown, missing or ill-typed attrs. */
export function resolveAttrs(def: OpDef, given: Record<string, AttrValue | undefined>, what: string): Attrs {
  const out: Attrs = {};
  for (const key of Object.keys(given)) {
    if (!(key in def.attrs) && given[key] !== undefined) {
      const known = Object.keys(def.attrs);
      throw new KilnError('INVALID_ATTR', `${what}: unknown attr '${key}' (expected ${known.length ? known.map((k) => `'${k}'`).join(', ') : 'no attrs'})`);
    }
  }
  for (const [key, spec] of Object.entries(def.attrs)) {
    const v = given[key] ?? spec.default;
    if (v === undefined) throw new KilnError('INVALID_ATTR', `${what}: missing required attr '${key}' (${spec.type})`);
    checkOne(spec, v, key, what);
    out[key] = v;
  }
  return out;
}
