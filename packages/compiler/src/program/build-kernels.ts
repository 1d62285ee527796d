/**
 * Lowering to kernels: turns the fusion groups of an optimized, shape-specialized graph
 * (fusion.ts) into kernel specs over buffers, then orders them (schedule.ts).
 *
 * - An elementwise group becomes one kernel with one scalar expression per materialized
 *   output (values used outside the group or fetched) and per variable it updates.
 *   Scalar constants are inlined as literals.
 * - A reduce group: prologue expression over the reduction's inputs, the reduction, and an
 *   epilogue expression over the result (mean = sum, then a division epilogue).
 * - A contraction group: matMul with an epilogue (bias, activation, gradient masks).
 * - Views alias their input's bytes (no copy kernels); everything else is an op kernel.
 * With fuse=false every node is its own kernel, in graph order (the unfused program).
 */
import { KilnError, type Node, type SymbolicTensor, type Tensor, castScalar, getOp, normalizeAxes, normalizeAxis, sizeOf } from '@kiln/graph';
import { SHAPE_ONLY_INPUTS, getElementwiseLowering } from '../lower/elementwise.js';
import { type ScalarExpr, call, input, lit, substitute } from '../lower/scalar-expr.js';
import type { GraphWithFetches } from '../passes/rewrite.js';
import { ASSIGN_OPS, type Group, fuseNodes } from './fusion.js';
import { CPU_MEMORY_LAYOUT, type MemoryLayout, bufferBytes } from './memory-plan.js';
import { type View, chainPieces, concatPieceView, identityView, padView, sliceView, transposeView, viewKey } from '../lower/view.js';
import { type BufferDecl, type Kernel, type KernelSpec, kernelIO } from './program.js';
import { type ScheduleItem, scheduleForMemory } from './schedule.js';

export interface BuiltKernels {
  buffers: BufferDecl[];
  kernels: Kernel[];
  fetches: number[];
  feeds: { name: string; buffer: number }[];
}

/** One source tensor of a folded chain and the view through which it is read. */
interface Piece {
  src: SymbolicTensor;
  view: View;
}

/**
 * The views a folded chain of transposes, slices, pads and concats reads: one piece per
 * source tensor (view.ts builds each op's view from its input's). A piece with `valid` ranges
 * covers only those (a concat's slot, a pad's interior); pieces are tried in order and the
 * last one's `fill` covers the rest.
 */
function resolvePieces(t: SymbolicTensor, folded: ReadonlySet<Node>): Piece[] {
  const n = t.node;
  const shape = t.shape as number[];
  if (!folded.has(n)) return [{ src: t, view: identityView(shape) }];
  if (n.op === 'concat') {
    const axis = normalizeAxis(n.attrs.axis as number, shape.length, `concat '${n.name}'`);
    let start = 0;
    const pieces: Piece[] = [];
    for (const u of n.inputs) {
      for (const { src, view } of resolvePieces(u, folded)) pieces.push({ src, view: concatPieceView(view, axis, start, shape) });
      start += u.shape[axis] as number;
    }
    return pieces;
  }
  return resolvePieces(n.inputs[0]!, folded).map(({ src, view: v }) => {
    if (n.op === 'transpose') return { src, view: transposeView(v, n.attrs.perm as number[], shape) };
    if (n.op === 'pad') {
      const p = n.attrs.paddings as number[];
      return {
        src,
        view: padView(
          v,
          shape.map((_, d) => p[2 * d]!),
          shape,
          castScalar(n.attrs.constantValue as number, t.dtype),
        ),
      };
    }
    if (n.op !== 'slice') throw new KilnError('INTERNAL', `buildKernels: cannot fold ${n.op} '${n.name}' into a view`);
    return { src, view: sliceView(v, n.attrs.begin as number[], shape) };
  });
}

