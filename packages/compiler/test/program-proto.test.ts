/**
 * ProgramProto: serializeProgram / deserializeProgram round-trip every kernel kind exactly
 * (expressions with NaN, -0 and Infinity literals, op attrs, the memory plan, variable values),
 * compiled programs (an MLP forward and an Adam training step, fused and unfused) load with
 * identical buffers, kernels and dump; damaged bytes are CORRUPT_MODEL (every truncation, random
 * flips, and re-sealed damage that only the decoder's own validation can catch), a newer format
 * is UNSUPPORTED_VERSION, and nothing else ever escapes.
 */
import { describe, expect, it } from '@jest/globals';
import {
  Graph,
  KilnError,
  type SymbolicTensor,
  Tensor,
  add,
  crc32,
  deserializeGraph,
  matMul,
  printGraph,
  relu,
  serializeGraph,
  sigmoidCrossEntropy,
  tensor,
} from '@kiln/graph';
import { PROGRAM_FORMAT_VERSION, type Program, call, compile, deserializeProgram, input, lit, programToString, serializeProgram, train } from '@kiln/compiler';
import { makeRandom } from '@kiln/runtime-cpu';
import { kilnErrorOf, kilnErrorText } from '../../../tests/helpers/kiln-error.js';

/** A hand-made program with one kernel of each kind (a Program is plain data). */
function allKinds(): Program {
  const g = new Graph();
  const x = g.placeholder('float32', [2, 3], 'x');
  const w = g.variable(
    tensor([
      [0.5, -1],
      [2, 0.25],
      [-0.125, 4],
    ]),
    'w',
  );
  const c = g.constant(tensor([NaN, -0]), undefined, 'c');
  const mm = add(matMul(x, w), c);
  g.addNode('transpose', [mm], { perm: [1, 0] }, { name: 'tr' });
  const f = 'float32' as const;
  const body: Omit<Program, 'toString'> = {
    graph: g,
    buffers: [
      { id: 0, name: 'x', dtype: f, shape: [2, 3], bytes: 24, kind: 'feed', offset: -1, source: 'x' },
      { id: 1, name: 'w', dtype: f, shape: [3, 2], bytes: 24, kind: 'variable', offset: -1, source: 'w' },
      { id: 2, name: 'c', dtype: f, shape: [2], bytes: 8, kind: 'const', offset: -1, value: c.node.attrs['value'] as Tensor },
      { id: 3, name: 'mm', dtype: f, shape: [2, 2], bytes: 16, kind: 'temp', offset: 0 },
      { id: 4, name: 's', dtype: f, shape: [2], bytes: 8, kind: 'temp', offset: 16 },
      { id: 5, name: 's2', dtype: f, shape: [2, 1], bytes: 8, kind: 'temp', offset: -1, aliasOf: 4 },
      { id: 6, name: 'tr', dtype: f, shape: [2, 2], bytes: 16, kind: 'temp', offset: 32 },
      { id: 7, name: 'e1', dtype: f, shape: [2, 2], bytes: 16, kind: 'temp', offset: 48 },
      { id: 8, name: 'e2', dtype: 'bool', shape: [2, 2], bytes: 4, kind: 'temp', offset: 0 },
    ],
    kernels: [
      {
        id: 0,
        // wᵀ·xᵀ: both flags set, and the shapes agree ([3,2]ᵀ·[2,3]ᵀ = [2,2]): loading checks them.
        spec: {
          kind: 'contraction',
          a: 1,
          b: 0,
          transposeA: true,
          transposeB: true,
          epilogue: call('add', f, input(0, f), input(1, f)),
          epilogueInputs: [2],
          output: 3,
        },
        nodes: ['MatMul', 'Add'],
        reasons: ['add into matMul: bias epilogue'],
      },
      {
        id: 1,
        spec: {
          kind: 'reduce',
          reducer: 'max',
          prologue: call('mul', f, input(0, f), lit(-0)),
          inputs: [3],
          inShape: [2, 2],
          axes: [1],
          epilogue: call('div', f, input(0, f), lit(-Infinity)),
          epilogueInputs: [],
          output: 4,
        },
        nodes: ['Max'],
        reasons: [],
      },
      { id: 2, spec: { kind: 'view', input: 4, output: 5 }, nodes: ['Reshape'], reasons: [] },
      {
        id: 3,
        spec: { kind: 'op', op: 'transpose', family: 'movement', node: 'tr', attrs: { perm: [1, 0], extraHint: 0.1, note: 'x' }, inputs: [3], outputs: [6] },
        nodes: ['tr'],
        reasons: [],
      },
      {
        id: 4,
        spec: {
          kind: 'elementwise',
          exprs: [
            call('select', f, call('lt', 'bool', input(0, f), lit(NaN)), input(1, f), call('neg', f, input(0, f))),
            call('toBool', 'bool', call('exp', f, lit(5e-324))), // a float64 literal a float32 would lose
          ],
          inputs: [6, 5],
          outputs: [7, 8],
        },
        nodes: ['Select', 'Exp'],
        reasons: ['neg into select: elementwise'],
      },
    ],
    fetches: [7, -1, 8],
    fetchNames: ['e1', 'train', 'e2'],
    feeds: [{ name: 'x', buffer: 0 }],
    stats: { graphNodes: 5, kernels: 4, arenaBytes: 64, naiveBytes: 72, liveLowerBoundBytes: 48 },
    frees: [[], [], [], [3, 4], [6]],
  };
  return { ...body, toString: () => programToString(body) };
}

