/**
 * parseGraph: text IR -> Graph. The parser gives a syntax tree; this file resolves it against
 * the op registry. Every node goes through Graph.addNode (so validation and inference are the
 * registry's), attrs are read by their AttrSpec type, and declared result types are compared
 * with the inferred ones. Errors name the line and the node: "line 4: add 'y': ...".
 */
import { type DType, allocData, isDType } from '../dtype.js';
import { KilnError, type KilnErrorCode, fmtShape as fmtShapeOf } from '../errors.js';
import { Graph, type Node, type SymbolicTensor } from '../graph.js';
import { type BytesLike, toBytes } from '../proto/bytes.js';
import { type AttrSpec, type AttrValue, getOp, hasOp } from '../ops/registry.js';
import { sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import type { BlobAst, NodeAst, Pos, RefAst, TypeAst, ValueAst } from './ast.js';
import { hexToData, parseDouble, parseFloat32Bits } from './literals.js';
import { TextIrError } from './parse-error.js';
import { parseModule } from './parser.js';
import { formatName, formatType } from './printer.js';

const INT_RE = /^-?\d+$/;

function show(v: ValueAst): string {
  switch (v.kind) {
    case 'number':
      return v.text;
    case 'bool':
      return String(v.value);
    case 'string':
      return JSON.stringify(v.value);
    case 'word':
      return v.value;
    case 'unknown':
      return '?';
    case 'list':
      return `[${v.items.map(show).join(',')}]`;
    case 'dense':
      return `dense<${v.type.dtype}[...] ...>`;
  }
}

/** Reads one node of the syntax tree into the graph; `fail` throws with the node's line. */
class NodeReader {
  readonly what: string;
  constructor(
    private readonly ast: NodeAst,
    private readonly blobs: ReadonlyMap<number, BlobAst>,
  ) {
    this.what = `${ast.op} '${ast.result.name}'`;
  }

  fail(code: KilnErrorCode, message: string, at: Pos = this.ast.pos): never {
    throw new TextIrError(code, `${this.what}: ${message}`, at.line);
  }

  int(v: ValueAst, what: string): number {
    if (v.kind !== 'number' || !INT_RE.test(v.text)) return this.fail('INVALID_ATTR', `${what} expects an integer, got ${show(v)}`, v.pos);
    return Number(v.text);
  }

  float(v: ValueAst, what: string): number {
    const d = v.kind === 'number' ? parseDouble(v.text) : undefined;
    if (d === undefined) return this.fail('INVALID_ATTR', `${what} expects a number, got ${show(v)}`, v.pos);
    return d;
  }

  list(v: ValueAst, what: string, expected: string): ValueAst[] {
    if (v.kind !== 'list') return this.fail('INVALID_ATTR', `${what} expects ${expected}, got ${show(v)}`, v.pos);
    return v.items;
  }

  dtype(word: string, at: Pos, what: string): DType {
    if (!isDType(word)) return this.fail('INVALID_ATTR', `${what}: unknown dtype '${word}' (expected float32, int32 or bool)`, at);
    return word;
  }

  /** A type as written; dims are non-negative integers or null. */
  type(t: TypeAst, what: string): { dtype: DType; shape: (number | null)[] } {
    const dtype = this.dtype(t.dtype, t.pos, what);
    const shape = t.dims.map((d) => {
      if (d === null) return null;
      if (!INT_RE.test(d) || Number(d) < 0) return this.fail('PARSE_ERROR', `${what}: bad dimension '${d}' in ${t.dtype}[...]`, t.pos);
      return Number(d);
    });
    return { dtype, shape };
  }

  tensor(v: ValueAst, what: string): Tensor {
    if (v.kind !== 'dense') return this.fail('INVALID_ATTR', `${what} expects a tensor dense<dtype[shape] values>, got ${show(v)}`, v.pos);
    const { dtype, shape } = this.type(v.type, what);
    if (shape.some((d) => d === null)) return this.fail('INVALID_ATTR', `${what}: a tensor needs a known shape, got ${formatType(dtype, shape)}`, v.pos);
    const dims = shape as number[];
    const size = sizeOf(dims);
    if (v.data.kind === 'blob') {
      const blob = this.blobs.get(v.data.id);
      if (!blob) return this.fail('PARSE_ERROR', `${what}: @${v.data.id} is not in the data section`, v.data.pos);
      const data = hexToData(dtype, size, blob.hex);
      if (typeof data === 'string')
        return this.fail('CORRUPT_MODEL', `${what}: data @${blob.id} (line ${blob.pos.line}) for ${formatType(dtype, dims)}: ${data}`, v.pos);
      return new Tensor(dtype, dims, data);
    }
    const flat: ValueAst[] = [];
    this.flatten(v.data, dims, 0, flat, what);
    const data = allocData(dtype, size);
    const bits = dtype === 'float32' ? new Uint32Array(data.buffer) : undefined;
    flat.forEach((e, i) => {
      if (dtype === 'bool') {
        if (e.kind !== 'bool') this.fail('INVALID_ATTR', `${what}: bool tensor element ${i} must be true or false, got ${show(e)}`, e.pos);
        data[i] = e.value ? 1 : 0;
      } else if (dtype === 'int32') {
        const n = e.kind === 'number' && INT_RE.test(e.text) ? Number(e.text) : NaN;
        if (!(n >= -2147483648 && n <= 2147483647))
          this.fail('INVALID_ATTR', `${what}: int32 tensor element ${i} must be a 32-bit integer, got ${show(e)}`, e.pos);
        data[i] = n;
      } else {
        const b = e.kind === 'number' ? parseFloat32Bits(e.text) : undefined;
        if (b === undefined) this.fail('INVALID_ATTR', `${what}: float32 tensor element ${i} must be a number, got ${show(e)}`, e.pos);
        bits![i] = b;
      }
    });
    return new Tensor(dtype, dims, data);
  }

  /** Checks nested lists against the shape and collects the elements in row-major order. */
  private flatten(v: ValueAst, dims: number[], d: number, out: ValueAst[], what: string): void {
    if (d === dims.length) {
      if (v.kind === 'list') this.fail('INVALID_ATTR', `${what}: values nest deeper than the shape [${dims.join(',')}]`, v.pos);
      out.push(v);
      return;
    }
    if (v.kind !== 'list' || v.items.length !== dims[d]) {
      const got = v.kind === 'list' ? `${v.items.length} items` : show(v);
      this.fail('INVALID_ATTR', `${what}: values do not match the shape [${dims.join(',')}]: dimension ${d} has size ${dims[d]}, got ${got}`, v.pos);
    }
    for (const item of v.items) this.flatten(item, dims, d + 1, out, what);
  }

  attr(spec: AttrSpec, v: ValueAst, key: string): AttrValue {
    const what = `attr '${key}'`;
    switch (spec.type) {
      case 'int':
        return this.int(v, what);
      case 'float':
        return this.float(v, what);
      case 'bool':
        if (v.kind !== 'bool') return this.fail('INVALID_ATTR', `${what} expects true or false, got ${show(v)}`, v.pos);
        return v.value;
      case 'string':
        if (v.kind !== 'string') return this.fail('INVALID_ATTR', `${what} expects a string in double quotes, got ${show(v)}`, v.pos);
        return v.value;
      case 'dtype':
        if (v.kind !== 'word' && v.kind !== 'string') return this.fail('INVALID_ATTR', `${what} expects a dtype, got ${show(v)}`, v.pos);
        return this.dtype(v.value, v.pos, what);
      case 'ints':
        return this.list(v, what, 'a list of integers').map((x) => this.int(x, what));
      case 'floats':
        return this.list(v, what, 'a list of numbers').map((x) => this.float(x, what));
      case 'shape':
        return this.list(v, what, 'a shape [d0,d1,...]').map((x) => (x.kind === 'unknown' ? null : this.int(x, what)));
      case 'tensor':
        return this.tensor(v, what);
    }
  }

  ref(r: RefAst, g: Graph, defined: ReadonlyMap<string, number>): Node {
    const node = g.nodeByName(r.name);
    if (node) return node;
    const later = defined.get(r.name);
    const written = (r.control ? '^' : '%') + formatName(r.name);
    if (later !== undefined) this.fail('UNKNOWN_TENSOR', `${written} is used before its definition on line ${later}`, r.pos);
    return this.fail('UNKNOWN_TENSOR', `unknown operand ${written}`, r.pos);
  }

  /** Adds the node to g; rethrows addNode's errors with the line. */
  build(g: Graph, defined: ReadonlyMap<string, number>): Node {
    const ast = this.ast;
    if (!hasOp(ast.op)) throw new TextIrError('UNKNOWN_OP', `unknown op '${ast.op}' (node '${ast.result.name}')`, ast.opPos.line);
    const def = getOp(ast.op);
    const inputs: SymbolicTensor[] = [];
    const controls: Node[] = [];
    for (const r of ast.operands) {
      const node = this.ref(r, g, defined);
      if (r.control) {
        controls.push(node);
        continue;
      }
      if (controls.length > 0) this.fail('PARSE_ERROR', `operand %${formatName(r.name)} follows a control input; write control inputs (^name) last`, r.pos);
      const idx = r.index ?? 0;
      const out = node.outputs[idx];
      if (!out)
        this.fail(
          'UNKNOWN_TENSOR',
          `%${formatName(r.name)}:${idx}: node '${r.name}' (${node.op}) has ${node.outputs.length} output${node.outputs.length === 1 ? '' : 's'}`,
          r.pos,
        );
      inputs.push(out);
    }
    const attrs: Record<string, AttrValue> = {};
    for (const a of ast.attrs) {
      const spec = Object.hasOwn(def.attrs, a.key) ? def.attrs[a.key] : undefined;
      if (!spec) {
        const known = Object.keys(def.attrs);
        this.fail('INVALID_ATTR', `unknown attr '${a.key}' (expected ${known.length ? known.map((k) => `'${k}'`).join(', ') : 'no attrs'})`, a.pos);
      }
      if (Object.hasOwn(attrs, a.key)) this.fail('INVALID_ATTR', `attr '${a.key}' given twice`, a.pos);
      attrs[a.key] = this.attr(spec, a.value, a.key);
    }
    let node: Node;
    try {
      node = g.addNode(ast.op, inputs, attrs, { name: ast.result.name, controlInputs: controls });
    } catch (e) {
      if (!(e instanceof KilnError)) throw e;
      const msg = e.message.startsWith(this.what) ? e.message : `${this.what}: ${e.message}`;
      throw new TextIrError(e.code, msg, ast.pos.line);
    }
    this.checkTypes(node);
    return node;
  }

  private checkTypes(node: Node): void {
    const { result, types } = this.ast;
    const n = node.outputs.length;
    if (result.index !== undefined && result.index !== n) {
      this.fail('PARSE_ERROR', `written with ${result.index} outputs (%${formatName(result.name)}:${result.index}) but ${this.ast.op} gives ${n}`);
    }
    if (types === undefined) return;
    const inferred = node.outputs.map((o) => ({ dtype: o.dtype as string, shape: fmtShapeOf(o.shape) }));
    const declared = types.map((t) => {
      const { dtype, shape } = this.type(t, 'result type');
      return { dtype: dtype as string, shape: fmtShapeOf(shape) };
    });
    const fmt = (xs: { dtype: string; shape: string }[]): string => (xs.length === 0 ? '()' : xs.map((x) => x.dtype + x.shape).join(', '));
    const message = `declared result type ${fmt(declared)} but inferred ${fmt(inferred)}`;
    if (declared.length !== inferred.length) this.fail('PARSE_ERROR', message);
    if (declared.some((d, i) => d.shape !== inferred[i]!.shape)) this.fail('SHAPE_MISMATCH', message);
    if (declared.some((d, i) => d.dtype !== inferred[i]!.dtype)) this.fail('DTYPE_MISMATCH', message);
  }
}

/** The text to parse: a string, or its UTF-8 bytes as read from a file (Buffer, Uint8Array, ArrayBuffer). */
function textOf(input: unknown): string {
  if (typeof input === 'string') return input;
  const bytes = toBytes(input, 'parseGraph');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new KilnError('PARSE_ERROR', 'parseGraph: the bytes are not valid UTF-8 text');
  }
}

/**
 * Reads text IR (as printGraph writes it) into a new Graph; errors carry the line (and
 * column). `text` may also be the file's bytes (UTF-8), e.g. from fs.readFileSync.
 */
export function parseGraph(text: string | BytesLike): Graph {
  const mod = parseModule(textOf(text));
  const blobs = new Map<number, BlobAst>();
  for (const b of mod.blobs) {
    if (blobs.has(b.id)) throw new TextIrError('PARSE_ERROR', `data @${b.id} is defined twice`, b.pos.line, b.pos.column);
    blobs.set(b.id, b);
  }
  const defined = new Map<string, number>();
  for (const n of mod.nodes) if (!defined.has(n.result.name)) defined.set(n.result.name, n.pos.line);
  const g = new Graph();
  for (const n of mod.nodes) new NodeReader(n, blobs).build(g, defined);
  return g;
}
