/**
 * checkNumerics on the compiled CPU path when the producing kernel's output shares storage
 * with one of its inputs (the memory plan reuses a buffer whose last use is that kernel): the
 * error names the producing op and says its inputs were finite, never blaming the input that
 * the write overwrote.
 */
import { describe, expect, it } from '@jest/globals';
import * as kiln from 'kiln';
import { compile } from '@kiln/compiler';
import { CpuProgram, referenceConstantEvaluator } from '@kiln/runtime-cpu';

describe('checkNumerics with in-place reuse', () => {
  it("names log as the producer when log's output reuses its input's storage", () => {
    const g = new kiln.Graph();
    const x = g.placeholder('float32', [64], 'x');
    const d = kiln.sub(x, x); // finite zeros
    const y = kiln.log(d); // -Infinity, written over d's storage
    const z = kiln.mul(y, kiln.scalar(2));
    const p = compile(g, { fetches: [z], feeds: [x] }, { fuse: false, constantEvaluator: referenceConstantEvaluator });
    const logKernel = p.kernels.find((k) => k.spec.kind === 'elementwise' && k.nodes.includes(y.node.name))!;
    expect(logKernel).toBeDefined();
    const spec = logKernel.spec as { inputs: number[]; outputs: number[] };
    const inBuf = p.buffers[spec.inputs[0]!]!;
    const outBuf = p.buffers[spec.outputs[0]!]!;
    // The case under test: the output is placed over its input.
    expect(inBuf.kind).toBe('temp');
    expect(outBuf.offset).toBe(inBuf.offset);
    const cp = new CpuProgram(p);
    const feeds = new Map([['x', kiln.tensor(new Float32Array(64).fill(3), [64])]]);
    let err: unknown;
    try {
      cp.run({ feeds, variables: new Map(), seed: 0, checkNumerics: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(kiln.KilnError);
    const msg = (err as Error).message;
    expect(msg).toContain(`log '${y.node.name}' produced -Infinity at flat index 0 of output 0 (float32[64]); all its inputs were finite`);
    expect(msg).not.toContain('already held');
    cp.dispose();
  });
});