/** Builds scalar expressions for tensors computed by a group's member nodes. */
function exprBuilder(members: ReadonlySet<Node>, fixedLeaves: readonly SymbolicTensor[], inlineScalars: boolean, folded: ReadonlySet<Node> = new Set()) {
  const leaves: SymbolicTensor[] = [...fixedLeaves];
  const views: (View | null)[] = fixedLeaves.map(() => null);
  const keys: string[] = fixedLeaves.map((t) => t.name);
  const memo = new Map<Node, ScalarExpr>();
  const leaf = (t: SymbolicTensor): ScalarExpr => {
    if (inlineScalars && t.node.op === 'const' && sizeOf(t.shape as number[]) === 1) {
      return lit((t.node.attrs.value as Tensor).data[0]!, t.dtype);
    }
    if (!folded.has(t.node)) {
      let i = keys.indexOf(t.name);
      if (i < 0) {
        i = leaves.push(t) - 1;
        views.push(null);
        keys.push(t.name);
      }
      return input(i, t.dtype);
    }
    const pieces = resolvePieces(t, folded);
    const key = pieces.map((pc) => `${pc.src.name}{${viewKey(pc.view)}}`).join(' then ');
    let i = keys.indexOf(key);
    if (i < 0) {
      // The pieces become consecutive inputs chained by orElse; the expression reads the first.
      i = leaves.length;
      chainPieces(
        pieces.map((pc) => pc.view),
        i,
      ).forEach((v, k) => {
        leaves.push(pieces[k]!.src);
        views.push(v);
        keys.push(k === 0 ? key : `${key}#${k}`);
      });
    }
    return input(i, t.dtype);
  };
  const isMember = (t: SymbolicTensor) => members.has(t.node) && !fixedLeaves.includes(t);
  const valueOf = (t: SymbolicTensor): ScalarExpr => (isMember(t) ? exprOf(t.node) : leaf(t));
  /** The operands of n in the order their leaves are numbered (an assign reads its value first; assign only its value). */
  const operandOrder = (n: Node): number[] => (n.op === 'assign' ? [1] : ASSIGN_OPS.has(n.op) ? [1, 0] : n.inputs.map((_, i) => i));
  const build = (n: Node, args: ScalarExpr[]): ScalarExpr => {
    if (!ASSIGN_OPS.has(n.op)) return getElementwiseLowering(n.op)!(args, n.attrs, n.output.dtype);
    const [variable, value] = args as [ScalarExpr, ScalarExpr];
    return n.op === 'assign' ? value : call(n.op === 'assignAdd' ? 'add' : 'sub', n.inputs[0]!.dtype, variable, value);
  };
  /**
   * The expression of member node n. Iterative (a fused chain may be thousands of nodes deep),
   * visiting operands depth-first in order so inputs are numbered as a recursive walk would.
   */
  const exprOf = (root: Node): ScalarExpr => {
    const frames: { n: Node; order: number[]; next: number; args: ScalarExpr[] }[] = [];
    const enter = (n: Node) => frames.push({ n, order: operandOrder(n), next: 0, args: new Array<ScalarExpr>(n.inputs.length) });
    if (!memo.has(root)) enter(root);
    while (frames.length > 0) {
      const f = frames[frames.length - 1]!;
      if (f.next < f.order.length) {
        const i = f.order[f.next]!;
        const t = f.n.inputs[i]!;
        const assignTarget = ASSIGN_OPS.has(f.n.op) && i === 0;
        if (!assignTarget && (SHAPE_ONLY_INPUTS[f.n.op] ?? []).includes(i)) f.args[i] = lit(0, t.dtype);
        else if (assignTarget || !isMember(t)) f.args[i] = leaf(t);
        else {
          const have = memo.get(t.node);
          if (!have) {
            enter(t.node);
            continue;
          }
          f.args[i] = have;
        }
        f.next++;
        continue;
      }
      memo.set(f.n, build(f.n, f.args));
      frames.pop();
    }
    return memo.get(root)!;
  };
  return { valueOf, exprOf, leaves, views };
}

