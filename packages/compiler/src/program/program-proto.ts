/**
 * Program <-> ProgramProto bytes (proto/kiln.proto): a compiled program saved with its
 * optimized graph, buffers and memory plan, kernels, feeds, fetches, stats and the variables'
 * values, sealed with a CRC-32 trailer like ModelProto. Pure data: no backend is involved, and
 * loading never recompiles. Damaged or hand-made bytes give KilnError('CORRUPT_MODEL') (a newer
 * format, intact, gives UNSUPPORTED_VERSION); nothing else escapes deserializeProgram.
 */
import { type AttrSpec, type AttrValue, type Attrs, type BytesLike, KilnError, Tensor, getOp, protoCodec as pc, toBytes } from '@kiln/graph';
import { SCALAR_FN_ARITY, type ScalarExpr, type ScalarFn, postorder } from '../lower/scalar-expr.js';
import { CPU_MEMORY_LAYOUT } from './memory-plan.js';
import { validateProgram } from './program-check.js';
import { type ProgramLimits, maxProgramBytes, validateProgramSafety } from './program-validate.js';
import {
  type AttrValueMsg,
  type BufferMsg,
  type ExprMsg,
  type KernelMsg,
  type ProgramMsg,
  bufferKindFromProto,
  bufferKindToProto,
  reducerFromProto,
  reducerToProto,
} from './program-proto-schema.js';
import { type BufferDecl, type IndexView, type Kernel, type KernelSpec, type Program, programToString } from './program.js';

/** The newest ProgramProto format this code writes and reads. */
export const PROGRAM_FORMAT_VERSION = 1;

export interface SerializeProgramOptions {
  /** Current variable values by variable node name (default: the graph's initial values). */
  variables?: ReadonlyMap<string, Tensor>;
  /** Defaults to 'kiln'. */
  producer?: string;
  /** The run state of the random streams: the seed and how many runs have happened (default 0, 0). */
  seed?: number;
  runCounter?: number;
}

/** A loaded ProgramProto. */
export interface LoadedProgram {
  program: Program;
  /** The saved variable values by variable node name. */
  variables: Map<string, Tensor>;
  formatVersion: number;
  producer: string;
  seed: number;
  runCounter: number;
}

function corrupt(message: string): never {
  throw new KilnError('CORRUPT_MODEL', message);
}

// ------------------------------------------------------------------------------- encoding

/** ProgramProto writes expressions as trees: above this many written nodes per expression, saving refuses. */
const MAX_WRITTEN_EXPR_NODES = 1_000_000;

/**
 * The proto form of an expression. The format writes a tree, so a subexpression the DAG shares
 * is written at each use; built bottom-up over the distinct nodes (no recursion on depth), and
 * refused with a KilnError before the written size explodes (a fused chain of k relus would be
 * 2^k nodes).
 */
function exprToProto(e: ScalarExpr, where = 'expression'): ExprMsg {
  const msgs = new Map<ScalarExpr, ExprMsg>();
  const size = new Map<ScalarExpr, number>();
  for (const x of postorder([e])) {
    const dtype = pc.dtypeToProto(x.dtype);
    if (x.kind !== 'call') {
      msgs.set(x, x.kind === 'input' ? { dtype, input: x.index } : { dtype, constant: x.value });
      size.set(x, 1);
      continue;
    }
    const n = x.args.reduce((t, a) => t + size.get(a)!, 1);
    if (n > MAX_WRITTEN_EXPR_NODES) {
      throw new KilnError(
        'UNSUPPORTED',
        `${where} shares subexpressions so deeply that ProgramProto format ${PROGRAM_FORMAT_VERSION} (which writes trees) would hold more than ${MAX_WRITTEN_EXPR_NODES} nodes; compile with fuse: false to save this program`,
      );
    }
    size.set(x, n);
    msgs.set(x, { dtype, call: { fn: x.fn, args: x.args.map((a) => msgs.get(a)!) } });
  }
  return msgs.get(e)!;
}

/** The AttrSpec of an attr the op does not declare, from its JS value (round-trips exactly). */
function inferredSpec(v: AttrValue): AttrSpec {
  if (typeof v === 'boolean') return { type: 'bool' };
  if (typeof v === 'string') return { type: 'string' };
  if (typeof v === 'number') return { type: 'float' };
  if (v instanceof Tensor) return { type: 'tensor' };
  return { type: v.some((d) => d === null) ? 'shape' : 'floats' };
}

