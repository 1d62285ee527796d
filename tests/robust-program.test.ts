/**
 * Compiled programs are validated completely at load (issue 15 item 1): a ProgramProto whose
 * kernels would read or write outside the buffers they name, at unaligned offsets, with attrs
 * out of range, or whose storage claims exceed the limit is refused (CORRUPT_MODEL, or
 * RESOURCE_EXHAUSTED with the limit to raise) before any memory is touched. Each damage is made
 * on the decoded Program (format-independent) and saved again, so the checksum is valid and
 * only the validation can catch it. The oracle for "nothing else was harmed": an unrelated
 * model loaded afterwards gives its hand-computed result.
 */
import { describe, expect, it } from '@jest/globals';
import { Graph, KilnError, type Program, add, compileModel, conv2d, loadCompiled, matMul, relu, sum, tensor } from 'kiln';
import { DEFAULT_MAX_PROGRAM_BYTES, deserializeProgram, serializeProgram } from '@kiln/compiler';

/** x [20000, 8] @ w [8, 3] + b [1, 3], its relu and column sums: a big feed, a small variable, one kernel of each kind. */
async function bigFeedModel(): Promise<Uint8Array> {
  const g = new Graph();
  const x = g.placeholder('float32', [20000, 8], 'x');
  const w = g.variable(tensor(Array.from({ length: 8 }, (_, i) => [i, 1, -i])), 'w');
  const b = g.variable(tensor([[0.5, 0, -0.5]]), 'b');
  const y = add(matMul(x, w), b);
  const r = relu(y);
  const s = sum(r, [0]);
  const m = await compileModel(g, { fetches: [y, s, r], feeds: [x] }, { backend: 'cpu' });
  return m.serialize();
}

/** A small conv net (conv op kernel with window attrs). */
async function convModel(): Promise<Uint8Array> {
  const g = new Graph();
  const x = g.placeholder('float32', [1, 5, 5, 2], 'x');
  const f = g.variable(
    tensor(
      Array.from({ length: 3 }, () =>
        Array.from({ length: 3 }, () => [
          [1, -1],
          [0.5, 2],
        ]),
      ),
    ),
    'f',
  );
  const y = relu(conv2d(x, f, 1, 'same'));
  const m = await compileModel(g, { fetches: [y], feeds: [x] }, { backend: 'cpu' });
  return m.serialize();
}

/** Decodes (fresh objects every time), lets `damage` change the plain Program, and saves it again (a valid checksum). */
function damaged(bytes: Uint8Array, damage: (p: Program) => void): Uint8Array {
  const loaded = deserializeProgram(bytes);
  damage(loaded.program);
  return serializeProgram(loaded.program, { variables: loaded.variables });
}

function bufferId(p: Program, pred: (b: Program['buffers'][number]) => boolean): number {
  const b = p.buffers.find(pred);
  if (!b) throw new Error('no such buffer');
  return b.id;
}

async function loadError(bytes: Uint8Array, opts: { maxBytes?: number } = {}): Promise<KilnError | null> {
  try {
    await loadCompiled(bytes, { backend: 'cpu', ...opts });
    return null;
  } catch (e) {
    if (e instanceof KilnError) return e;
    throw e;
  }
}

/** An unrelated model with a hand-computed answer: [1,2,3] · [4,5,6] + 7 = 39. */
async function unrelatedStillRight(): Promise<void> {
  const g = new Graph();
  const x = g.placeholder('float32', [1, 3], 'x');
  const w = g.variable(tensor([[4], [5], [6]]), 'w');
  const y = add(matMul(x, w), 7);
  const m = await loadCompiled((await compileModel(g, { fetches: [y], feeds: [x] }, { backend: 'cpu' })).serialize(), { backend: 'cpu' });
  const [out] = await m.run({ x: tensor([[1, 2, 3]]) });
  expect(Array.from(out!.data)).toEqual([39]);
}

