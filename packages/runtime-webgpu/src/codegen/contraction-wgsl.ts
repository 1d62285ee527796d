/**
 * WGSL for contraction kernels: C = op(A) · op(B), then out = epilogue(C, epilogue inputs).
 * Transposes are indexing (row and column strides are uniforms, so one pipeline serves both
 * layouts and every shape). A workgroup computes a BM x (BN * WORKGROUP) tile: each invocation
 * BM rows by BN columns WORKGROUP apart, in registers, with no workgroup memory or barriers
 * (what runs fastest on lavapipe, see TOOLCHAIN.md): per k, the lanes read one A value each
 * row (the same for all) and consecutive B values. Edge tiles clamp loads and guard stores. The epilogue is a function
 * called per output element with its flat index.
 */
import type { DType } from '@kiln/graph';
import { type ScalarExpr, type View, elementwiseIndexing } from '@kiln/compiler';
import { type GeneratedKernel, HEADER, Params, WORKGROUP, grid, indexedReads, store } from './wgsl-common.js';
import { convert, helperSource, renderExprs } from './wgsl-scalar.js';

export interface ContractionOperands {
  m: number;
  n: number;
  k: number;
  a: { offset: number; rowStride: number; colStride: number };
  b: { offset: number; rowStride: number; colStride: number };
  epilogue: ScalarExpr;
  epiShapes: readonly (readonly number[])[];
  epiDTypes: readonly DType[];
  epiOffsets: readonly number[];
  /** Per epilogue input: a view over [m, n] (a batch element's slice of a broadcast input), else broadcast as is. */
  epiViews?: readonly (View | null)[];
  outDType: DType;
  outOffset: number;
}

/** Rows per invocation, and columns per invocation (spaced WORKGROUP apart, so a workgroup's lanes read consecutive columns of B). */
const BM = 8;
const BN = 4;
const TILE_N = BN * WORKGROUP;

export function contractionWgsl(c: ContractionOperands): GeneratedKernel {
  const params = new Params();
  const used = new Set<string>();
  const [M, N, K] = [params.add(c.m), params.add(c.n), params.add(c.k)];
  const tilesN = Math.ceil(c.n / TILE_N);
  const tiles = Math.ceil(c.m / BM) * tilesN;
  const [TN, T] = [params.add(tilesN), params.add(tiles)];
  const [aOff, aRow, aCol] = [params.add(c.a.offset), params.add(c.a.rowStride), params.add(c.a.colStride)];
  const [bOff, bRow, bCol] = [params.add(c.b.offset), params.add(c.b.rowStride), params.add(c.b.colStride)];
  const outShape = [c.m, c.n];
  const ix = elementwiseIndexing(outShape, [outShape, ...c.epiShapes], [null, ...(c.epiViews ?? [])]);
  const epiReads = indexedReads(ix, 'o', [0, ...c.epiOffsets], ['float32', ...c.epiDTypes], params, 'e', (i) => i > 0);
  const epi = renderExprs([c.epilogue], (i, dt) => (i === 0 ? convert('acc', 'float32', dt) : epiReads.read(i)), 'w', used);
  const outAt = params.add(c.outOffset);
  const rows = Array.from({ length: BM }, (_, r) => r);
  const cols = Array.from({ length: BN }, (_, j) => j);
  const lines: string[] = [];
  for (const r of rows) lines.push(`var ar${r} = ${aOff} + min(m0 + ${r}, ${M} - 1) * ${aRow};`);
  for (const j of cols) lines.push(`var bc${j} = ${bOff} + min(n0 + ${j * WORKGROUP}, ${N} - 1) * ${bCol};`);
  for (const r of rows) for (const j of cols) lines.push(`var c${r}_${j} = 0.0f;`);
  const inner: string[] = [];
  for (const r of rows) inner.push(`let a${r} = bitcast<f32>(mem[ar${r}]); ar${r} += ${aCol};`);
  for (const j of cols) inner.push(`let b${j} = bitcast<f32>(mem[bc${j}]); bc${j} += ${bRow};`);
  for (const r of rows) for (const j of cols) inner.push(`c${r}_${j} = fma(a${r}, b${j}, c${r}_${j});`);
  const stores: string[] = [];
  for (const r of rows)
    for (const j of cols) stores.push(`if (m0 + ${r} < ${M} && n0 + ${j * WORKGROUP} < ${N}) { epi((m0 + ${r}) * ${N} + n0 + ${j * WORKGROUP}, c${r}_${j}); }`);
  const wgsl = `${HEADER}
${helperSource(used)}
fn epi(o: i32, acc: f32) {
  ${[...epiReads.stmts, ...epi.stmts, store(`${outAt} + o`, epi.values[0]!, c.outDType)].join('\n  ')}
}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = i32(gid.x + gid.y * nwg.x * ${WORKGROUP}u);
  let t = g / ${WORKGROUP};
  if (t >= ${T}) { return; }
  let m0 = (t / ${TN}) * ${BM};
  let n0 = (t % ${TN}) * ${TILE_N} + g % ${WORKGROUP};
  ${lines.join('\n  ')}
  for (var kk = 0; kk < ${K}; kk++) {
    ${inner.join('\n    ')}
  }
  ${stores.join('\n  ')}
}
`;
  return { wgsl, params: params.values, workgroups: grid(tiles) };
}
