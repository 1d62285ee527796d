/**
 * State ops: the only way a run changes a variable. assign / assignAdd / assignSub take the
 * output of a 'variable' node and a value of the variable's dtype and shape; their output is
 * the variable's new value. Writes are staged by the executor and committed only when the
 * whole run succeeds. noOp / group make a target: a node that only orders other nodes
 * (through control inputs) and whose fetch returns null, as TensorFlow's tf.group does.
 */
import { KilnError, fmtShape } from '../errors.js';
import { type Graph, Node, type SymbolicTensor, type TargetTensor, isSymbolic } from '../graph.js';
import { type TensorLike, toSymbolic } from './apply.js';
import { type InferContext, type TensorType, registerOp } from './registry.js';

/** Value type must equal the variable's: same dtype, same rank, known dims equal. */
function inferAssign([variable, value]: readonly TensorType[], ctx: InferContext, valueName: string): TensorType[] {
  const v = variable!;
  const x = value!;
  const typeOf = (t: TensorType): string => `${t.dtype}${fmtShape(t.shape)}`;
  if (v.dtype !== x.dtype) {
    throw new KilnError(
      'DTYPE_MISMATCH',
      `${ctx.what}: ${valueName} must have the variable's dtype ${v.dtype}, got ${x.dtype} (variable: ${typeOf(v)}, ${valueName}: ${typeOf(x)})`,
    );
  }
  const sameShape = v.shape.length === x.shape.length && v.shape.every((d, i) => d === null || x.shape[i] === null || d === x.shape[i]);
  if (!sameShape) {
    throw new KilnError(
      'SHAPE_MISMATCH',
      `${ctx.what}: ${valueName} must have the variable's shape ${fmtShape(v.shape)}, got ${fmtShape(x.shape)} (variable: ${typeOf(v)}, ${valueName}: ${typeOf(x)})`,
    );
  }
  return [{ dtype: v.dtype, shape: [...v.shape] }];
}

function defineAssign(name: string, valueName: string, doc: string, numericOnly: boolean): void {
  registerOp({
    name,
    family: 'state',
    stateful: true,
    doc,
    inputs: [{ name: 'variable' }, { name: valueName }],
    attrs: {},
    infer: (inputs, _attrs, ctx) => {
      if (numericOnly && inputs[0]!.dtype === 'bool') {
        throw new KilnError('DTYPE_MISMATCH', `${ctx.what}: the variable must be float32 or int32, got bool`);
      }
      return inferAssign(inputs, ctx, valueName);
    },
  });
}

defineAssign('assign', 'value', 'variable <- value; outputs the new value.', false);
defineAssign('assignAdd', 'delta', 'variable <- variable + delta; outputs the new value.', true);
defineAssign('assignSub', 'delta', 'variable <- variable - delta; outputs the new value.', true);

registerOp({
  name: 'noOp',
  family: 'state',
  stateful: true,
  target: true,
  doc: 'Does nothing; runs its control inputs first. Fetching it returns null (a target).',
  inputs: [],
  attrs: {},
  // A target carries no data; its one output is a bool scalar token so it can be fetched.
  infer: () => [{ dtype: 'bool', shape: [] }],
});

function applyAssign(op: string, variable: SymbolicTensor, value: TensorLike): SymbolicTensor {
  if (!isSymbolic(variable)) {
    throw new KilnError('INVALID_ARGUMENT', `${op}: the first argument must be a variable (a SymbolicTensor from g.variable()), got ${describe(variable)}`);
  }
  if (variable.node.op !== 'variable') {
    throw new KilnError('INVALID_ARGUMENT', `${op}: the first argument must be the output of a variable node, got '${variable.name}' (${variable.node.op})`);
  }
  const [v, x] = toSymbolic(op, [variable, value]);
  // Named after the variable, relative to the current scope ('Adam/w/m/assign', not 'Adam/Adam/w/m/assign').
  const scope = v!.graph.currentScope;
  const name = variable.node.name;
  const base = scope && name.startsWith(`${scope}/`) ? name.slice(scope.length + 1) : name;
  return v!.graph.addNode(op, [v!, x!], {}, { baseName: `${base}/${op}` }).output;
}

function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return typeof x;
}

/** variable <- value (same dtype and shape). Returns the new value. */
export function assign(variable: SymbolicTensor, value: TensorLike): SymbolicTensor {
  return applyAssign('assign', variable, value);
}

/** variable <- variable + delta (same dtype and shape). Returns the new value. */
export function assignAdd(variable: SymbolicTensor, delta: TensorLike): SymbolicTensor {
  return applyAssign('assignAdd', variable, delta);
}

/** variable <- variable - delta (same dtype and shape). Returns the new value. */
export function assignSub(variable: SymbolicTensor, delta: TensorLike): SymbolicTensor {
  return applyAssign('assignSub', variable, delta);
}

/** What group() and noOp() accept as dependencies: tensors or nodes, possibly in arrays. */
export type Dependency = SymbolicTensor | Node | readonly Dependency[];

function flattenDeps(op: string, deps: readonly Dependency[]): Node[] {
  const out: Node[] = [];
  const visit = (d: Dependency, path: string): void => {
    if (Array.isArray(d)) (d as readonly Dependency[]).forEach((e, i) => visit(e, `${path}[${i}]`));
    else if (isSymbolic(d)) out.push(d.node);
    else if (d instanceof Node) out.push(d);
    else throw new KilnError('INVALID_ARGUMENT', `${op}: argument ${path} must be a SymbolicTensor or Node, got ${describe(d)}`);
  };
  deps.forEach((d, i) => visit(d, String(i)));
  return [...new Set(out)];
}

/**
 * A target that runs every given tensor's node (and what it depends on) when fetched; its
 * fetch returns null. Use it to bundle updates: `group(assign(a, x), assign(b, y))`.
 */
export function group(...inputs: Dependency[]): TargetTensor {
  const deps = flattenDeps('group', inputs);
  const g = deps[0]?.graph;
  if (!g) throw new KilnError('INVALID_ARGUMENT', 'group: needs at least one tensor to group (use noOp(g) for an empty target)');
  for (const d of deps) {
    if (d.graph !== g) throw new KilnError('INVALID_ARGUMENT', `group: '${d.name}' belongs to another graph than '${deps[0]!.name}'`);
  }
  return g.addNode('noOp', [], {}, { baseName: 'group', controlInputs: deps }).output as TargetTensor;
}

/** A target in `g` that does nothing but run `controlInputs` first; its fetch returns null. */
export function noOp(g: Graph, controlInputs: readonly Dependency[] = [], name?: string): TargetTensor {
  const deps = flattenDeps('noOp', controlInputs);
  return g.addNode('noOp', [], {}, { baseName: name ?? 'noOp', controlInputs: deps }).output as TargetTensor;
}
