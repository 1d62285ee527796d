/**
 * checkNumerics for compiled programs: after each kernel, its float outputs are scanned for
 * NaN and Infinity. The error names the graph node and op that produced the value (as the
 * reference executor does), where the value is, whether a kernel input already held a
 * non-finite value (then the cause is upstream: a feed, a variable or a constant; temporaries
 * were scanned when written), and the kernel. Sessions compile unfused under checkNumerics, so each kernel is one graph node.
 */
import { KilnError, type TypedArray, fmtShape } from '@kiln/graph';
import { type Program, kernelIO } from '../program/program.js';

export function firstNonFinite(d: TypedArray): number {
  if (!(d instanceof Float32Array)) return -1;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return i;
  return -1;
}

/** The float buffers a kernel writes that checkNumerics scans (variable writes are staged, not scanned). */
export function checkedOutputs(program: Program, kernel: number): number[] {
  return kernelIO(program.kernels[kernel]!.spec).writes.filter((id) => program.buffers[id]!.dtype === 'float32' && program.buffers[id]!.kind !== 'variable');
}

/**
 * The kernel's float inputs that may have brought a bad value in: those stored outside the
 * arena (feeds, variables, constants, and views of them). A temporary was scanned right after
 * the kernel that wrote it, so it was finite; after this kernel ran its storage may hold this
 * kernel's own output (the memory plan reuses a buffer whose last use is here), so scanning it
 * now would blame the input for the producer's value.
 */
export function checkedInputs(program: Program, kernel: number): number[] {
  const bufs = program.buffers;
  const base = (id: number) => bufs[bufs[id]!.aliasOf ?? id]!;
  return [...new Set(kernelIO(program.kernels[kernel]!.spec).reads)].filter((id) => bufs[id]!.dtype === 'float32' && base(id).kind !== 'temp');
}

/**
 * The NUMERIC_ERROR for output `output` of kernel `kernel` holding `value` at flat index `at`;
 * `badInputs` are the kernel inputs that already held a non-finite value.
 */
export function numericError(program: Program, kernel: number, output: number, value: number, at: number, badInputs: readonly number[]): KilnError {
  const k = program.kernels[kernel]!;
  const s = k.spec;
  const b = program.buffers[output]!;
  const nodeName = k.nodes[k.nodes.length - 1]!;
  const op = program.graph.nodeByName(nodeName)?.op ?? (s.kind === 'op' ? s.op : s.kind);
  const outIndex = kernelIO(s).writes.indexOf(output);
  const origin = badInputs.length
    ? `input ${badInputs.map((i) => `'${program.buffers[i]!.name}'`).join(', ')} already held NaN/Infinity`
    : 'all its inputs were finite';
  return new KilnError(
    'NUMERIC_ERROR',
    `${op} '${nodeName}' produced ${value} at flat index ${at} of output ${outIndex} (${b.dtype}${fmtShape(b.shape)}); ${origin} (kernel k${k.id}, ${s.kind})`,
  );
}
