/** Test helpers for the protobuf tests: structural graph equality (bit-exact tensors) and model re-sealing. */
import { expect } from '@jest/globals';
import { type Graph, type Node, Tensor, crc32 } from '@kiln/graph';

function tensorBytes(t: Tensor): number[] {
  return Array.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

/** A comparable description of an attr value: tensors by dtype, shape and raw bytes; -0 kept apart from 0. */
function describeAttr(v: unknown): unknown {
  if (v instanceof Tensor) return { dtype: v.dtype, shape: v.shape, bytes: tensorBytes(v), ctor: v.data.constructor.name };
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : Number.isNaN(v) ? 'NaN' : v;
  if (Array.isArray(v)) return v.map(describeAttr);
  return v;
}

export function describeNode(n: Node): unknown {
  return {
    id: n.id,
    name: n.name,
    op: n.op,
    inputs: n.inputs.map((x) => [x.node.name, x.index]),
    control: n.controlInputs.map((c) => c.name),
    attrKeys: Object.keys(n.attrs),
    attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, v]) => [k, describeAttr(v)])),
    outputs: n.outputs.map((o) => [o.name, o.dtype, o.shape]),
  };
}

/** Node-by-node equality: names, order, ops, inputs, control inputs, attrs (bit-exact tensors), output types. */
export function expectSameGraph(actual: Graph, expected: Graph): void {
  expect(actual.nodes.map((n) => n.name)).toEqual(expected.nodes.map((n) => n.name));
  for (let i = 0; i < expected.nodes.length; i++) {
    expect(describeNode(actual.nodes[i]!)).toEqual(describeNode(expected.nodes[i]!));
  }
}

/** Whether two graphs are structurally identical (no throwing; for the corruption sweep). */
export function sameGraph(a: Graph, b: Graph): boolean {
  if (a.nodes.length !== b.nodes.length) return false;
  return a.nodes.every((n, i) => JSON.stringify(describeNode(n)) === JSON.stringify(describeNode(b.nodes[i]!)));
}

/** Appends a valid checksum trailer (field 15, fixed32 CRC-32 of the body) to a ModelProto body. */
export function seal(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 5);
  out.set(body);
  const crc = crc32(body);
  out[body.length] = 0x7d;
  new DataView(out.buffer).setUint32(body.length + 1, crc, true);
  return out;
}

/** The body of a sealed model (without its 5-byte checksum trailer). */
export function unseal(bytes: Uint8Array): Uint8Array {
  return bytes.subarray(0, bytes.length - 5);
}

/** A small deterministic PRNG (mulberry32) for the corruption sweep. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
