/**
 * The symbolic graph: SSA nodes in creation (= topological) order. Each node applies one
 * registered op to the outputs of earlier nodes; its output types are inferred when it is
 * added, so every SymbolicTensor knows its dtype and (possibly partly unknown) shape.
 */
import type { DType } from './dtype.js';
import { KilnError, fmtShape } from './errors.js';
import { resolveAttrs } from './ops/attrs.js';
import { type AttrValue, type Attrs, type TensorType, getOp } from './ops/registry.js';
import type { Dim, Shape } from './shape.js';
import { type NestedArray, Tensor, tensor } from './tensor.js';
import { type Initializer, isInitializer } from './init/initializers.js';
import { checkDrawArgs, eyeTensor, filledTensor, linspaceTensor, rangeTensor } from './ops/constant-values.js';

export interface VariableOptions {
  trainable?: boolean;
}

export interface SymbolicTensor {
  readonly graph: Graph;
  readonly dtype: DType;
  readonly shape: Shape;
  /** 'node' for output 0, 'node:i' for output i. */
  readonly name: string;
  readonly node: Node;
  readonly index: number;
}

declare const targetBrand: unique symbol;

/**
 * The output of a target (group(), noOp(), optimizer.minimize()): it carries no data, and
 * fetching it gives null. The brand exists only in types, so that Session.run types a target
 * fetch as null and a tensor fetch as Tensor.
 */
export interface TargetTensor extends SymbolicTensor {
  readonly [targetBrand]: true;
}

class SymbolicTensorImpl implements SymbolicTensor {
  constructor(
    readonly node: Node,
    readonly index: number,
    readonly dtype: DType,
    readonly shape: Shape,
  ) {}
  get graph(): Graph {
    return this.node.graph;
  }
  get name(): string {
    return this.index === 0 ? this.node.name : `${this.node.name}:${this.index}`;
  }
  get rank(): number {
    return this.shape.length;
  }
  toString(): string {
    return `SymbolicTensor<${this.dtype}${fmtShape(this.shape)}>('${this.name}')`;
  }
}

export class Node {
  readonly outputs: SymbolicTensor[];
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly name: string,
    readonly op: string,
    readonly inputs: readonly SymbolicTensor[],
    readonly attrs: Readonly<Attrs>,
    outputTypes: readonly TensorType[],
    /** Nodes that must run before this one though no data flows (TF's ^name inputs). */
    readonly controlInputs: readonly Node[] = [],
  ) {
    this.outputs = outputTypes.map((t, i) => new SymbolicTensorImpl(this, i, t.dtype, [...t.shape]));
  }
  /** The first output (most ops have exactly one). */
  get output(): SymbolicTensor {
    const o = this.outputs[0];
    if (!o) throw new KilnError('INVALID_ARGUMENT', `node '${this.name}' (${this.op}) has no outputs`);
    return o;
  }
  toString(): string {
    return `Node(${this.op} '${this.name}')`;
  }
}

export function isSymbolic(x: unknown): x is SymbolicTensor {
  return x instanceof SymbolicTensorImpl;
}

export interface AddNodeOptions {
  /** Exact name (must be unused); when absent a unique name is derived from `baseName` or the op. */
  name?: string;
  baseName?: string;
  controlInputs?: readonly Node[];
}

export class Graph {
  private readonly _nodes: Node[] = [];
  private readonly byName = new Map<string, Node>();
  private readonly scopes: string[] = [];
  private readonly nameCounters = new Map<string, number>();

  get nodes(): readonly Node[] {
    return this._nodes;
  }

  /** A placeholder: fed at run time. `null` dims are unknown (e.g. the batch). */
  placeholder(dtype: DType, shape: (number | null)[], name?: string): SymbolicTensor {
    return this.addNode('placeholder', [], { dtype, shape }, { baseName: name ?? 'placeholder' }).output;
  }

  /**
   * A variable: state that lives in the session, initialized from `init`: a Tensor, or an
   * Initializer with the variable's shape (`g.variable(initializers.glorotUniform({ seed: 1 }),
   * [784, 512], 'w1')`).
   */
  variable(init: Tensor, name?: string, opts?: VariableOptions): SymbolicTensor;
  variable(init: Initializer, shape: readonly number[], name?: string, opts?: VariableOptions & { dtype?: DType }): SymbolicTensor;
  variable(
    initArg: Tensor | Initializer,
    shapeOrName?: readonly number[] | string,
    nameOrOpts?: string | VariableOptions,
    maybeOpts?: VariableOptions & { dtype?: DType },
  ): SymbolicTensor {
    let init: Tensor;
    let name: string | undefined;
    let opts: VariableOptions | undefined;
    if (isInitializer(initArg)) {
      if (!Array.isArray(shapeOrName)) {
        throw new KilnError('INVALID_ARGUMENT', `variable: an initializer (${initArg.className}) needs a shape as the second argument`);
      }
      name = typeof nameOrOpts === 'string' ? nameOrOpts : undefined;
      opts = typeof nameOrOpts === 'object' ? nameOrOpts : maybeOpts;
      init = initArg.apply(shapeOrName as number[], maybeOpts?.dtype ?? 'float32');
    } else {
      name = typeof shapeOrName === 'string' ? shapeOrName : undefined;
      opts = typeof nameOrOpts === 'object' ? nameOrOpts : undefined;
      init = initArg;
    }
    if (!(init instanceof Tensor)) {
      throw new KilnError('INVALID_ARGUMENT', `variable${name ? ` '${name}'` : ''}: init must be a Tensor or an Initializer, got ${typeof init}`);
    }
    return this.addNode('variable', [], { value: init, trainable: opts?.trainable ?? true }, { baseName: name ?? 'variable' }).output;
  }

