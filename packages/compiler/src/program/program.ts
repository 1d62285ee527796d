/**
 * Program: the backend-neutral result of compilation. Buffers (feeds, variables, constants,
 * and temporaries placed in one arena by the memory planner) and kernels in execution order.
 * Each kernel is one of: a fused elementwise kernel (a scalar expression per output element),
 * a view (no code: the output aliases the input's bytes), or an op kernel (a reduction,
 * contraction, movement or other op that the backend implements whole).
 */
import { type Attrs, type DType, type Graph, type Tensor, fmtShape } from '@kiln/graph';
import { type ScalarExpr, exprToString } from '../lower/scalar-expr.js';
import { type View, viewToString } from '../lower/view.js';
import type { MemoryLayout } from './memory-plan.js';

export type { IndexView, View } from '../lower/view.js';

export type BufferKind = 'feed' | 'variable' | 'const' | 'temp';

export interface BufferDecl {
  id: number;
  /** The tensor this buffer holds (e.g. 'dense/MatMul:0' style names from the graph). */
  name: string;
  dtype: DType;
  shape: number[];
  bytes: number;
  kind: BufferKind;
  /** Arena offset for temporaries (after planning); -1 for the others. */
  offset: number;
  /** A view's buffer aliases another buffer's bytes. */
  aliasOf?: number;
  /** For consts: the value. */
  value?: Tensor;
  /** For feeds: the placeholder name; for variables: the variable node name. */
  source?: string;
}

/** How a reduce kernel combines values ('mean' lowers to 'sum' with a division epilogue). */
export type Reducer = 'sum' | 'max' | 'min' | 'prod';

/**
 * Kernel kinds (the primitives every op lowers to):
 * - elementwise: one index space (the shape of outputs[0]; all outputs share it); each output
 *   is a scalar expression over the inputs, which broadcast to that shape (numpy rules, right
 *   aligned). An output may be a variable buffer: an in-place optimizer update (the backend
 *   writes the variable's next value; reads in the same run see the committed value).
 * - reduce: acc = reducer over `axes` of prologue(inputs broadcast to inShape); then
 *   out = epilogue(%0 = acc, %1.. = epilogueInputs broadcast to the output shape). The output
 *   shape is inShape without the reduced axes (keepDims only changes the shape, not bytes).
 * - contraction: C = op(A) · op(B) for rank-2 A, B (op = transpose when the flag is set), then
 *   out = epilogue(%0 = C, %1.. = epilogueInputs broadcast to C's shape): bias + activation.
 * - view: no code; the output aliases the input's bytes (reshape, expandDims, squeeze).
 * - op: an op the backend implements whole (movement, conv, pooling, state, random, ...),
 *   optionally followed by an epilogue on its one output (conv2d + bias + relu).
 */
export type KernelSpec =
  | {
      kind: 'elementwise';
      exprs: ScalarExpr[];
      inputs: number[];
      outputs: number[];
      /** Per input: a strided view of that buffer (a folded transpose/slice), or null for the buffer as is. */
      inputViews?: (View | null)[];
    }
  | {
      kind: 'reduce';
      reducer: Reducer;
      prologue: ScalarExpr;
      inputs: number[];
      inShape: number[];
      axes: number[];
      epilogue: ScalarExpr;
      epilogueInputs: number[];
      output: number;
    }
  | {
      kind: 'contraction';
      a: number;
      b: number;
      transposeA: boolean;
      transposeB: boolean;
      epilogue: ScalarExpr;
      epilogueInputs: number[];
      output: number;
    }
  | { kind: 'view'; input: number; output: number }
  | {
      kind: 'op';
      op: string;
      family: string;
      node: string;
      attrs: Readonly<Attrs>;
      inputs: number[];
      outputs: number[];
      /** outputs[0] = epilogue(%0 = the op's result, %1.. = epilogueInputs), applied in place. */
      epilogue?: ScalarExpr;
      epilogueInputs?: number[];
    };

/** Buffers a kernel reads and writes (variable outputs are in-place updates). */
export function kernelIO(s: KernelSpec): { reads: number[]; writes: number[] } {
  switch (s.kind) {
    case 'elementwise':
      return { reads: s.inputs, writes: s.outputs };
    case 'reduce':
      return { reads: [...s.inputs, ...s.epilogueInputs], writes: [s.output] };
    case 'contraction':
      return { reads: [s.a, s.b, ...s.epilogueInputs], writes: [s.output] };
    case 'view':
      return { reads: [s.input], writes: [s.output] };
    case 'op':
      return { reads: [...s.inputs, ...(s.epilogueInputs ?? [])], writes: s.outputs };
  }
}