/** A small classifier with an Adam step (training) or just its logits (forward). */
function mlp(): { g: Graph; x: SymbolicTensor; y: SymbolicTensor; logits: SymbolicTensor; loss: SymbolicTensor; step: SymbolicTensor } {
  const rand = makeRandom(7);
  const r = (shape: number[]) => {
    const t = new Tensor('float32', shape);
    for (let i = 0; i < t.size; i++) t.data[i] = rand() - 0.5;
    return t;
  };
  const g = new Graph();
  const x = g.placeholder('float32', [null, 4], 'x');
  const y = g.placeholder('float32', [null, 1], 'y');
  const w1 = g.variable(r([4, 8]), 'w1');
  const b1 = g.variable(new Tensor('float32', [8]), 'b1');
  const w2 = g.variable(r([8, 1]), 'w2');
  const logits = matMul(relu(add(matMul(x, w1), b1)), w2);
  const loss = sigmoidCrossEntropy(y, logits);
  const step = train.adam(0.01).minimize(loss);
  return { g, x, y, logits, loss, step };
}

function expectSameProgram(got: Program, want: Program): void {
  expect(got.buffers).toEqual(want.buffers);
  expect(got.kernels).toEqual(want.kernels);
  expect(got.fetches).toEqual(want.fetches);
  expect(got.fetchNames).toEqual(want.fetchNames);
  expect(got.feeds).toEqual(want.feeds);
  expect(got.stats).toEqual(want.stats);
  expect(got.frees).toEqual(want.frees);
  expect(printGraph(got.graph)).toBe(printGraph(want.graph));
  expect(got.toString()).toBe(want.toString());
}

/** The body of sealed bytes, and sealing a body again (a valid CRC over damaged content). */
const unseal = (b: Uint8Array) => b.subarray(0, b.length - 5);
function seal(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 5);
  out.set(body);
  const crc = crc32(body);
  out[body.length] = (15 << 3) | 5;
  for (let i = 0; i < 4; i++) out[body.length + 1 + i] = (crc >>> (8 * i)) & 0xff;
  return out;
}