  /** A constant from a Tensor, a number, or nested arrays. */
  constant(value: Tensor | number | boolean | NestedArray, dtype?: DType, name?: string): SymbolicTensor {
    let t: Tensor;
    if (value instanceof Tensor) t = dtype && dtype !== value.dtype ? tensor(value, undefined, dtype) : value;
    else t = tensor(value as NestedArray, undefined, dtype);
    return this.addNode('const', [], { value: t }, { baseName: name ?? 'const' }).output;
  }

  // Source ops with TensorFlow.js names and argument order. Random draws are stateful ops (a
  // fresh draw every run, seeded from the session; see ops/random-draws.ts); the others make
  // constants.

  /** Values from N(mean, stdDev^2) of a static shape (tf.randomNormal). */
  randomNormal(shape: readonly number[], mean = 0, stdDev = 1, dtype: 'float32' | 'int32' = 'float32', seed?: number): SymbolicTensor {
    const s = checkDrawArgs('randomNormal', shape, dtype, seed, { mean, stdDev });
    return this.addNode('randomNormal', [], { shape: [...shape], mean, stdDev, dtype, seed: s }).output;
  }

  /** Values from N(mean, stdDev^2), redrawn beyond two standard deviations (tf.truncatedNormal). */
  truncatedNormal(shape: readonly number[], mean = 0, stdDev = 1, dtype: 'float32' | 'int32' = 'float32', seed?: number): SymbolicTensor {
    const s = checkDrawArgs('truncatedNormal', shape, dtype, seed, { mean, stdDev });
    return this.addNode('truncatedNormal', [], { shape: [...shape], mean, stdDev, dtype, seed: s }).output;
  }

  /** Values uniform in [minval, maxval) (tf.randomUniform). */
  randomUniform(shape: readonly number[], minval = 0, maxval = 1, dtype: 'float32' | 'int32' = 'float32', seed?: number): SymbolicTensor {
    const s = checkDrawArgs('randomUniform', shape, dtype, seed, { minval, maxval });
    return this.addNode('randomUniform', [], { shape: [...shape], minval, maxval, dtype, seed: s }).output;
  }

  /** A constant of zeros (tf.zeros). */
  zeros(shape: readonly number[], dtype: DType = 'float32'): SymbolicTensor {
    return this.constant(filledTensor('zeros', shape, 0, dtype), undefined, 'zeros');
  }

  /** A constant of ones (tf.ones). */
  ones(shape: readonly number[], dtype: DType = 'float32'): SymbolicTensor {
    return this.constant(filledTensor('ones', shape, 1, dtype), undefined, 'ones');
  }

  /** A constant with every element `value` (tf.fill). */
  fill(shape: readonly number[], value: number | boolean, dtype?: DType): SymbolicTensor {
    const dt = dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
    return this.constant(filledTensor('fill', shape, value, dt), undefined, 'fill');
  }

  /** An identity matrix [numRows, numColumns] (tf.eye). */
  eye(numRows: number, numColumns: number = numRows, dtype: DType = 'float32'): SymbolicTensor {
    return this.constant(eyeTensor(numRows, numColumns, dtype), undefined, 'eye');
  }

  /** start, start + step, ... up to (not including) stop (tf.range). */
  range(start: number, stop: number, step = 1, dtype: 'float32' | 'int32' = 'float32'): SymbolicTensor {
    return this.constant(rangeTensor(start, stop, step, dtype), undefined, 'range');
  }

  /** num evenly spaced values from start to stop, both included (tf.linspace). */
  linspace(start: number, stop: number, num: number): SymbolicTensor {
    return this.constant(linspaceTensor(start, stop, num), undefined, 'linspace');
  }

  /** Looks up 'name' (output 0) or 'name:i'. */
  tensorByName(name: string): SymbolicTensor {
    let nodeName = name;
    let index = 0;
    const m = /^(.*):(\d+)$/.exec(name);
    if (m && !this.byName.has(name)) {
      nodeName = m[1]!;
      index = Number(m[2]);
    }
    const node = this.byName.get(nodeName);
    if (!node) throw new KilnError('UNKNOWN_TENSOR', `no tensor named '${name}' in the graph`);
    const out = node.outputs[index];
    if (!out) {
      throw new KilnError('UNKNOWN_TENSOR', `node '${nodeName}' (${node.op}) has ${node.outputs.length} outputs; no output ${index}`);
    }
    return out;
  }

