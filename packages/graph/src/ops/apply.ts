/**
 * How free op functions (add(a, b), conv2d(x, f, ...)) become nodes: JS literals become
 * constants in the graph of the symbolic arguments, then Graph.addNode validates and infers.
 */
import type { DType } from '../dtype.js';
import { KilnError } from '../errors.js';
import { type Graph, type SymbolicTensor, isSymbolic } from '../graph.js';
import { type NestedArray, Tensor } from '../tensor.js';
import { describeValue } from '../value-check.js';
import type { AttrValue } from './registry.js';

/** What an op argument may be: a symbolic tensor, or a value that becomes a constant. */
export type TensorLike = SymbolicTensor | Tensor | NestedArray;

function firstLeaf(v: NestedArray): number | boolean | undefined {
  let x: NestedArray = v;
  while (Array.isArray(x)) {
    if (x.length === 0) return undefined;
    x = x[0]!;
  }
  return x;
}

/** Every leaf of nested arrays, walked with a loop (any depth); stops early when `visit` returns false. */
function everyLeaf(v: unknown, visit: (leaf: unknown) => boolean): boolean {
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    if (Array.isArray(x)) for (let i = x.length - 1; i >= 0; i--) stack.push(x[i]);
    else if (!visit(x)) return false;
  }
  return true;
}

/** Refuses an op argument that is not a tensor, a typed array, a number, a boolean or nested arrays of them. */
function checkLiteral(op: string, i: number, a: unknown): void {
  if (ArrayBuffer.isView(a) && !(a instanceof DataView)) return; // tensor() decides which typed arrays it takes
  let bad: unknown;
  const ok = everyLeaf(a, (x) => {
    if (typeof x === 'number' || typeof x === 'boolean') return true;
    bad = x;
    return false;
  });
  if (!ok) {
    const what = Array.isArray(a) ? `an array holding ${describeValue(bad)}` : describeValue(a);
    throw new KilnError('INVALID_ARGUMENT', `${op}: argument ${i} must be a tensor, a number, a boolean or (nested) arrays of them; got ${what}`);
  }
}

function allIntegers(v: NestedArray): boolean {
  return everyLeaf(v, (x) => typeof x === 'boolean' || Number.isInteger(x));
}

/**
 * Converts op arguments to SymbolicTensors of one graph. A literal takes: bool if it holds
 * booleans; else the dtype of the first non-bool symbolic argument (an int32 operand with a
 * fractional literal is a DTYPE_MISMATCH, never a silent truncation); else float32.
 */
export function toSymbolic(op: string, args: readonly TensorLike[], graphHint?: Graph): SymbolicTensor[] {
  const symbolic = args.filter(isSymbolic);
  const graph = symbolic[0]?.graph ?? graphHint;
  if (!graph) {
    throw new KilnError('INVALID_ARGUMENT', `${op}: at least one argument must be a SymbolicTensor (got only constants); use g.constant()`);
  }
  for (const s of symbolic) {
    if (s.graph !== graph) throw new KilnError('INVALID_ARGUMENT', `${op}: arguments come from different graphs ('${s.name}')`);
  }
  const like: DType = symbolic.find((s) => s.dtype !== 'bool')?.dtype ?? 'float32';
  return args.map((a, i) => {
    if (isSymbolic(a)) return a;
    if (a instanceof Tensor) return graph.constant(a);
    if (a === undefined || a === null) throw new KilnError('INVALID_ARGUMENT', `${op}: argument ${i} is ${String(a)}`);
    checkLiteral(op, i, a);
    const leaf = firstLeaf(a);
    if (typeof leaf === 'boolean') return graph.constant(a, 'bool');
    if (like === 'int32' && !allIntegers(a)) {
      throw new KilnError('DTYPE_MISMATCH', `${op}: literal ${JSON.stringify(a)} is not an integer but the other operand is int32`);
    }
    return graph.constant(a, like);
  });
}

/** Applies an op to TensorLike inputs and returns all outputs. */
export function applyOp(op: string, inputs: readonly TensorLike[], attrs: Record<string, AttrValue | undefined> = {}, graphHint?: Graph): SymbolicTensor[] {
  const xs = toSymbolic(op, inputs, graphHint);
  const g = xs[0]?.graph ?? graphHint;
  if (!g) throw new KilnError('INVALID_ARGUMENT', `${op}: no graph to add to`);
  return g.addNode(op, xs, attrs).outputs;
}

/** Applies a single-output op. */
export function apply1(op: string, inputs: readonly TensorLike[], attrs: Record<string, AttrValue | undefined> = {}): SymbolicTensor {
  return applyOp(op, inputs, attrs)[0]!;
}
