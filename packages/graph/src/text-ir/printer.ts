/**
 * printGraph: the graph as text IR, one SSA line per node, in creation (topological) order.
 * parseGraph reads it back; printGraph(parseGraph(printGraph(g))) === printGraph(g) and
 * every value, float32 bits included, survives.
 *
 * ## Kiln text IR
 *
 *     // comments start with // or #
 *     graph {
 *       %x = placeholder() {dtype=float32, shape=[?,784]} : float32[?,784]
 *       %dense_1/w = variable() {value=dense<float32[784,10] @0>, trainable=true} : float32[784,10]
 *       %b = const() {value=dense<float32[10] [0.0,0.5,-0.0,1e-7,inf,nan,0.0,0.0,0.0,0.0]>} : float32[10]
 *       %mm = matMul(%x, %dense_1/w) {transposeA=false, transposeB=false} : float32[?,10]
 *       %add = add(%mm, %b, ^init) : float32[?,10]
 *       %split:3 = split(%add) {num=0, sizes=[2,3,5], axis=1} : float32[?,2], float32[?,3], float32[?,5]
 *       %y = concat(%split:2, %split) {axis=1} : float32[?,7]
 *       %train = noOp(^y, ^dense_1/w) : bool[]
 *     }
 *     data {
 *       @0 = 0x0000803f0000003f...   // dense_1/w value: float32[784,10], 31360 bytes
 *            0x...
 *     }
 *
 * - A node line: `%name = op(operands) {attrs} : result types`. `%name` (or `%name:0`) is
 *   output 0 of a node, `%name:i` its output i; `^name` (after the operands) is a control input. Names may
 *   hold letters, digits and `_ . - /` (name scopes); any other name is written as a JSON
 *   string: `%"odd name"`. A node whose output count N is not 1 is written `%name:N` on the
 *   left; one with no outputs has result types `()` (`%sink:0 = op(...) : ()`).
 * - Attrs are every attr of the op (defaults included), in the op's AttrSpec order, written by
 *   their spec type: int `3`, float `0.001` / `1.0` / `inf` / `nan` (shortest text that reads
 *   back to the same double), bool `true`, string `"same"`, ints `[0,1]`, floats `[0.5,1.0]`,
 *   dtype `float32`, shape `[?,28,28,1]` (`?` = unknown), tensor `dense<dtype[shape] data>`.
 * - Tensor data: up to 16 elements inline as nested lists (a scalar alone: `dense<float32[] 2.5>`);
 *   float32 elements as the shortest decimal that rounds to the same float32, `-0.0`, `inf`,
 *   `-inf`, `nan`, or `nan(0x7fc00001)` for other NaN bit patterns; int32 as integers; bool as
 *   true/false. Larger tensors are written `dense<float32[784,10] @N>` and their bytes (hex,
 *   little-endian, 64 bytes a line) sit in the `data { @N = 0x... }` section after the graph.
 * - Result types `dtype[dims]` (`float32[]` is a scalar) are checked against inference when
 *   parsed; leave out `: types` in hand-written text to skip the check. Attrs left out take
 *   their defaults. A node may only use nodes defined above it (SSA order).
 */
import type { DType } from '../dtype.js';
import { fmtShape } from '../errors.js';
import type { Graph, Node, SymbolicTensor } from '../graph.js';
import { type AttrType, type AttrValue, getOp, hasOp } from '../ops/registry.js';
import { Tensor } from '../tensor.js';
import { dataToHex, float32BitsAt, formatDouble, formatFloat32Bits } from './literals.js';

export interface PrintOptions {
  /** Tensors with more elements than this go to the data section (default 16). */
  maxInlineElements?: number;
}

const PLAIN_NAME = /^[A-Za-z0-9_.\-/]+$/;
const HEX_BYTES_PER_LINE = 64;

/** A node name as written after % or ^. */
export function formatName(name: string): string {
  return PLAIN_NAME.test(name) ? name : JSON.stringify(name);
}

function formatOperand(x: SymbolicTensor): string {
  const base = `%${formatName(x.node.name)}`;
  return x.index === 0 ? base : `${base}:${x.index}`;
}

export function formatType(dtype: DType, shape: readonly (number | null)[]): string {
  return `${dtype}${fmtShape(shape)}`;
}