function attrsToProto(op: string, attrs: Readonly<Attrs>, where: string): Record<string, AttrValueMsg> {
  const specs = getOp(op).attrs;
  const out: Record<string, AttrValueMsg> = {};
  for (const [key, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    const spec = Object.hasOwn(specs, key) ? specs[key]! : inferredSpec(v);
    out[key] = pc.attrToProto(spec, v, `${where}: attr '${key}'`);
  }
  return out;
}

function specToProto(s: KernelSpec, where: string): Omit<KernelMsg, 'id' | 'nodes' | 'reasons'> {
  switch (s.kind) {
    case 'elementwise':
      return {
        elementwise: {
          exprs: s.exprs.map((e, i) => exprToProto(e, `${where} expr ${i}`)),
          inputs: s.inputs,
          outputs: s.outputs,
          input_views: (s.inputViews ?? []).map((v) =>
            v
              ? {
                  present: true,
                  shape: v.shape,
                  offset: v.offset,
                  strides: v.strides,
                  ...(v.valid ? { valid_lo: v.valid.map(([lo]) => lo), valid_hi: v.valid.map(([, hi]) => hi), fill: v.fill ?? 0 } : {}),
                  ...(v.orElse !== undefined ? { or_else: v.orElse + 1 } : {}),
                }
              : { present: false },
          ),
        },
      };
    case 'reduce':
      return {
        reduce: {
          reducer: reducerToProto(s.reducer),
          prologue: exprToProto(s.prologue, `${where} prologue`),
          inputs: s.inputs,
          in_shape: s.inShape,
          axes: s.axes,
          epilogue: exprToProto(s.epilogue, `${where} epilogue`),
          epilogue_inputs: s.epilogueInputs,
          output: s.output,
        },
      };
    case 'contraction':
      return {
        contraction: {
          a: s.a,
          b: s.b,
          transpose_a: s.transposeA,
          transpose_b: s.transposeB,
          epilogue: exprToProto(s.epilogue, `${where} epilogue`),
          epilogue_inputs: s.epilogueInputs,
          output: s.output,
        },
      };
    case 'view':
      return { view: { input: s.input, output: s.output } };
    case 'op':
      return {
        op: {
          op: s.op,
          family: s.family,
          node: s.node,
          attr: attrsToProto(s.op, s.attrs, where),
          inputs: s.inputs,
          outputs: s.outputs,
          ...(s.epilogue ? { epilogue: exprToProto(s.epilogue, `${where} epilogue`), epilogue_inputs: s.epilogueInputs ?? [] } : {}),
        },
      };
  }
}

function bufferToProto(b: BufferDecl): BufferMsg {
  const msg: BufferMsg = {
    id: b.id,
    name: b.name,
    dtype: pc.dtypeToProto(b.dtype),
    shape: pc.shapeToProto(b.shape),
    bytes: b.bytes,
    kind: bufferKindToProto(b.kind),
    offset: b.offset,
    source: b.source ?? '',
  };
  if (b.aliasOf !== undefined) msg.alias_of = b.aliasOf;
  if (b.value) msg.value = pc.tensorToProto(b.value);
  return msg;
}

/** The program as ProgramProto bytes, with the given (or the initial) variable values. */
export function serializeProgram(program: Program, opts: SerializeProgramOptions = {}): Uint8Array {
  const layout = program.memoryLayout;
  if (
    layout &&
    layout !== CPU_MEMORY_LAYOUT &&
    (layout.alignment !== CPU_MEMORY_LAYOUT.alignment ||
      (['float32', 'int32', 'bool'] as const).some((d) => layout.elementBytes[d] !== CPU_MEMORY_LAYOUT.elementBytes[d]))
  ) {
    throw new KilnError(
      'UNSUPPORTED',
      `serializeProgram: the program follows the '${layout.name}' memory layout; ProgramProto format ${PROGRAM_FORMAT_VERSION} stores CPU-layout programs only (compile without memoryLayout to save it)`,
    );
  }
  const vars = program.graph.variables();
  const known = new Set(vars.map((v) => v.name));
  for (const [name, value] of opts.variables ?? []) {
    if (!known.has(name))
      throw new KilnError('INVALID_ARGUMENT', `serializeProgram: options.variables has a value for '${name}', which is not a variable of the program`);
    const node = program.graph.nodeByName(name)!;
    if (!(value instanceof Tensor)) throw new KilnError('INVALID_ARGUMENT', `serializeProgram: variable '${name}': value must be a Tensor`);
    if (value.dtype !== node.output.dtype)
      throw new KilnError('DTYPE_MISMATCH', `serializeProgram: variable '${name}': value is ${value.dtype} but the variable is ${node.output.dtype}`);
    if (value.shape.join(',') !== node.output.shape.join(',') || value.shape.length !== node.output.shape.length) {
      throw new KilnError(
        'SHAPE_MISMATCH',
        `serializeProgram: variable '${name}': value has shape [${value.shape.join(',')}] but the variable has [${node.output.shape.join(',')}]`,
      );
    }
  }
  const msg: ProgramMsg = {
    format_version: PROGRAM_FORMAT_VERSION,
    producer: opts.producer ?? 'kiln',
    graph: pc.graphToProto(program.graph),
    variables: vars.map((v) => ({ name: v.name, value: pc.tensorToProto(opts.variables?.get(v.name) ?? (v.attrs['value'] as Tensor)) })),
    buffers: program.buffers.map(bufferToProto),
    kernels: program.kernels.map((k) => ({
      id: k.id,
      nodes: k.nodes,
      reasons: k.reasons,
      ...specToProto(k.spec, `serializeProgram: kernel k${k.id}`),
    })),
    feeds: program.feeds.map((f) => ({ name: f.name, buffer: f.buffer })),
    fetches: program.fetches,
    fetch_names: program.fetchNames,
    stats: {
      graph_nodes: program.stats.graphNodes,
      kernels: program.stats.kernels,
      arena_bytes: program.stats.arenaBytes,
      naive_bytes: program.stats.naiveBytes,
      live_lower_bound_bytes: program.stats.liveLowerBoundBytes,
    },
    frees: program.frees.map((ids) => ({ ids })),
    seed: (opts.seed ?? 0) >>> 0,
    run_counter: opts.runCounter ?? 0,
  };
  return pc.sealModelBytes(pc.protoType('ProgramProto').encode(msg).finish());
}

// ------------------------------------------------------------------------------- decoding

const MAX_EXPR_DEPTH = 10_000;

function exprFromProto(m: ExprMsg | null | undefined, where: string, depth = 0): ScalarExpr {
  if (!m) return corrupt(`${where}: missing expression`);
  if (depth > MAX_EXPR_DEPTH) corrupt(`${where}: expression nested deeper than ${MAX_EXPR_DEPTH}`);
  const dtype = pc.dtypeFromProto(m.dtype, where);
  switch (m.expr) {
    case 'input':
      return { kind: 'input', index: m.input ?? 0, dtype };
    case 'constant':
      return { kind: 'const', value: m.constant ?? 0, dtype };
    case 'call': {
      const fn = m.call?.fn ?? '';
      if (!Object.hasOwn(SCALAR_FN_ARITY, fn)) corrupt(`${where}: unknown scalar function '${fn}'`);
      const args = (m.call?.args ?? []).map((a, i) => exprFromProto(a, `${where} ${fn} arg ${i}`, depth + 1));
      const arity = SCALAR_FN_ARITY[fn as ScalarFn];
      if (args.length !== arity) corrupt(`${where}: ${fn} takes ${arity} arguments, got ${args.length}`);
      return { kind: 'call', fn: fn as ScalarFn, args, dtype };
    }
    default:
      return corrupt(`${where}: expression has no input, constant or call`);
  }
}

const num = (v: Parameters<typeof pc.int64ToNumber>[0], where: string) => pc.int64ToNumber(v, where);
const ids = (v: readonly number[] | undefined) => [...(v ?? [])];

function attrsFromProto(op: string, attr: Record<string, AttrValueMsg> | undefined, where: string): Attrs {
  const specs = getOp(op).attrs;
  const out: Attrs = {};
  for (const key of Object.keys(attr ?? {})) {
    const m = attr![key]!;
    const what = `${where}: attr '${key}'`;
    if (Object.hasOwn(specs, key)) {
      out[key] = pc.attrFromProto(specs[key]!, m, what);
      continue;
    }
    // An attr the op does not declare: decode by the case written (see inferredSpec).
    const byCase: Record<string, AttrSpec['type']> = {
      b: 'bool',
      s: 'string',
      f: 'float',
      i: 'int',
      tensor: 'tensor',
      shape: 'shape',
      list: 'floats',
      type: 'dtype',
    };
    const type = m.value ? byCase[m.value] : undefined;
    if (!type) corrupt(`${what}: AttrValue has no value`);
    out[key] = pc.attrFromProto({ type }, m, what);
  }
  return out;
}

function specFromProto(k: KernelMsg, where: string): KernelSpec {
  switch (k.spec) {
    case 'elementwise': {
      const s = k.elementwise!;
      const spec: KernelSpec = {
        kind: 'elementwise',
        exprs: (s.exprs ?? []).map((e, i) => exprFromProto(e, `${where} expr ${i}`)),
        inputs: ids(s.inputs),
        outputs: ids(s.outputs),
      };
      const views = s.input_views ?? [];
      if (views.length > 0) {
        spec.inputViews = views.map((v): IndexView | null => {
          if (!v.present) return null;
          const view: IndexView = { shape: (v.shape ?? []).map(Number), offset: Number(v.offset ?? 0), strides: (v.strides ?? []).map(Number) };
          const lo = (v.valid_lo ?? []).map(Number);
          const hi = (v.valid_hi ?? []).map(Number);
          if (lo.length > 0 || hi.length > 0) {
            if (lo.length !== view.shape.length || hi.length !== view.shape.length) corrupt(`${where}: an input view's valid ranges do not match its rank`);
            view.valid = lo.map((l, d) => [l, hi[d]!]);
            view.fill = v.fill ?? 0;
          }
          if (v.or_else) view.orElse = v.or_else - 1;
          return view;
        });
      }
      return spec;
    }
    case 'reduce': {
      const s = k.reduce!;
      return {
        kind: 'reduce',
        reducer: reducerFromProto(s.reducer, where),
        prologue: exprFromProto(s.prologue, `${where} prologue`),
        inputs: ids(s.inputs),
        inShape: (s.in_shape ?? []).map((d, i) => num(d, `${where} in_shape[${i}]`)),
        axes: ids(s.axes),
        epilogue: exprFromProto(s.epilogue, `${where} epilogue`),
        epilogueInputs: ids(s.epilogue_inputs),
        output: s.output ?? 0,
      };
    }
    case 'contraction': {
      const s = k.contraction!;
      return {
        kind: 'contraction',
        a: s.a ?? 0,
        b: s.b ?? 0,
        transposeA: s.transpose_a === true,
        transposeB: s.transpose_b === true,
        epilogue: exprFromProto(s.epilogue, `${where} epilogue`),
        epilogueInputs: ids(s.epilogue_inputs),
        output: s.output ?? 0,
      };
    }
    case 'view':
      return { kind: 'view', input: k.view!.input ?? 0, output: k.view!.output ?? 0 };
    case 'op': {
      const s = k.op!;
      const op = s.op ?? '';
      let family: string;
      try {
        family = getOp(op).family;
      } catch {
        return corrupt(`${where}: unknown op '${op}'`);
      }
      if ((s.family ?? '') !== family) corrupt(`${where}: op '${op}' is in family '${family}', not '${s.family ?? ''}'`);
      const spec: KernelSpec = {
        kind: 'op',
        op,
        family,
        node: s.node ?? '',
        attrs: attrsFromProto(op, s.attr, where),
        inputs: ids(s.inputs),
        outputs: ids(s.outputs),
      };
      if (s.epilogue) {
        spec.epilogue = exprFromProto(s.epilogue, `${where} epilogue`);
        spec.epilogueInputs = ids(s.epilogue_inputs);
      }
      return spec;
    }
    default:
      return corrupt(`${where}: kernel has no spec`);
  }
}

function bufferFromProto(m: BufferMsg, i: number): BufferDecl {
  const where = `buffer %b${i}`;
  const b: BufferDecl = {
    id: m.id ?? 0,
    name: m.name ?? '',
    dtype: pc.dtypeFromProto(m.dtype, where),
    shape: pc.shapeFromProto(m.shape, `${where} shape`, false) as number[],
    bytes: num(m.bytes, `${where} bytes`),
    kind: bufferKindFromProto(m.kind, where),
    offset: num(m.offset, `${where} offset`),
  };
  if (m.alias_of !== undefined && m.alias_of !== null) b.aliasOf = m.alias_of;
  if (m.value) b.value = pc.tensorFromProto(m.value, `${where} value`);
  if (m.source) b.source = m.source;
  return b;
}

function decodeProgram(bytes: Uint8Array, limits?: ProgramLimits): LoadedProgram {
  const claimed = pc.peekFormatVersion(bytes);
  const sealed = pc.unsealModelBytes(bytes);
  if ('error' in sealed) {
    const newer =
      claimed !== null && claimed > PROGRAM_FORMAT_VERSION ? ` (it claims format version ${claimed}; this Kiln reads up to ${PROGRAM_FORMAT_VERSION})` : '';
    corrupt(`${sealed.error}${newer}`);
  }
  const version = pc.peekFormatVersion(sealed.body);
  if (version === null || version === 0) corrupt('not a Kiln program: it does not start with a format_version field');
  if (version > PROGRAM_FORMAT_VERSION) {
    throw new KilnError(
      'UNSUPPORTED_VERSION',
      `loadCompiled: the program has format version ${version} but this Kiln reads format versions up to ${PROGRAM_FORMAT_VERSION}; upgrade Kiln or compile the model again`,
    );
  }
  let msg: ProgramMsg;
  try {
    msg = pc.protoType('ProgramProto').decode(sealed.body) as unknown as ProgramMsg;
  } catch (e) {
    return corrupt(`protobuf decoding failed: ${(e as Error).message}`);
  }
  if (msg.format_version !== version) corrupt(`format_version is given twice (${version} and ${String(msg.format_version)})`);
  if (!msg.graph || !msg.stats) {
    corrupt('not a compiled program: it has no graph or no stats (a ModelProto is read by deserializeGraph, not loadCompiled)');
  }
  const graph = pc.graphFromProto(msg.graph, msg.variables ?? []);
  const variables = new Map(graph.variables().map((v) => [v.name, v.attrs['value'] as Tensor]));
  const st = msg.stats;
  const body: Omit<Program, 'toString'> = {
    graph,
    buffers: (msg.buffers ?? []).map(bufferFromProto),
    kernels: (msg.kernels ?? []).map((k, i): Kernel => ({
      id: k.id ?? 0,
      spec: specFromProto(k, `kernel k${i}`),
      nodes: [...(k.nodes ?? [])],
      reasons: [...(k.reasons ?? [])],
    })),
    fetches: [...(msg.fetches ?? [])],
    fetchNames: [...(msg.fetch_names ?? [])],
    feeds: (msg.feeds ?? []).map((f) => ({ name: f.name ?? '', buffer: f.buffer ?? 0 })),
    stats: {
      graphNodes: num(st.graph_nodes, 'stats.graph_nodes'),
      kernels: num(st.kernels, 'stats.kernels'),
      arenaBytes: num(st.arena_bytes, 'stats.arena_bytes'),
      naiveBytes: num(st.naive_bytes, 'stats.naive_bytes'),
      liveLowerBoundBytes: num(st.live_lower_bound_bytes, 'stats.live_lower_bound_bytes'),
    },
    frees: (msg.frees ?? []).map((f) => ids(f.ids)),
  };
  validateProgram(body);
  validateProgramSafety(body, limits);
  const program: Program = { ...body, toString: () => programToString(body) };
  const runCounter = num(msg.run_counter, 'run_counter');
  if (runCounter < 0) corrupt(`run_counter is ${runCounter}`);
  return { program, variables, formatVersion: version, producer: msg.producer ?? '', seed: msg.seed ?? 0, runCounter };
}

/** Reads bytes written by serializeProgram: the program and the saved variable values. */
export function deserializeProgram(bytes: BytesLike, limits?: ProgramLimits): LoadedProgram {
  const view = toBytes(bytes, 'loadCompiled');
  maxProgramBytes(limits, 'loadCompiled');
  try {
    return decodeProgram(view, limits);
  } catch (e) {
    if (e instanceof KilnError && (e.code === 'UNSUPPORTED_VERSION' || e.code === 'RESOURCE_EXHAUSTED')) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new KilnError('CORRUPT_MODEL', `loadCompiled: corrupt compiled program: ${why}`);
  }
}