describe('serializeProgram / deserializeProgram', () => {
  it('round-trips every kernel kind exactly: NaN, -0 and -Infinity literals, extra attrs, aliases, frees', () => {
    const p = allKinds();
    const loaded = deserializeProgram(serializeProgram(p));
    expectSameProgram(loaded.program, p);
    const ew = loaded.program.kernels[4]!.spec;
    const red = loaded.program.kernels[1]!.spec;
    if (ew.kind !== 'elementwise' || red.kind !== 'reduce') throw new Error('kinds changed');
    expect(Number.isNaN((ew.exprs[0] as { args: { args: { value: number }[] }[] }).args[0]!.args[1]!.value)).toBe(true);
    expect((ew.exprs[1] as { args: { args: { value: number }[] }[] }).args[0]!.args[0]!.value).toBe(5e-324);
    expect(Object.is((red.prologue as { args: { value: number }[] }).args[1]!.value, -0)).toBe(true);
    expect((red.epilogue as { args: { value: number }[] }).args[1]!.value).toBe(-Infinity);
    expect(Object.is((loaded.program.buffers[2]!.value!.data as Float32Array)[1], -0)).toBe(true);
    expect(loaded.formatVersion).toBe(PROGRAM_FORMAT_VERSION);
    expect(loaded.producer).toBe('kiln');
  });

  it('saves the given variable values and run state (default: the initial values)', () => {
    const p = allKinds();
    const w = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const loaded = deserializeProgram(serializeProgram(p, { variables: new Map([['w', w]]), seed: 1234, runCounter: 17, producer: 'test' }));
    expect(loaded.variables.get('w')!.toArray()).toEqual(w.toArray());
    expect([loaded.seed, loaded.runCounter, loaded.producer]).toEqual([1234, 17, 'test']);
    const initial = deserializeProgram(serializeProgram(p));
    expect(initial.variables.get('w')!.toArray()).toEqual([
      [0.5, -1],
      [2, 0.25],
      [-0.125, 4],
    ]);
    expect([initial.seed, initial.runCounter]).toEqual([0, 0]);
    expect(kilnErrorText(() => serializeProgram(p, { variables: new Map([['v', w]]) }))).toMatch(/INVALID_ARGUMENT: .*'v', which is not a variable/);
    expect(kilnErrorText(() => serializeProgram(p, { variables: new Map([['w', tensor([1, 2])]]) }))).toMatch(/SHAPE_MISMATCH: .*'w'.*\[2\].*\[3,2\]/);
  });

  it.each([true, false])('compiled MLP forward and Adam step (fuse %s) load with identical kernels, buffers and dump', (fuse) => {
    const { g, x, y, logits, loss, step } = mlp();
    for (const [fetches, feeds] of [
      [[logits], [x]],
      [
        [loss, step],
        [x, y],
      ],
    ] as [SymbolicTensor[], SymbolicTensor[]][]) {
      const p = compile(g, { fetches, feeds }, { fuse, feedShapes: { x: [5, 4], y: [5, 1] } });
      const bytes = serializeProgram(p);
      const loaded = deserializeProgram(bytes);
      expectSameProgram(loaded.program, p);
      expect(serializeProgram(loaded.program)).toEqual(bytes);
      expect([...loaded.variables.keys()].sort()).toEqual(
        p.graph
          .variables()
          .map((v) => v.name)
          .sort(),
      );
    }
  });

  it('rejects a newer format (UNSUPPORTED_VERSION), a ModelProto, and non-bytes', () => {
    const body = unseal(serializeProgram(allKinds()));
    const newer = body.slice();
    expect(newer[0]).toBe(0x08);
    newer[1] = PROGRAM_FORMAT_VERSION + 1;
    expect(kilnErrorText(() => deserializeProgram(seal(newer)))).toMatch(/UNSUPPORTED_VERSION: .*format version 2.*up to 1/);
    const damagedNewer = seal(newer);
    damagedNewer[9] = damagedNewer[9]! ^ 1;
    expect(kilnErrorText(() => deserializeProgram(damagedNewer))).toMatch(/CORRUPT_MODEL: .*checksum mismatch.*claims format version 2/);
    expect(kilnErrorText(() => deserializeProgram(serializeGraph(mlp().g)))).toMatch(/CORRUPT_MODEL: .*not a compiled program.*deserializeGraph/);
    expect(kilnErrorOf(() => deserializeGraph(serializeProgram(allKinds()))).code).toBe('CORRUPT_MODEL');
    expect(kilnErrorOf(() => deserializeProgram('abc' as unknown as Uint8Array)).code).toBe('INVALID_ARGUMENT');
  });

  it('validates what it decodes: bad references, unknown functions and arities are CORRUPT_MODEL naming the problem', () => {
    const cases: [string, (p: Program) => void, RegExp][] = [
      [
        'expression input out of range',
        (p) => ((p.kernels[4]!.spec as { exprs: unknown[] }).exprs[1] = input(2, 'float32')),
        /kernel k4 expr 1: expression reads %2 but has 2 inputs/,
      ],
      [
        'unknown scalar fn',
        (p) => ((p.kernels[1]!.spec as { prologue: unknown }).prologue = call('frobnicate' as 'exp', 'float32', input(0, 'float32'))),
        /unknown scalar function 'frobnicate'/,
      ],
      [
        'wrong arity',
        (p) => ((p.kernels[0]!.spec as { epilogue: unknown }).epilogue = call('add', 'float32', input(0, 'float32'))),
        /add takes 2 arguments, got 1/,
      ],
      ['buffer out of range', (p) => ((p.kernels[2]!.spec as { input: number }).input = 99), /view refers to buffer %b99, but there are 9/],
      ['op node missing', (p) => ((p.kernels[3]!.spec as { node: string }).node = 'nope'), /node 'nope' is not a transpose node/],
      ['temp outside the arena', (p) => (p.buffers[7]!.offset = 60), /outside the 64-byte arena/],
      ['feed not a placeholder', (p) => (p.buffers[0]!.source = 'w'), /source 'w' is not a placeholder/],
      ['frees per kernel', (p) => p.frees.pop(), /frees has 4 lists for 5 kernels/],
      ['fetch names', (p) => p.fetchNames.pop(), /3 fetches but 2 fetch names/],
      ['bytes', (p) => (p.buffers[3]!.bytes = 12), /12 bytes for float32\[2,2\]/],
    ];
    for (const [what, damage, want] of cases) {
      const p = allKinds();
      damage(p);
      const msg = kilnErrorText(() => deserializeProgram(serializeProgram(p)));
      expect([what, msg]).toEqual([what, expect.stringMatching(want)]);
      expect(msg).toMatch(/^CORRUPT_MODEL: loadCompiled: corrupt compiled program: /);
    }
  });
});

