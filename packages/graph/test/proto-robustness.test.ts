/**
 * Corruption sweep over a small model (placeholder, variables, a constant, a few ops): every
 * truncation and thousands of seeded random byte flips give either the identical graph or
 * KilnError('CORRUPT_MODEL') — never another exception, a crash or a hang. A second sweep
 * re-seals each damaged body with a valid checksum, so the decoder's own validation (not the
 * CRC) has to catch the damage: it must return some graph or a KilnError, and any graph it
 * returns must save and load again identically.
 */
import { describe, expect, it } from '@jest/globals';
import { Graph, KilnError, add, deserializeGraph, leakyRelu, matMul, relu, serializeGraph, sum, tensor } from '@kiln/graph';
import { rng, sameGraph, seal, unseal } from './proto-compare.js';

function smallModel(): Graph {
  const g = new Graph();
  const x = g.placeholder('float32', [null, 3], 'x');
  const w = g.variable(
    tensor([
      [0.5, -1],
      [2, 0.25],
      [-0.125, 4],
    ]),
    'w',
  );
  const steps = g.variable(tensor([0], [1], 'int32'), 'steps', { trainable: false });
  const b = g.constant(tensor([0.1, -0.2]), undefined, 'b');
  const h = g.nameScope('dense', () => leakyRelu(add(matMul(x, w), b), 0.2));
  g.addNode('relu', [h], {}, { name: 'out', controlInputs: [steps.node] });
  sum(relu(h), [1], true);
  return g;
}

type Outcome = 'same' | 'graph' | 'CORRUPT_MODEL' | 'UNSUPPORTED_VERSION';

/** The message of the last KilnError outcome() caught. */
let lastMessage = '';

function outcome(original: Graph, bytes: Uint8Array): Outcome {
  let loaded: Graph;
  try {
    loaded = deserializeGraph(bytes);
  } catch (e) {
    if (e instanceof KilnError && (e.code === 'CORRUPT_MODEL' || e.code === 'UNSUPPORTED_VERSION')) {
      lastMessage = e.message;
      return e.code;
    }
    throw new Error(`unexpected ${e instanceof KilnError ? `KilnError ${e.code}` : String(e)}: ${(e as Error).message}`);
  }
  return sameGraph(loaded, original) ? 'same' : 'graph';
}

/** Flips 1 to 3 random bytes (XOR with a non-zero value); returns the copy and the positions. */
function flip(bytes: Uint8Array, next: () => number): [Uint8Array, number[]] {
  const out = bytes.slice();
  const count = 1 + Math.floor(next() * 3);
  const where: number[] = [];
  for (let k = 0; k < count; k++) {
    const pos = Math.floor(next() * out.length);
    out[pos] = out[pos]! ^ (1 + Math.floor(next() * 255));
    where.push(pos);
  }
  return [out, where];
}

describe('deserializeGraph on damaged files', () => {
  const g = smallModel();
  const bytes = serializeGraph(g);
  const body = unseal(bytes);

  it('the model round-trips (sanity check for the sweep)', () => {
    expect(outcome(g, bytes)).toBe('same');
    expect(bytes.length).toBeGreaterThan(300);
  });

  it('every truncation is CORRUPT_MODEL', () => {
    const bad: string[] = [];
    for (let n = 0; n < bytes.length; n++) {
      const r = outcome(g, bytes.subarray(0, n));
      if (r !== 'CORRUPT_MODEL') bad.push(`length ${n}: ${r}`);
    }
    expect(bad).toEqual([]);
  });

  it('3000 seeded random byte flips give the identical graph or CORRUPT_MODEL', () => {
    const next = rng(1234);
    const bad: string[] = [];
    for (let k = 0; k < 3000; k++) {
      const [damaged, where] = flip(bytes, next);
      const r = outcome(g, damaged);
      if (r !== 'same' && r !== 'CORRUPT_MODEL') bad.push(`flip at ${where.join(',')}: ${r}`);
    }
    expect(bad).toEqual([]);
  });

  it('re-sealed truncations and flips: the decoder itself rejects damage with KilnError, and what loads saves again identically', () => {
    const next = rng(99);
    const counts: Record<Outcome, number> = { same: 0, graph: 0, CORRUPT_MODEL: 0, UNSUPPORTED_VERSION: 0 };
    const bad: string[] = [];
    const kinds = new Set<string>();
    const check = (damaged: Uint8Array, label: string, versionTouched: boolean): void => {
      const sealed = seal(damaged);
      const r = outcome(g, sealed);
      counts[r]++;
      if (r === 'CORRUPT_MODEL')
        kinds.add(/protobuf decoding failed/.test(lastMessage) ? 'protobuf' : /node '.*' \(\w+\): /s.test(lastMessage) ? 'node check' : 'other');
      if (r === 'UNSUPPORTED_VERSION' && !versionTouched) bad.push(`${label}: UNSUPPORTED_VERSION without touching the version`);
      if (r === 'graph') {
        const loaded = deserializeGraph(sealed);
        if (!sameGraph(deserializeGraph(serializeGraph(loaded)), loaded)) bad.push(`${label}: the loaded graph does not round-trip`);
      }
    };
    for (let n = 0; n < body.length; n++) check(body.subarray(0, n), `truncated to ${n}`, false);
    for (let k = 0; k < 2000; k++) {
      const [damaged, where] = flip(body, next);
      check(damaged, `flip at ${where.join(',')}`, where.includes(1));
    }
    expect(bad).toEqual([]);
    // the sweep reached the decoder's checks and also produced loadable variants
    expect(counts.CORRUPT_MODEL).toBeGreaterThan(1000);
    expect(counts.same).toBeGreaterThan(0); // damage outside the graph (e.g. the producer string)
    expect(counts.graph).toBeGreaterThan(10);
    expect([...kinds].sort()).toEqual(['node check', 'other', 'protobuf']); // wire errors and semantic checks both fired
  });
});
