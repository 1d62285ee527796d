/**
 * WGSL for elementwise kernels: one invocation per output element. Operands are read through
 * the compiler's elementwise indexing (flat, broadcast, strided views, guarded pads and
 * concat pieces); the expressions are rendered once as lets (shared subexpressions computed
 * once, across outputs too) and every value is computed before any output is written, so an
 * output may share storage with a same-shape input (the memory plan's in-place reuse).
 */
import type { DType } from '@kiln/graph';
import { type ScalarExpr, type View, elementwiseIndexing } from '@kiln/compiler';
import { type GeneratedKernel, HEADER, Params, WORKGROUP, grid, indexedReads, store } from './wgsl-common.js';
import { helperSource, renderExprs } from './wgsl-scalar.js';

export interface ElementwiseOperands {
  exprs: readonly ScalarExpr[];
  inShapes: readonly (readonly number[])[];
  inDTypes: readonly DType[];
  inOffsets: readonly number[];
  views?: readonly (View | null | undefined)[];
  outShape: readonly number[];
  outDTypes: readonly DType[];
  outOffsets: readonly number[];
}

export function elementwiseWgsl(k: ElementwiseOperands): GeneratedKernel {
  const n = k.outShape.reduce((a, b) => a * b, 1);
  const params = new Params();
  const count = params.add(n);
  const ix = elementwiseIndexing(k.outShape, k.inShapes, k.views ?? []);
  const reads = indexedReads(ix, 'o', k.inOffsets, k.inDTypes, params, 'x');
  const used = new Set<string>();
  const body = renderExprs(k.exprs, (i) => reads.read(i), 't', used);
  const outs = k.outOffsets.map((off) => params.add(off));
  const stores = body.values.map((v, j) => store(`${outs[j]} + o`, v, k.outDTypes[j]!));
  const wgsl = `${HEADER}
${helperSource(used)}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = i32(gid.x + gid.y * nwg.x * ${WORKGROUP}u);
  if (o >= ${count}) { return; }
  ${reads.stmts.join('\n  ')}
  ${body.stmts.join('\n  ')}
  ${stores.join('\n  ')}
}
`;
  return { wgsl, params: params.values, workgroups: grid(Math.ceil(n / WORKGROUP)) };
}