describe('deserializeProgram on damaged bytes', () => {
  const p = allKinds();
  const bytes = serializeProgram(p);
  type Outcome = 'same' | 'program' | 'CORRUPT_MODEL' | 'UNSUPPORTED_VERSION';
  const outcome = (b: Uint8Array): Outcome => {
    let got: Program;
    try {
      got = deserializeProgram(b).program;
    } catch (e) {
      if (e instanceof KilnError && (e.code === 'CORRUPT_MODEL' || e.code === 'UNSUPPORTED_VERSION')) return e.code;
      throw new Error(`unexpected ${e instanceof KilnError ? `KilnError ${e.code}` : String(e)}: ${(e as Error).message}`);
    }
    return got.toString() === p.toString() ? 'same' : 'program';
  };
  function flip(b: Uint8Array, next: () => number): [Uint8Array, number[]] {
    const out = b.slice();
    const where: number[] = [];
    for (let k = 0, n = 1 + Math.floor(next() * 3); k < n; k++) {
      const pos = Math.floor(next() * out.length);
      out[pos] = out[pos]! ^ (1 + Math.floor(next() * 255));
      where.push(pos);
    }
    return [out, where];
  }

  it('every truncation is CORRUPT_MODEL', () => {
    expect(outcome(bytes)).toBe('same');
    const bad: string[] = [];
    for (let n = 0; n < bytes.length; n++) {
      const r = outcome(bytes.subarray(0, n));
      if (r !== 'CORRUPT_MODEL') bad.push(`truncated to ${n}: ${r}`);
    }
    expect(bad).toEqual([]);
  });

  it('2000 seeded random byte flips give the identical program or CORRUPT_MODEL', () => {
    const next = makeRandom(1234);
    const bad: string[] = [];
    for (let k = 0; k < 2000; k++) {
      const [damaged, where] = flip(bytes, next);
      const r = outcome(damaged);
      if (r !== 'same' && r !== 'CORRUPT_MODEL') bad.push(`flip at ${where.join(',')}: ${r}`);
    }
    expect(bad).toEqual([]);
  });

  it('re-sealed truncations and flips: the decoder itself rejects damage with KilnError, and what loads saves again', () => {
    const next = makeRandom(99);
    const body = unseal(bytes);
    const counts: Record<Outcome, number> = { same: 0, program: 0, CORRUPT_MODEL: 0, UNSUPPORTED_VERSION: 0 };
    const bad: string[] = [];
    const check = (b: Uint8Array, what: string) => {
      let r: Outcome;
      try {
        r = outcome(seal(b));
      } catch (e) {
        bad.push(`${what}: ${(e as Error).message}`);
        return;
      }
      counts[r]++;
      if (r === 'program') {
        // whatever loads is a well-formed program: it serializes and loads again identically
        const again = deserializeProgram(seal(b)).program;
        const twice = deserializeProgram(serializeProgram(again)).program;
        if (twice.toString() !== again.toString()) bad.push(`${what}: reloaded program differs`);
      }
    };
    for (let n = 0; n < body.length; n++) check(body.subarray(0, n), `truncated to ${n}`);
    for (let k = 0; k < 1500; k++) {
      const [damaged, where] = flip(body, next);
      check(damaged, `flip at ${where.join(',')}`);
    }
    expect(bad).toEqual([]);
    expect(counts.CORRUPT_MODEL).toBeGreaterThan(500);
    expect(counts.program).toBeGreaterThan(0); // the sweep also reached variants that load (and save again identically)
  });
});
