/**
 * Structural validation of a decoded Program (deserializeProgram): every buffer, kernel, feed,
 * fetch and free reference is in range and consistent with the graph and the memory plan, so a
 * hand-made or damaged file is rejected with KilnError('CORRUPT_MODEL') here, not with some
 * other exception inside a backend. Values are not checked (a program may compute anything).
 */
import { KilnError, type Tensor, fmtShape, shapesEqual, sizeOf } from '@kiln/graph';
import { CPU_MEMORY_LAYOUT, bufferBytes } from './memory-plan.js';
import { type ScalarExpr, postorder } from '../lower/scalar-expr.js';
import { checkView } from '../lower/view.js';
import type { KernelSpec, Program } from './program.js';

function corrupt(message: string): never {
  throw new KilnError('CORRUPT_MODEL', message);
}

/** Throws unless every input index of `e` is below `arity`. */
function checkExpr(e: ScalarExpr, arity: number, where: string): void {
  for (const x of postorder([e])) {
    if (x.kind === 'input' && x.index >= arity) corrupt(`${where}: expression reads %${x.index} but has ${arity} inputs`);
  }
}

function checkBuffers(p: Omit<Program, 'toString'>): void {
  const { buffers, graph } = p;
  const layout = p.memoryLayout ?? CPU_MEMORY_LAYOUT;
  buffers.forEach((b, i) => {
    const where = `buffer %b${i} '${b.name}'`;
    if (b.id !== i) corrupt(`${where}: id ${b.id} is not its index ${i}`);
    if (!Number.isSafeInteger(sizeOf(b.shape)) || b.bytes !== bufferBytes(b.dtype, b.shape, layout)) {
      corrupt(`${where}: ${b.bytes} bytes for ${b.dtype}${fmtShape(b.shape)}`);
    }
    if (b.aliasOf !== undefined) {
      const t = buffers[b.aliasOf];
      if (!t || b.aliasOf === i || t.aliasOf !== undefined) corrupt(`${where}: aliases %b${b.aliasOf}, which is not a base buffer`);
      if (t.bytes !== b.bytes) corrupt(`${where}: ${b.bytes} bytes alias %b${b.aliasOf} of ${t.bytes} bytes`);
    } else if (b.kind === 'temp' && b.offset < 0) {
      corrupt(`${where}: a temporary without an arena offset`);
    }
    if (b.offset >= 0 && b.offset + b.bytes > p.stats.arenaBytes) {
      corrupt(`${where}: bytes [${b.offset}, ${b.offset + b.bytes}) lie outside the ${p.stats.arenaBytes}-byte arena`);
    }
    if (b.kind === 'temp' && b.aliasOf === undefined && b.offset % layout.alignment !== 0) {
      corrupt(`${where}: arena offset ${b.offset} is not a multiple of the ${layout.alignment}-byte alignment`);
    }
    const value: Tensor | undefined = b.value;
    if ((b.kind === 'const') !== (value !== undefined))
      corrupt(`${where}: ${b.kind === 'const' ? 'a const without a value' : `a ${b.kind} buffer with a value`}`);
    if (value && (value.dtype !== b.dtype || !shapesEqual(value.shape, b.shape))) {
      corrupt(`${where}: value ${value.dtype}${fmtShape(value.shape)} for a ${b.dtype}${fmtShape(b.shape)} buffer`);
    }
    if (b.kind === 'feed' || b.kind === 'variable') {
      const op = b.kind === 'feed' ? 'placeholder' : 'variable';
      const node = b.source === undefined ? undefined : graph.nodeByName(b.source);
      if (!node || node.op !== op) corrupt(`${where}: source '${b.source ?? ''}' is not a ${op} of the graph`);
      if (node.output.dtype !== b.dtype || !shapesEqual(node.output.shape, b.shape)) {
        corrupt(`${where}: ${b.dtype}${fmtShape(b.shape)} but ${op} '${node.name}' is ${node.output.dtype}${fmtShape(node.output.shape)}`);
      }
    }
  });
}