export function buildKernels(src: GraphWithFetches, fuse: boolean, layout: MemoryLayout = CPU_MEMORY_LAYOUT): BuiltKernels {
  const { graph, fetches } = src;
  const consumers = graph.consumers();
  const fetched = new Set(fetches);
  const nodes = graph.nodes.filter((n) => !getOp(n.op).source);
  const { roles, groups, groupOf, folded } = fuseNodes(nodes, consumers, fetched, fuse);

  // Buffers: one per tensor that some kernel reads or writes, or that is fetched.
  const buffers: BufferDecl[] = [];
  const bufOf = new Map<SymbolicTensor, number>();
  const bufferFor = (t: SymbolicTensor): number => {
    const have = bufOf.get(t);
    if (have !== undefined) return have;
    if (folded.has(t.node)) throw new KilnError('INTERNAL', `buildKernels: folded ${t.node.op} '${t.node.name}' read outside an elementwise kernel`);
    const shape = t.shape as number[];
    const n = t.node;
    const kind = n.op === 'placeholder' ? 'feed' : n.op === 'variable' ? 'variable' : n.op === 'const' ? 'const' : 'temp';
    const decl: BufferDecl = { id: buffers.length, name: t.name, dtype: t.dtype, shape, bytes: bufferBytes(t.dtype, shape, layout), kind, offset: -1 };
    if (kind === 'const') decl.value = n.attrs.value as Tensor;
    if (kind === 'feed' || kind === 'variable') decl.source = n.name;
    buffers.push(decl);
    bufOf.set(t, decl.id);
    return decl.id;
  };
  const usedOutside = (t: SymbolicTensor, g: Group) =>
    fetched.has(t) || (consumers.get(t.node) ?? []).some((c) => c.inputs.includes(t) && groupOf.get(c) !== g);

  const emitted: { group: Group; spec: KernelSpec }[] = [];
  for (const g of groups) {
    const members = new Set(g.nodes);
    const first = g.nodes[0]!;
    if (g.kind === 'elementwise') {
      const reasons = g.reasons;
      const b = exprBuilder(members, [], fuse, folded);
      const exprs: ScalarExpr[] = [];
      const outputs: number[] = [];
      for (const n of g.nodes) {
        if (roles.get(n) === 'sink') {
          exprs.push(b.exprOf(n));
          outputs.push(bufferFor(n.inputs[0]!));
        } else if (!fuse || usedOutside(n.output, g)) {
          exprs.push(b.exprOf(n));
          outputs.push(bufferFor(n.output));
          const inside = (consumers.get(n) ?? []).some((c) => c.inputs.includes(n.output) && groupOf.get(c) === g);
          if (inside) reasons.push(`${n.op} '${n.name}' is also written out: used by other kernels or fetched`);
        }
      }
      if (outputs.length === 0) continue;
      const spec: KernelSpec = { kind: 'elementwise', exprs, inputs: b.leaves.map(bufferFor), outputs };
      if (b.views.some((v) => v)) spec.inputViews = b.views;
      emitted.push({ group: g, spec });
    } else if (g.kind === 'reduce' || g.kind === 'contraction') {
      const m = g.main!;
      const epi = exprBuilder(members, [m.output], fuse);
      let epilogue = g.epilogue ? epi.exprOf(g.epilogue.node) : input(0, m.output.dtype);
      const output = bufferFor(g.epilogue ?? m.output);
      const epilogueInputs = epi.leaves.slice(1).map(bufferFor);
      if (g.kind === 'reduce') {
        const x = m.inputs[0]!;
        const inShape = x.shape as number[];
        const axes = normalizeAxes(m.attrs.axis as number[], inShape.length, `${m.op} '${m.name}'`);
        if (m.op === 'mean') {
          const count = axes.reduce((s, a) => s * inShape[a]!, 1);
          epilogue = substitute(epilogue, [
            call('div', 'float32', input(0, 'float32'), lit(count)),
            ...epi.leaves.slice(1).map((t, i) => input(i + 1, t.dtype)),
          ]);
        }
        const pro = exprBuilder(members, [], fuse);
        const prologue = pro.valueOf(x);
        const reducer = m.op === 'mean' ? 'sum' : (m.op as 'sum' | 'max' | 'min' | 'prod');
        emitted.push({
          group: g,
          spec: { kind: 'reduce', reducer, prologue, inputs: pro.leaves.map(bufferFor), inShape, axes, epilogue, epilogueInputs, output },
        });
      } else {
        const spec: KernelSpec = {
          kind: 'contraction',
          a: bufferFor(m.inputs[0]!),
          b: bufferFor(m.inputs[1]!),
          transposeA: m.attrs.transposeA === true,
          transposeB: m.attrs.transposeB === true,
          epilogue,
          epilogueInputs,
          output,
        };
        emitted.push({ group: g, spec });
      }
    } else if (g.kind === 'view') {
      const inp = bufferFor(first.inputs[0]!);
      const out = bufferFor(first.output);
      buffers[out]!.aliasOf = buffers[inp]!.aliasOf ?? inp;
      emitted.push({ group: g, spec: { kind: 'view', input: inp, output: out } });
    } else {
      const m = g.main ?? first;
      const def = getOp(m.op);
      // A target with no outputs (noOp, group) only orders its control inputs: no kernel.
      if (def.target) continue;
      const spec: KernelSpec = {
        kind: 'op',
        op: m.op,
        family: def.family,
        node: m.name,
        attrs: m.attrs,
        inputs: m.inputs.map(bufferFor),
        outputs: g.epilogue ? [bufferFor(g.epilogue)] : m.outputs.map(bufferFor),
      };
      if (g.epilogue) {
        const epi = exprBuilder(members, [m.output], fuse);
        spec.epilogue = epi.exprOf(g.epilogue.node);
        spec.epilogueInputs = epi.leaves.slice(1).map(bufferFor);
      }
      emitted.push({ group: g, spec });
    }
  }

  const order = fuse ? scheduleForMemory(scheduleItems(emitted, buffers)) : emitted.map((_, i) => i);
  const kernels: Kernel[] = order.map((i, id) => ({
    id,
    spec: emitted[i]!.spec,
    nodes: emitted[i]!.group.nodes.map((n) => n.name),
    reasons: emitted[i]!.group.reasons,
  }));
  const feeds = graph.placeholders().map((p) => ({ name: p.name, buffer: bufferFor(p.output) }));
  const fetchIds = fetches.map((f) => (getOp(f.node.op).target ? -1 : bufferFor(f)));
  return { buffers, kernels, fetches: fetchIds, feeds };
}

/** Dependencies and memory effects of each emitted kernel, for the scheduler. */
function scheduleItems(emitted: readonly { group: Group; spec: KernelSpec }[], buffers: readonly BufferDecl[]): ScheduleItem[] {
  const writer = new Map<number, number>();
  emitted.forEach((e, i) => kernelIO(e.spec).writes.forEach((w) => buffers[w]!.kind === 'temp' && writer.set(w, i)));
  const base = (id: number) => buffers[id]!.aliasOf ?? id;
  return emitted.map((e, i) => {
    const { reads, writes } = kernelIO(e.spec);
    const deps = new Set<number>();
    for (const r of reads) {
      const w = writer.get(r);
      if (w !== undefined && w !== i) deps.add(w);
    }
    const temps = (ids: number[]) => ids.filter((id) => buffers[base(id)]!.kind === 'temp');
    return {
      deps,
      allocBytes: temps(writes)
        .filter((w) => buffers[w]!.aliasOf === undefined)
        .reduce((s, w) => s + buffers[w]!.bytes, 0),
      reads: temps(reads).map((r) => ({ key: base(r), bytes: buffers[base(r)]!.bytes })),
      ordered: e.spec.kind === 'op' && e.spec.family === 'state',
    };
  });
}