function formatElement(t: Tensor, i: number): string {
  switch (t.dtype) {
    case 'float32':
      return formatFloat32Bits(float32BitsAt(t.data as Float32Array, i));
    case 'int32':
      return String(t.data[i]);
    case 'bool':
      return t.data[i] ? 'true' : 'false';
  }
}

function formatNested(t: Tensor, dim: number, offset: number): string {
  if (dim === t.shape.length) return formatElement(t, offset);
  const n = t.shape[dim]!;
  let stride = 1;
  for (let d = dim + 1; d < t.shape.length; d++) stride *= t.shape[d]!;
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(formatNested(t, dim + 1, offset + i * stride));
  return `[${parts.join(',')}]`;
}

interface Blob {
  node: Node;
  key: string;
  tensor: Tensor;
}

class Printer {
  readonly blobs: Blob[] = [];
  constructor(private readonly maxInline: number) {}

  tensor(t: Tensor, node: Node, key: string): string {
    const type = formatType(t.dtype, t.shape);
    if (t.size <= this.maxInline) return `dense<${type} ${formatNested(t, 0, 0)}>`;
    this.blobs.push({ node, key, tensor: t });
    return `dense<${type} @${this.blobs.length - 1}>`;
  }

  attr(type: AttrType | undefined, v: AttrValue, node: Node, key: string): string {
    if (v instanceof Tensor) return this.tensor(v, node, key);
    if (Array.isArray(v)) {
      const items = v.map((x) => (x === null ? '?' : type === 'floats' ? formatDouble(x) : String(x)));
      return `[${items.join(',')}]`;
    }
    switch (typeof v) {
      case 'boolean':
        return v ? 'true' : 'false';
      case 'number':
        return type === 'float' ? formatDouble(v) : String(v);
      case 'string':
        return type === 'dtype' ? v : JSON.stringify(v);
    }
  }

  node(n: Node): string {
    const spec = hasOp(n.op) ? getOp(n.op).attrs : {};
    const lhs = `%${formatName(n.name)}${n.outputs.length === 1 ? '' : `:${n.outputs.length}`}`;
    const operands = [...n.inputs.map(formatOperand), ...n.controlInputs.map((c) => `^${formatName(c.name)}`)];
    const keys = [...Object.keys(spec).filter((k) => k in n.attrs), ...Object.keys(n.attrs).filter((k) => !(k in spec))];
    const attrs = keys.map((k) => `${k}=${this.attr(spec[k]?.type, n.attrs[k]!, n, k)}`);
    const types = n.outputs.length === 0 ? '()' : n.outputs.map((o) => formatType(o.dtype, o.shape)).join(', ');
    return `${lhs} = ${n.op}(${operands.join(', ')})${attrs.length ? ` {${attrs.join(', ')}}` : ''} : ${types}`;
  }

  dataSection(): string[] {
    if (this.blobs.length === 0) return [];
    const lines = ['data {'];
    this.blobs.forEach((b, id) => {
      const hex = dataToHex(b.tensor.dtype, b.tensor.data);
      const label = `@${id} = `;
      const pad = ' '.repeat(2 + label.length);
      const width = HEX_BYTES_PER_LINE * 2;
      const chunks: string[] = [];
      for (let i = 0; i < hex.length; i += width) chunks.push(`0x${hex.slice(i, i + width)}`);
      if (chunks.length === 0) chunks.push('0x');
      const what = `${formatName(b.node.name)} ${b.key}: ${formatType(b.tensor.dtype, b.tensor.shape)}, ${hex.length / 2} bytes`;
      lines.push(`  ${label}${chunks[0]}   // ${what}`);
      for (const c of chunks.slice(1)) lines.push(`${pad}${c}`);
    });
    lines.push('}');
    return lines;
  }
}

/** The graph as text IR (see the syntax above); ends with a newline. */
export function printGraph(g: Graph, opts: PrintOptions = {}): string {
  const p = new Printer(opts.maxInlineElements ?? 16);
  const lines = ['graph {'];
  for (const n of g.nodes) lines.push(`  ${p.node(n)}`);
  lines.push('}', ...p.dataSection());
  return lines.join('\n') + '\n';
}