  nodeByName(name: string): Node | undefined {
    return this.byName.get(name);
  }

  /** Runs fn with names prefixed by `scope/` (nested scopes join with '/'). */
  nameScope<T>(scope: string, fn: () => T): T {
    if (!/^[A-Za-z0-9_.\-]+$/.test(scope)) throw new KilnError('INVALID_ARGUMENT', `nameScope: invalid scope name '${scope}'`);
    this.scopes.push(scope);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /** The current name scope ('' outside any; 'Adam/inner' inside nested nameScope calls). */
  get currentScope(): string {
    return this.scopes.join('/');
  }

  /** The current scope prefix joined with `base`, made unique with _1, _2, ... as TensorFlow does. */
  uniqueName(base: string): string {
    const full = [...this.scopes, base].join('/');
    if (!this.byName.has(full) && !this.nameCounters.has(full)) {
      this.nameCounters.set(full, 0);
      return full;
    }
    let k = this.nameCounters.get(full) ?? 0;
    let candidate: string;
    do {
      k++;
      candidate = `${full}_${k}`;
    } while (this.byName.has(candidate));
    this.nameCounters.set(full, k);
    return candidate;
  }

  /**
   * Adds a node applying `op` to `inputs`: resolves attrs against the registry, infers output
   * types (errors name the op and node) and returns the node. Used by every op function, the
   * text-IR parser and the deserializer.
   */
  addNode(op: string, inputs: readonly SymbolicTensor[], attrs: Record<string, AttrValue | undefined>, opts: AddNodeOptions = {}): Node {
    const def = getOp(op);
    if (opts.name !== undefined && this.byName.has(opts.name)) {
      throw new KilnError('INVALID_ARGUMENT', `${op}: a node named '${opts.name}' already exists`);
    }
    const name = opts.name ?? this.uniqueName(opts.baseName ?? op);
    // Names must survive serializeGraph / deserializeGraph: non-empty, and '^' marks control inputs there.
    if (typeof name !== 'string' || name === '' || name.startsWith('^')) {
      const got = typeof name === 'string' ? `'${name}'` : String(name);
      throw new KilnError('INVALID_ARGUMENT', `${op}: a node name must be a non-empty string not starting with '^', got ${got}`);
    }
    const what = `${op} '${name}'`;
    if (!Array.isArray(inputs)) throw new KilnError('INVALID_ARGUMENT', `${what}: inputs must be an array of SymbolicTensors`);
    for (const [i, x] of inputs.entries()) {
      if (!isSymbolic(x)) throw new KilnError('INVALID_ARGUMENT', `${what}: input ${i} is not a SymbolicTensor`);
      if (x.graph !== this) throw new KilnError('INVALID_ARGUMENT', `${what}: input '${x.name}' belongs to another graph`);
    }
    // Copied and frozen: mutating the caller's array later cannot add an edge (and so a cycle).
    const controls = Object.freeze([...(opts.controlInputs ?? [])]);
    for (const c of controls) {
      if (!(c instanceof Node)) throw new KilnError('INVALID_ARGUMENT', `${what}: a control input must be a Node (tensor.node), got ${String(c)}`);
      if (c.graph !== this) throw new KilnError('INVALID_ARGUMENT', `${what}: control input '${c.name}' belongs to another graph`);
    }
    const variadic = def.inputs.some((s) => s.variadic);
    const fixed = def.inputs.length - (variadic ? 1 : 0);
    if (variadic ? inputs.length < def.inputs.length : inputs.length !== def.inputs.length) {
      throw new KilnError(
        'INVALID_ARGUMENT',
        `${what}: expects ${variadic ? `at least ${def.inputs.length}` : def.inputs.length} inputs (${def.inputs
          .map((s) => s.name + (s.variadic ? '...' : ''))
          .join(', ')}), got ${inputs.length}`,
      );
    }
    void fixed;
    const resolved = resolveAttrs(def, attrs, what);
    const types = def.infer(
      inputs.map((x) => ({ dtype: x.dtype, shape: x.shape })),
      resolved,
      { what },
    );
    const node = new Node(this, this._nodes.length, name, op, Object.freeze([...inputs]), resolved, types, controls);
    this._nodes.push(node);
    this.byName.set(name, node);
    return node;
  }

  /** Placeholders in creation order. */
  placeholders(): Node[] {
    return this._nodes.filter((n) => n.op === 'placeholder');
  }

  /** Variable nodes in creation order. */
  variables(): Node[] {
    return this._nodes.filter((n) => n.op === 'variable');
  }

  /** Nodes that consume each node's outputs (computed on demand; the graph is append-only). */
  consumers(): Map<Node, Node[]> {
    const m = new Map<Node, Node[]>();
    for (const n of this._nodes) m.set(n, []);
    for (const n of this._nodes) {
      for (const x of n.inputs) m.get(x.node)!.push(n);
      for (const c of n.controlInputs) m.get(c)!.push(n);
    }
    return m;
  }
}

export type { Dim };
