/**
 * WGSL for reduce kernels: acc = reducer over the reduced axes of prologue(inputs), then
 * out = epilogue(acc, epilogue inputs). Kept and reduced dims are collapsed separately (the
 * compiler's collapseDims over broadcast strides) and passed as uniforms. Short reductions
 * run one invocation per output; long ones (>= LONG_AXIS elements) one workgroup per output
 * with a tree reduction in workgroup memory (softmax and cross-entropy rows). Float sums are
 * compensated (Kahan) per invocation, so long rows stay close to the reference's float64.
 */
import type { DType } from '@kiln/graph';
import { type Reducer, type ScalarExpr, broadcastStrides, collapseDims, elementwiseIndexing } from '@kiln/compiler';
import { type GeneratedKernel, HEADER, Params, WORKGROUP, grid, indexedReads, load, store } from './wgsl-common.js';
import { convert, helperSource, renderExprs, wgslLiteral, wgslType } from './wgsl-scalar.js';

/** Reductions at least this long use a workgroup per output. */
export const LONG_AXIS = 128;

export interface ReduceOperands {
  reducer: Reducer;
  prologue: ScalarExpr;
  inShapes: readonly (readonly number[])[];
  inDTypes: readonly DType[];
  inOffsets: readonly number[];
  inShape: readonly number[];
  axes: readonly number[];
  epilogue: ScalarExpr;
  epiShapes: readonly (readonly number[])[];
  epiDTypes: readonly DType[];
  epiOffsets: readonly number[];
  outShape: readonly number[];
  outDType: DType;
  outOffset: number;
}

function initial(r: Reducer, dt: DType): string {
  if (r === 'sum') return wgslLiteral(0, dt);
  if (r === 'prod') return wgslLiteral(1, dt);
  if (dt === 'float32') return wgslLiteral(r === 'max' ? -Infinity : Infinity, dt);
  if (dt === 'int32') return r === 'max' ? '(-2147483647 - 1)' : '2147483647';
  return r === 'max' ? '0u' : '1u';
}

function combine(r: Reducer, dt: DType, a: string, b: string, used: Set<string>): string {
  if (r === 'sum') return `(${a} + ${b})`;
  if (r === 'prod') return `(${a} * ${b})`;
  if (dt === 'float32') {
    used.add(`kiln_f${r}`);
    return `kiln_f${r}(${a}, ${b})`;
  }
  return `${r}(${a}, ${b})`;
}

/** Statements decomposing `idx` over `extents` (params) into `${tag}d*` and positions `${tag}p{i}` = base_i + sum d * strides. */
function walk(idx: string, shape: number[], strides: number[][], bases: string[], params: Params, tag: string): string[] {
  const ext = shape.map((s) => params.add(s));
  const st = strides.map((s) => s.map((v) => params.add(v)));
  const out: string[] = [];
  if (shape.length > 1) out.push(`var ${tag}q = ${idx};`);
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape.length === 1) out.push(`let ${tag}d0 = ${idx};`);
    else out.push(`let ${tag}d${d} = ${tag}q % ${ext[d]}; ${tag}q = ${tag}q / ${ext[d]};`);
  }
  bases.forEach((b, i) => out.push(`let ${tag}p${i} = ${[b, ...shape.map((_, d) => `${tag}d${d} * ${st[i]![d]}`)].join(' + ')};`));
  return out;
}

export function reduceWgsl(k: ReduceOperands): GeneratedKernel {
  const params = new Params();
  const used = new Set<string>();
  const nOut = k.outShape.reduce((a, b) => a * b, 1);
  const red = [...k.axes].sort((a, b) => a - b);
  const kept = k.inShape.map((_, d) => d).filter((d) => !red.includes(d));
  const nRed = red.reduce((a, d) => a * k.inShape[d]!, 1);
  const full = k.inShapes.map((s) => broadcastStrides(s, k.inShape));
  const keptC = collapseDims(
    kept.map((d) => k.inShape[d]!),
    full.map((st) => kept.map((d) => st[d]!)),
  );
  const redC = collapseDims(
    red.map((d) => k.inShape[d]!),
    full.map((st) => red.map((d) => st[d]!)),
  );
  const accT = k.prologue.dtype;
  const T = wgslType(accT);
  const long = nRed >= LONG_AXIS;
  const count = params.add(nOut);
  const total = params.add(nRed);
  const outerStmts = walk(
    'o',
    keptC.shape,
    keptC.strides,
    k.inOffsets.map((off) => params.add(off)),
    params,
    'k',
  );
  const innerStmts = walk(
    'j',
    redC.shape,
    redC.strides,
    k.inOffsets.map((_, i) => `kp${i}`),
    params,
    'r',
  );
  const pro = renderExprs([k.prologue], (i) => load(`rp${i}`, k.inDTypes[i]!), 'v', used);
  const v = pro.values[0]!;
  const kahan = k.reducer === 'sum' && accT === 'float32';
  const step = kahan ? `let ky = ${v} - comp; let kt = acc + ky; comp = (kt - acc) - ky; acc = kt;` : `acc = ${combine(k.reducer, accT, 'acc', v, used)};`;
  // Epilogue: %0 is the accumulator, %1.. the epilogue inputs broadcast to the output shape.
  const ix = elementwiseIndexing(k.outShape, [k.outShape, ...k.epiShapes]);
  const epiReads = indexedReads(ix, 'o', [0, ...k.epiOffsets], [accT, ...k.epiDTypes], params, 'e', (i) => i > 0);
  const epi = renderExprs([k.epilogue], (i, dt) => (i === 0 ? convert('acc', accT, dt) : epiReads.read(i)), 'w', used);
  const outAt = params.add(k.outOffset);
  const finish = [...epiReads.stmts, ...epi.stmts, store(`${outAt} + o`, epi.values[0]!, k.outDType)].join('\n    ');
  const loop = (start: string, stride: string) =>
    `var acc: ${T} = ${initial(k.reducer, accT)};
  var comp: ${T} = ${wgslLiteral(0, accT)};
  for (var j = ${start}; j < ${total}; j += ${stride}) {
    ${innerStmts.join('\n    ')}
    ${pro.stmts.join('\n    ')}
    ${step}
  }`;
  let wgsl: string;
  if (!long) {
    wgsl = `${HEADER}
${helperSource(used)}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = i32(gid.x + gid.y * nwg.x * ${WORKGROUP}u);
  if (o >= ${count}) { return; }
  ${outerStmts.join('\n  ')}
  ${loop('0', '1')}
  {
    ${finish}
  }
}
`;
    return { wgsl, params: params.values, workgroups: grid(Math.ceil(nOut / WORKGROUP)) };
  }
  const tree = combine(k.reducer, accT, 'part[lid]', 'part[lid + s]', used);
  wgsl = `${HEADER}
${helperSource(used)}
var<workgroup> part: array<${T}, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let valid = i32(wid.x + wid.y * nwg.x) < ${count};
  let o = select(0, i32(wid.x + wid.y * nwg.x), valid);
  ${outerStmts.join('\n  ')}
  ${loop('i32(lid)', `${WORKGROUP}`)}
  part[lid] = acc;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] = ${tree}; }
    workgroupBarrier();
  }
  if (lid == 0u && valid) {
    acc = part[0];
    ${finish}
  }
}
`;
  return { wgsl, params: params.values, workgroups: grid(nOut) };
}