export interface Kernel {
  id: number;
  spec: KernelSpec;
  /** The graph nodes this kernel computes (several when fused). */
  nodes: string[];
  /** Why the fusion decisions were taken (shown in the dump). */
  reasons: string[];
}

export interface ProgramStats {
  graphNodes: number;
  kernels: number;
  arenaBytes: number;
  naiveBytes: number;
  liveLowerBoundBytes: number;
}

export interface Program {
  /** The optimized, shape-specialized graph the kernels were built from. */
  readonly graph: Graph;
  readonly buffers: BufferDecl[];
  readonly kernels: Kernel[];
  /** Buffer per fetch; -1 for a target (fetch returns null). */
  readonly fetches: number[];
  readonly fetchNames: string[];
  readonly feeds: { name: string; buffer: number }[];
  readonly stats: ProgramStats;
  /** Buffers each kernel frees after it runs (last use), for debug poisoning. */
  readonly frees: number[][];
  /** The target layout the buffer sizes and arena offsets follow (absent: the CPU's, CPU_MEMORY_LAYOUT). */
  readonly memoryLayout?: MemoryLayout;
  toString(): string;
}

function kernelLine(k: Kernel, bufs: BufferDecl[]): string {
  const b = (id: number) => `%b${id}`;
  const list = (ids: number[]) => ids.map(b).join(', ');
  const s = k.spec;
  switch (s.kind) {
    case 'elementwise': {
      const ins = s.inputs.map((id, i) => {
        const v = s.inputViews?.[i];
        return v ? `${b(id)}{${viewToString(v)}}` : b(id);
      });
      return `k${k.id} elementwise ${s.outputs.map((o, i) => `${b(o)}${bufs[o]!.kind === 'variable' ? ' (update)' : ''} = ${exprToString(s.exprs[i]!)}`).join('; ')} over (${ins.join(', ')}) ${fmtShape(bufs[s.outputs[0]!]!.shape)}`;
    }
    case 'reduce':
      return `k${k.id} reduce ${b(s.output)} = ${exprToString(s.epilogue)} where %0 = ${s.reducer}[axes ${s.axes.join(',')}](${exprToString(s.prologue)} over (${list(s.inputs)}) ${fmtShape(s.inShape)})${s.epilogueInputs.length ? ` and %1.. = (${list(s.epilogueInputs)})` : ''}`;
    case 'contraction':
      return `k${k.id} contraction ${b(s.output)} = ${exprToString(s.epilogue)} where %0 = matMul(${b(s.a)}${s.transposeA ? 'ᵀ' : ''}, ${b(s.b)}${s.transposeB ? 'ᵀ' : ''})${s.epilogueInputs.length ? ` and %1.. = (${list(s.epilogueInputs)})` : ''} ${fmtShape(bufs[s.output]!.shape)}`;
    case 'view':
      return `k${k.id} view ${b(s.output)} = ${b(s.input)} as ${fmtShape(bufs[s.output]!.shape)}`;
    case 'op':
      if (s.epilogue) {
        const extra = s.epilogueInputs?.length ? ` and %1.. = (${list(s.epilogueInputs)})` : '';
        return `k${k.id} ${s.family} ${list(s.outputs)} = ${exprToString(s.epilogue)} where %0 = ${s.op}(${list(s.inputs)})${extra}`;
      }
      return `k${k.id} ${s.family} ${list(s.outputs)} = ${s.op}(${list(s.inputs)})`;
  }
}

export function programToString(p: Omit<Program, 'toString'>): string {
  const lines: string[] = [];
  const st = p.stats;
  lines.push(
    `program: ${st.kernels} kernels from ${st.graphNodes} graph nodes; arena ${st.arenaBytes} B (naive ${st.naiveBytes} B, live lower bound ${st.liveLowerBoundBytes} B)${p.memoryLayout && p.memoryLayout.name !== 'cpu' ? `; layout ${p.memoryLayout.name}` : ''}`,
  );
  lines.push('buffers:');
  for (const b of p.buffers) {
    const where = b.kind === 'temp' ? (b.aliasOf !== undefined ? `alias %b${b.aliasOf}` : `arena@${b.offset}`) : b.kind;
    lines.push(`  %b${b.id} ${b.dtype}${fmtShape(b.shape)} ${b.bytes} B ${where} '${b.name}'${b.source ? ` <- ${b.source}` : ''}`);
  }
  lines.push('kernels:');
  for (const k of p.kernels) {
    lines.push(`  ${kernelLine(k, p.buffers)}`);
    lines.push(`    nodes: ${k.nodes.join(', ')}`);
    for (const r of k.reasons) lines.push(`    fused: ${r}`);
  }
  lines.push(`fetches: ${p.fetches.map((f, i) => `${p.fetchNames[i]}=${f < 0 ? 'target' : `%b${f}`}`).join(', ')}`);
  return lines.join('\n');
}
