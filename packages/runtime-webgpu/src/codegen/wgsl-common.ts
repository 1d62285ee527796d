/**
 * What every generated WGSL kernel shares: the bindings (the Program's whole storage as one
 * `array<u32>`, indexed by element offsets, and a block of uniform parameters), typed loads
 * and stores, the parameter allocator (offsets, extents and strides are uniforms, not baked
 * in, so one pipeline serves every shape and placement of a kernel structure), and the
 * rendering of the compiler's index lowering (lower/index-expr.ts) for a flat output index.
 */
import type { DType } from '@kiln/graph';
import type { ElementwiseIndexing } from '@kiln/compiler';
import { wgslLiteral } from './wgsl-scalar.js';

/**
 * u32 parameters per kernel: the uniform block each kernel binds (a dynamic offset into one
 * buffer). The last slot is always 0: kiln_round(x) xors x's bits with it, an identity the
 * shader compiler cannot see through, so it cannot reassociate float arithmetic or fuse a
 * multiply into an add across it (each float32 op is rounded, as the scalar evaluator says).
 */
export const PARAM_SLOTS = 256;
/** Invocations per workgroup of the one-invocation-per-element kernels. */
export const WORKGROUP = 64;

/** A generated kernel: WGSL text (shape-free), its parameter values, and its dispatch size. */
export interface GeneratedKernel {
  wgsl: string;
  params: number[];
  workgroups: [number, number, number];
}

/** Allocates uniform parameter slots; the WGSL text of a slot depends only on allocation order. */
export class Params {
  readonly values: number[] = [];
  /** The WGSL i32 expression of a new parameter holding `v` (an integer). */
  add(v: number): string {
    const k = this.values.length;
    if (k >= PARAM_SLOTS - 1) throw new Error(`wgsl: more than ${PARAM_SLOTS} kernel parameters`);
    this.values.push(v | 0);
    return `bitcast<i32>(u[${k >> 2}][${k & 3}])`;
  }
}

export const HEADER = `@group(0) @binding(0) var<storage, read_write> mem: array<u32>;
@group(0) @binding(1) var<uniform> u: array<vec4<u32>, ${PARAM_SLOTS / 4}>;
fn kiln_f32bits(b: u32) -> f32 { return bitcast<f32>(b); }
fn kiln_round(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) ^ u[${PARAM_SLOTS / 4 - 1}][3]); }`;

/** A typed load of element `pos` (i32 text). */
export function load(pos: string, dtype: DType): string {
  return dtype === 'float32' ? `bitcast<f32>(mem[${pos}])` : dtype === 'int32' ? `bitcast<i32>(mem[${pos}])` : `min(mem[${pos}], 1u)`;
}

/** A typed store of `value` into element `pos`. */
export function store(pos: string, value: string, dtype: DType): string {
  return dtype === 'bool' ? `mem[${pos}] = ${value};` : `mem[${pos}] = bitcast<u32>(${value});`;
}

/** Workgroups for `groups` workgroups in a grid (x at most 65535), or one empty dispatch. */
export function grid(groups: number): [number, number, number] {
  if (groups <= 0) return [0, 0, 0];
  const x = Math.min(groups, 65535);
  return [x, Math.ceil(groups / x), 1];
}

/**
 * Statements and reads for the operands of one element at flat output index `o` (an i32 let),
 * as the compiler's elementwise indexing says: flat operands at o, scalars at their offset,
 * nested indexing decomposes o over the loop extents and sums per-operand strides; guarded
 * operands read their fallback (the next piece, or the fill) outside their ranges.
 * `offsets[i]` is operand i's element offset in storage; `slots` says which operands are
 * buffers (the others are rendered by the caller, e.g. an accumulator).
 */
export function indexedReads(
  ix: ElementwiseIndexing,
  o: string,
  offsets: readonly number[],
  dtypes: readonly DType[],
  params: Params,
  tag: string,
  isBuffer: (i: number) => boolean = () => true,
): { stmts: string[]; read: (i: number) => string } {
  const stmts: string[] = [];
  if (ix.kind === 'flat') {
    const pos = offsets.map((off, i) => (isBuffer(i) ? params.add(off) : ''));
    return { stmts, read: (i) => load(ix.inputs[i] === 'flat' ? `${pos[i]} + ${o}` : pos[i]!, dtypes[i]!) };
  }
  const rank = ix.loops.length;
  const ext = ix.loops.map((l) => params.add(l));
  stmts.push(`var ${tag}q = ${o};`);
  for (let d = rank - 1; d >= 0; d--) {
    stmts.push(`let ${tag}d${d} = ${tag}q % ${ext[d]}; ${tag}q = ${tag}q / ${ext[d]};`);
  }
  const pos: string[] = [];
  const conds: string[] = [];
  ix.inputs.forEach((a, i) => {
    if (!isBuffer(i)) return (pos.push(''), conds.push(''));
    const terms = [params.add(a.offset + offsets[i]!), ...a.strides.map((s, d) => `${tag}d${d} * ${params.add(s)}`)];
    stmts.push(`let ${tag}p${i} = ${terms.join(' + ')};`);
    pos.push(`${tag}p${i}`);
    const c = a.guards.map((g) => `(${tag}d${g.dim} >= ${params.add(g.lo)} && ${tag}d${g.dim} < ${params.add(g.hi)})`);
    conds.push(c.join(' && '));
  });
  const read = (i: number): string => {
    const a = ix.inputs[i]!;
    const outside = a.orElse !== undefined ? read(a.orElse) : wgslLiteral(a.fill, dtypes[i]!);
    if (a.never) return outside;
    const at = load(pos[i]!, dtypes[i]!);
    return a.guards.length === 0 ? at : `select(${outside}, ${at}, ${conds[i]})`;
  };
  return { stmts, read };
}
