/**
 * The op registry: each op is defined once, here-registered from the file of its family
 * (ops/<family>.ts) with its signature (inputs, attrs), dtype and shape inference. Other
 * concerns keep parallel tables keyed by the same op name (reference kernels in runtime-cpu,
 * gradient rules in compiler/autodiff, lowerings in compiler/lower), and table tests iterate
 * this registry so that an op missing one of those pieces fails a test.
 */
import type { DType } from '../dtype.js';
import { KilnError } from '../errors.js';
import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/**
 * The name of every op Kiln defines (a test checks that the registry holds exactly these), so
 * tables kept per op elsewhere can be typed as complete records, `Record<OpName, ...>`, and a
 * missing entry is a type error. Adding an op means adding its name here. (Ops registered at
 * run time by a test or an extension are outside the union and use the tables' register
 * functions.)
 */
export const OP_NAMES = [
  'abs',
  'add',
  'argMax',
  'argMin',
  'assign',
  'assignAdd',
  'assignSub',
  'avgPool',
  'avgPoolGrad',
  'batchNorm',
  'broadcastLike',
  'broadcastTo',
  'cast',
  'ceil',
  'clipByValue',
  'concat',
  'const',
  'conv2d',
  'conv2dBackpropFilter',
  'conv2dBackpropInput',
  'conv2dTranspose',
  'cos',
  'cumsum',
  'depthwiseConv2d',
  'depthwiseConv2dBackpropFilter',
  'depthwiseConv2dBackpropInput',
  'div',
  'dropout',
  'elu',
  'equal',
  'erf',
  'exp',
  'expandDims',
  'floor',
  'gather',
  'gelu',
  'greater',
  'greaterEqual',
  'identity',
  'layerNorm',
  'leakyRelu',
  'less',
  'lessEqual',
  'log',
  'logSoftmax',
  'logicalAnd',
  'logicalNot',
  'logicalOr',
  'matMul',
  'max',
  'maxPool',
  'maxPoolGrad',
  'maxPoolGradGrad',
  'maximum',
  'mean',
  'min',
  'minimum',
  'mul',
  'multinomial',
  'neg',
  'noOp',
  'notEqual',
  'oneHot',
  'pad',
  'placeholder',
  'pow',
  'prod',
  'randomNormal',
  'randomUniform',
  'reciprocal',
  'relu',
  'relu6',
  'reshape',
  'round',
  'rsqrt',
  'selu',
  'sigmoid',
  'sign',
  'sin',
  'slice',
  'softmax',
  'softplus',
  'split',
  'sqrt',
  'square',
  'squaredDifference',
  'squeeze',
  'stack',
  'stopGradient',
  'sub',
  'sum',
  'tanh',
  'tile',
  'transpose',
  'truncatedNormal',
  'unsortedSegmentSum',
  'variable',
  'where',
  'acos',
  'acosh',
  'asin',
  'asinh',
  'atan',
  'atanh',
  'cosh',
  'sinh',
  'tan',
] as const;

export type OpName = (typeof OP_NAMES)[number];

const OP_NAME_SET: ReadonlySet<string> = new Set(OP_NAMES);

/** Whether `name` is one of the ops Kiln defines. */
export function isOpName(name: string): name is OpName {
  return OP_NAME_SET.has(name);
}

export type AttrType = 'int' | 'float' | 'bool' | 'string' | 'ints' | 'floats' | 'dtype' | 'shape' | 'tensor';
/** 'shape' attrs may hold null for unknown dims. */
export type AttrValue = number | boolean | string | number[] | (number | null)[] | DType | Tensor;
export type Attrs = Record<string, AttrValue>;

export interface AttrSpec {
  type: AttrType;
  /** Filled in when the caller leaves the attr out. An attr without a default is required. */
  default?: AttrValue;
  /** For 'string' attrs: the allowed values. */
  oneOf?: readonly string[];
}

export interface TensorType {
  dtype: DType;
  shape: Shape;
}

export interface InputSpec {
  name: string;
  /** A variadic input takes any number (>= 1) of tensors; at most one per op, and last. */
  variadic?: boolean;
}

export interface InferContext {
  /** "opName 'nodeName'": prefix every error message with it. */
  what: string;
}

export interface OpDef {
  /** Op type, spelled as the TF.js-style free function (e.g. 'matMul', 'conv2d'): one of OP_NAMES for Kiln's own ops. */
  name: string;
  /** The family file that defines it: elementwise, compare, reduce, movement, nn, state, ... */
  family: string;
  inputs: readonly InputSpec[];
  attrs: Readonly<Record<string, AttrSpec>>;
  /** Dtype + shape inference; validates inputs and attrs, throws KilnError naming ctx.what. */
  infer(inputs: readonly TensorType[], attrs: Attrs, ctx: InferContext): TensorType[];
  /** Has effects or non-determinism (variables, assigns, random): never folded, CSE'd or pruned as dead. */
  stateful?: boolean;
  /** Its outputs carry no data: fetching it in Session.run returns null (train targets, groups). */
  target?: boolean;
  /** Sources (placeholder, variable, const) have no inputs and are created by Graph methods. */
  source?: boolean;
  /** One-line description for docs and `kiln inspect`. */
  doc?: string;
}

const registry = new Map<string, OpDef>();

export function registerOp(def: OpDef): OpDef {
  if (registry.has(def.name)) throw new KilnError('INTERNAL', `op '${def.name}' registered twice`);
  const variadic = def.inputs.findIndex((i) => i.variadic);
  if (variadic >= 0 && variadic !== def.inputs.length - 1) {
    throw new KilnError('INTERNAL', `op '${def.name}': a variadic input must be last`);
  }
  registry.set(def.name, def);
  return def;
}

export function getOp(name: string): OpDef {
  const def = registry.get(name);
  if (!def) throw new KilnError('UNKNOWN_OP', `unknown op '${name}'`);
  return def;
}

export function hasOp(name: string): boolean {
  return registry.has(name);
}

/** Every registered op, sorted by name. */
export function allOps(): OpDef[] {
  return [...registry.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
