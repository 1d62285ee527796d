/**
 * The files the CLI reads: a Kiln model (ModelProto from serializeGraph), a compiled program
 * (ProgramProto from CompiledModel.serialize) or an ONNX model, told apart by content (ONNX
 * also by its .onnx extension). A model's inputs and outputs come from its 'serving_default'
 * signature (or its only one); without signatures, the inputs are the placeholders and the
 * outputs the tensors nothing consumes (train targets and state updates left out).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { type LoadedProgram, deserializeProgram } from '@kiln/compiler';
import { type Graph, KilnError, type Signature, type SymbolicTensor, deserializeModel, getOp } from '@kiln/graph';
import { importOnnxModel } from '@kiln/onnx';
import { CliError } from './errors.js';

export interface NamedTensor {
  /** The signature key, or the tensor name. */
  key: string;
  tensor: SymbolicTensor;
}

export interface GraphFile {
  kind: 'model' | 'onnx';
  path: string;
  graph: Graph;
  inputs: NamedTensor[];
  outputs: NamedTensor[];
  /** 'Kiln model (format 1, producer kiln)' or 'ONNX model (opset 17)'. */
  description: string;
}

export interface ProgramFile {
  kind: 'program';
  path: string;
  loaded: LoadedProgram;
  bytes: Uint8Array;
  description: string;
}

export type LoadedFile = GraphFile | ProgramFile;

/** The bytes of `path`, or a CliError naming what is wrong with it. */
export function readBytes(path: string, role: string): Uint8Array {
  if (!existsSync(path)) throw new CliError(`${role} '${path}' does not exist`);
  if (statSync(path).isDirectory()) throw new CliError(`${role} '${path}' is a directory, not a file`);
  const b = readFileSync(path);
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Tensors nothing consumes: the natural outputs of a graph without signatures. */
function sinkOutputs(g: Graph): SymbolicTensor[] {
  const consumed = new Set<SymbolicTensor>();
  for (const n of g.nodes) for (const t of n.inputs) consumed.add(t);
  const out: SymbolicTensor[] = [];
  for (const n of g.nodes) {
    const def = getOp(n.op);
    if (def.source || def.target || def.stateful) continue;
    for (const t of n.outputs) if (!consumed.has(t)) out.push(t);
  }
  return out;
}

function pickSignature(signatures: Record<string, Signature>): Signature | undefined {
  const keys = Object.keys(signatures);
  return signatures['serving_default'] ?? (keys.length === 1 ? signatures[keys[0]!] : undefined);
}

function graphIO(g: Graph, sig: Signature | undefined): { inputs: NamedTensor[]; outputs: NamedTensor[] } {
  if (sig) {
    const named = (rec: Record<string, SymbolicTensor>) => Object.entries(rec).map(([key, tensor]) => ({ key, tensor }));
    return { inputs: named(sig.inputs), outputs: named(sig.outputs) };
  }
  return {
    inputs: g.placeholders().map((p) => ({ key: p.name, tensor: p.output })),
    outputs: sinkOutputs(g).map((t) => ({ key: t.name, tensor: t })),
  };
}

function loadOnnx(path: string, bytes: Uint8Array): GraphFile {
  const m = importOnnxModel(bytes);
  return {
    kind: 'onnx',
    path,
    graph: m.graph,
    inputs: m.inputs.map((t, i) => ({ key: m.inputNames[i]!, tensor: t })),
    outputs: m.outputs.map((t, i) => ({ key: m.outputNames[i]!, tensor: t })),
    description: `ONNX model (opset ${m.opset})`,
  };
}

/** Loads a model, compiled program or ONNX file; `role` names it in errors ('model'). */
export function loadFile(path: string, role = 'model'): LoadedFile {
  const bytes = readBytes(path, role);
  if (path.toLowerCase().endsWith('.onnx')) return loadOnnx(path, bytes);
  const failures: string[] = [];
  try {
    const m = deserializeModel(bytes);
    return {
      kind: 'model',
      path,
      graph: m.graph,
      ...graphIO(m.graph, pickSignature(m.signatures)),
      description: `Kiln model (format ${m.formatVersion}, producer ${m.producer || 'unknown'})`,
    };
  } catch (e) {
    if (!(e instanceof KilnError)) throw e;
    if (e.code === 'UNSUPPORTED_VERSION') throw e;
    failures.push(`as a Kiln model: ${e.message}`);
  }
  try {
    const loaded = deserializeProgram(bytes);
    return { kind: 'program', path, loaded, bytes, description: `compiled program (format ${loaded.formatVersion}, producer ${loaded.producer || 'unknown'})` };
  } catch (e) {
    if (!(e instanceof KilnError)) throw e;
    if (e.code === 'UNSUPPORTED_VERSION') throw e;
    failures.push(`as a compiled program: ${e.message}`);
  }
  try {
    return loadOnnx(path, bytes);
  } catch (e) {
    if (!(e instanceof KilnError)) throw e;
    failures.push(`as ONNX: ${e.message}`);
  }
  throw new CliError(`${role} '${path}' is not a Kiln model, a compiled program or an ONNX model (${failures.join('; ')})`);
}

/** Loads a file that must hold a graph (a Kiln model or ONNX), not a compiled program. */
export function loadGraphFile(path: string, command: string): GraphFile {
  const f = loadFile(path);
  if (f.kind === 'program') throw new CliError(`'${path}' is a compiled program; \`kiln ${command}\` needs a model (.kiln) or an ONNX file`);
  return f;
}

/** Restricts outputs to `--fetch` names (tensor names or signature keys), when given. */
export function selectOutputs(f: GraphFile, fetch: string[] | undefined): NamedTensor[] {
  if (!fetch || fetch.length === 0) return f.outputs;
  return fetch.map((name) => {
    const bySig = f.outputs.find((o) => o.key === name);
    if (bySig) return bySig;
    try {
      return { key: name, tensor: f.graph.tensorByName(name) };
    } catch {
      throw new CliError(`--fetch '${name}' is neither an output (${f.outputs.map((o) => o.key).join(', ') || 'none'}) nor a tensor of the graph`);
    }
  });
}