function checkSpec(s: KernelSpec, nBuffers: number, p: Omit<Program, 'toString'>, where: string): void {
  const refs = (ids: readonly number[], what: string) => {
    for (const id of ids) if (!(id >= 0 && id < nBuffers)) corrupt(`${where}: ${what} refers to buffer %b${id}, but there are ${nBuffers}`);
  };
  switch (s.kind) {
    case 'elementwise':
      refs([...s.inputs, ...s.outputs], 'elementwise');
      if (s.outputs.length === 0 || s.exprs.length !== s.outputs.length) corrupt(`${where}: ${s.exprs.length} expressions for ${s.outputs.length} outputs`);
      s.exprs.forEach((e, i) => checkExpr(e, s.inputs.length, `${where} expr ${i}`));
      if (s.inputViews) {
        if (s.inputViews.length !== s.inputs.length) corrupt(`${where}: ${s.inputViews.length} input views for ${s.inputs.length} inputs`);
        s.inputViews.forEach((v, i) => {
          if (!v) return;
          const b = p.buffers[s.inputs[i]!]!;
          const why = checkView(v, sizeOf(b.shape), i, s.inputs.length, (j) => s.inputViews![j]);
          if (why) corrupt(`${where}: input view ${i} of buffer %b${b.id} ${why}`);
        });
      }
      return;
    case 'reduce':
      refs([...s.inputs, ...s.epilogueInputs, s.output], 'reduce');
      if (s.inShape.some((d) => d < 0)) corrupt(`${where}: in_shape ${fmtShape(s.inShape)} has a negative dim`);
      if (s.axes.some((a) => a >= s.inShape.length)) corrupt(`${where}: axes [${s.axes.join(',')}] out of range for rank ${s.inShape.length}`);
      checkExpr(s.prologue, s.inputs.length, `${where} prologue`);
      checkExpr(s.epilogue, 1 + s.epilogueInputs.length, `${where} epilogue`);
      return;
    case 'contraction':
      refs([s.a, s.b, ...s.epilogueInputs, s.output], 'contraction');
      checkExpr(s.epilogue, 1 + s.epilogueInputs.length, `${where} epilogue`);
      return;
    case 'view':
      refs([s.input, s.output], 'view');
      return;
    case 'op': {
      refs([...s.inputs, ...s.outputs, ...(s.epilogueInputs ?? [])], `op ${s.op}`);
      if (s.epilogue) {
        if (s.outputs.length !== 1) corrupt(`${where}: an op epilogue needs exactly one output, got ${s.outputs.length}`);
        checkExpr(s.epilogue, 1 + (s.epilogueInputs ?? []).length, `${where} epilogue`);
      }
      const node = p.graph.nodeByName(s.node);
      if (!node || node.op !== s.op) corrupt(`${where}: node '${s.node}' is not a ${s.op} node of the graph`);
    }
  }
}

export function validateProgram(p: Omit<Program, 'toString'>): void {
  const n = p.buffers.length;
  const st = p.stats;
  for (const [k, v] of Object.entries(st)) if (!(v >= 0)) corrupt(`stats.${k} is ${v}`);
  checkBuffers(p);
  p.kernels.forEach((k, i) => {
    if (k.id !== i) corrupt(`kernel k${i}: id ${k.id} is not its index`);
    checkSpec(k.spec, n, p, `kernel k${i}`);
  });
  if (p.frees.length !== p.kernels.length) corrupt(`frees has ${p.frees.length} lists for ${p.kernels.length} kernels`);
  p.frees.forEach((ids, i) => {
    for (const id of ids) {
      const b = p.buffers[id];
      if (!b || b.kind !== 'temp' || b.aliasOf !== undefined) corrupt(`frees of kernel k${i}: %b${id} is not an arena buffer`);
    }
  });
  for (const f of p.feeds) {
    const b = p.buffers[f.buffer];
    if (!b || b.kind !== 'feed' || b.source !== f.name) corrupt(`feed '${f.name}': buffer %b${f.buffer} is not its feed buffer`);
  }
  if (p.fetchNames.length !== p.fetches.length) corrupt(`${p.fetches.length} fetches but ${p.fetchNames.length} fetch names`);
  p.fetches.forEach((id, i) => {
    if (!(id >= -1 && id < n)) corrupt(`fetch ${i} '${p.fetchNames[i]}' refers to buffer %b${id}, but there are ${n}`);
  });
}