describe('loadCompiled validates programs before touching memory', () => {
  it("the issue's exploit: a contraction reading the [20000,8] feed and writing a [1,3] variable is CORRUPT_MODEL", async () => {
    const bytes = await bigFeedModel();
    const bad = damaged(bytes, (p) => {
      const k = p.kernels.find((x) => x.spec.kind === 'contraction')!;
      (k.spec as { output: number }).output = bufferId(p, (b) => b.kind === 'variable' && b.source === 'b');
    });
    const e = await loadError(bad);
    expect(e?.code).toBe('CORRUPT_MODEL');
    expect(e?.message).toMatch(/matMul of %b\d+ float32\[20000,8\] and %b\d+ float32\[8,3\] cannot write %b\d+ float32\[1,3\]/);
    await unrelatedStillRight();
  });

  it('refuses each way a kernel could leave its buffers, naming it', async () => {
    const bytes = await bigFeedModel();
    const cases: [string, (p: Program) => void, RegExp][] = [
      [
        'misaligned arena offset',
        (p) => (p.buffers.find((b) => b.kind === 'temp' && b.aliasOf === undefined)!.offset += 4),
        /arena offset \d+ is not a multiple of (the )?16/,
      ],
      [
        'a variable claiming an arena offset',
        (p) => (p.buffers.find((b) => b.kind === 'variable')!.offset = 0),
        /a variable buffer has its own storage, yet it claims arena offset 0/,
      ],
      [
        'contraction transposed',
        (p) => ((p.kernels.find((k) => k.spec.kind === 'contraction')!.spec as { transposeB: boolean }).transposeB = true),
        /cannot write/,
      ],
      [
        'elementwise output of another shape',
        (p) => {
          const k = p.kernels.find((x) => x.spec.kind === 'elementwise')!;
          const s = k.spec as { outputs: number[] };
          s.outputs = [s.outputs[0]!, bufferId(p, (b) => b.kind === 'variable' && b.source === 'b')];
          (k.spec as { exprs: unknown[] }).exprs.push((k.spec as { exprs: unknown[] }).exprs[0]);
        },
        /output 1 %b\d+ float32\[1,3\] differs from the index space \[20000,3\]/,
      ],
      [
        'a kernel writing a feed',
        (p) => {
          const k = p.kernels.find((x) => x.spec.kind === 'contraction')!;
          (k.spec as { output: number }).output = bufferId(p, (b) => b.kind === 'feed');
        },
        /writes %b\d+ float32\[20000,8\], a feed buffer/,
      ],
      [
        'reduce in_shape grown to 2^31-1',
        (p) => {
          const s = p.kernels.find((k) => k.spec.kind === 'reduce')!.spec as { inShape: number[] };
          s.inShape = [2147483647, ...s.inShape.slice(1)];
        },
        /does not broadcast to \[2147483647,3\]|index space/,
      ],
      [
        'reduce output too small',
        (p) => {
          const s = p.kernels.find((k) => k.spec.kind === 'reduce')!.spec as { axes: number[] };
          s.axes = [1];
        },
        /gives 20000 elements, but the output is %b\d+ float32\[3\]/,
      ],
    ];
    for (const [what, damage, want] of cases) {
      const e = await loadError(damaged(bytes, damage));
      expect([what, e?.code, e?.message]).toEqual([what, 'CORRUPT_MODEL', expect.stringMatching(want)]);
    }
    await unrelatedStillRight();
  });

  it('an op kernel must be its graph node: a conv stride of 0 or another shape is CORRUPT_MODEL', async () => {
    const bytes = await convModel();
    const conv = (p: Program) =>
      p.kernels.find((k) => k.spec.kind === 'op' && k.spec.op === 'conv2d')!.spec as { attrs: Record<string, unknown>; outputs: number[] };
    const stride0 = await loadError(damaged(bytes, (p) => (conv(p).attrs['strides'] = [0, 1])));
    expect(stride0?.code).toBe('CORRUPT_MODEL');
    expect(stride0?.message).toMatch(/conv2d '.*': attr 'strides' differs from the graph node's/);
    const feedOut = await loadError(damaged(bytes, (p) => (conv(p).outputs = [bufferId(p, (b) => b.kind === 'feed')])));
    expect(feedOut?.message).toMatch(/writes %b\d+ float32\[1,5,5,2\], a feed buffer/);
    await unrelatedStillRight();
  });

  it('a 3.5 GB arena claim is RESOURCE_EXHAUSTED naming the limit; maxBytes raises it', async () => {
    const bytes = await bigFeedModel();
    const huge = damaged(bytes, (p) => ((p.stats as { arenaBytes: number }).arenaBytes = 3.5e9));
    const e = await loadError(huge);
    expect(e?.code).toBe('RESOURCE_EXHAUSTED');
    expect(e?.message).toMatch(new RegExp(`needs 35\\d{8} bytes .* over the limit of ${DEFAULT_MAX_PROGRAM_BYTES} bytes; .*maxBytes`));
    // Raised, the same file passes validation (deserializeProgram allocates nothing).
    expect(deserializeProgram(huge, { maxBytes: 4e9 }).program.stats.arenaBytes).toBe(3.5e9);
    // A tight limit refuses even the honest file; a bad limit is the caller's mistake.
    expect((await loadError(bytes, { maxBytes: 1024 }))?.code).toBe('RESOURCE_EXHAUSTED');
    expect((await loadError(bytes, { maxBytes: -1 }))?.code).toBe('INVALID_ARGUMENT');
    await unrelatedStillRight();
  });

  it('the honest file loads and runs (x @ w + b, hand-computed rows)', async () => {
    const m = await loadCompiled(await bigFeedModel(), { backend: 'cpu' });
    const x = new Float32Array(20000 * 8);
    for (let i = 0; i < 8; i++) x[8 + i] = 1; // row 1 is all ones
    const [y] = await m.run({ x: tensor(x, [20000, 8]) });
    expect(Array.from(y!.data.subarray(0, 6))).toEqual([0.5, 0, -0.5, 28.5, 8, -28.5]);
  });
});
