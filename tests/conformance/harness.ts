/**
 * The ONNX conformance harness: the case sources (Debian's libonnx-testdata suites, plus an
 * optional extra folder) and, for one case folder (model.onnx + test_data_set_0),
 * import the model with @kiln/onnx, feed the decoded inputs to the reference executor and
 * compare every output with the expected one (README of the data: shape and dtype exactly,
 * float32 within |a - e| <= 1e-4 + 1e-3 * |e|, NaN/Inf exactly, int64 expected vs our int32 by
 * value). Returns a result with a one-line reason and a category for failures.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KilnError, type SymbolicTensor, type Tensor, fmtShape } from '@kiln/graph';
import { decodeOnnxTensor, importOnnxModel, staticInputNames } from '@kiln/onnx';
import { evaluate } from '@kiln/runtime-cpu';

export const RTOL = 1e-3;
export const ATOL = 1e-4;

export interface CaseResult {
  name: string;
  pass: boolean;
  /** For failures: 'unsupported', 'import:<CODE>', 'run:<CODE>', 'shape', 'dtype', 'values', 'harness'. */
  category?: string;
  reason?: string;
}

export function repoRoot(): string {
  try {
    return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  } catch {
    return process.cwd();
  }
}

/** Where Debian's `libonnx-testdata` package installs ONNX's backend test cases (override: $KILN_ONNX_TESTDATA). */
export function onnxTestdataRoot(): string {
  return process.env.KILN_ONNX_TESTDATA ?? '/usr/share/libonnx-testdata/data';
}

/**
 * One folder of cases. `required` sources come from an installed package (their absence fails
 * the suite); `$KILN_CONFORMANCE_DIR` is an optional extra source (CI points it at a newer
 * onnx's node cases when they are available).
 */
export interface ConformanceSource {
  id: string;
  dir: string;
  required: boolean;
}

export function conformanceSources(): ConformanceSource[] {
  const root = onnxTestdataRoot();
  const sources: ConformanceSource[] = ['node', 'pytorch-converted', 'pytorch-operator', 'simple'].map((s) => ({
    id: s,
    dir: path.join(root, s),
    required: true,
  }));
  const extra = process.env.KILN_CONFORMANCE_DIR;
  if (extra) sources.push({ id: 'extra', dir: path.resolve(extra), required: false });
  return sources;
}

/** A case: `<source id>/<case folder>`, e.g. 'node/test_abs'. */
export interface ConformanceCase {
  id: string;
  source: ConformanceSource;
  name: string;
}

/** Every case of every source present on this machine. */
export function listAllCases(sources: readonly ConformanceSource[] = conformanceSources()): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  for (const source of sources) {
    if (!existsSync(source.dir)) continue;
    for (const name of listCases(source.dir)) out.push({ id: `${source.id}/${name}`, source, name });
  }
  return out;
}

/** The expected-pass list (tests/conformance/expected-pass.txt): case ids, one per line. */
export function expectedPassList(): string[] {
  return readFileSync(path.join(repoRoot(), 'tests/conformance/expected-pass.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** Case names from MANIFEST.tsv (falls back to the test_* folders that hold a model). */
export function listCases(dir: string): string[] {
  const manifest = path.join(dir, 'MANIFEST.tsv');
  if (existsSync(manifest)) {
    return readFileSync(manifest, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t')[0]!)
      .filter((n) => n.startsWith('test_'));
  }
  return readdirSync(dir)
    .filter((n) => n.startsWith('test_') && existsSync(path.join(dir, n, 'model.onnx')))
    .sort();
}

const KILN_OF: Record<string, string> = { FLOAT: 'float32', INT32: 'int32', INT64: 'int32', BOOL: 'bool' };

function firstLine(s: string, max = 300): string {
  const line = s
    .split('\n')
    .filter((l) => l.trim())
    .slice(0, 3)
    .join(' ')
    .replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max)}...` : line;
}

function compareOne(name: string, got: Tensor, expected: Tensor, onnxDType: string): CaseResult | undefined {
  const fail = (category: string, reason: string): CaseResult => ({ name, pass: false, category, reason });
  const wantDType = KILN_OF[onnxDType] ?? onnxDType;
  if (got.dtype !== wantDType) return fail('dtype', `dtype: expected ${onnxDType} (${wantDType}), got ${got.dtype}`);
  if (got.shape.length !== expected.shape.length || got.shape.some((d, i) => d !== expected.shape[i])) {
    return fail('shape', `shape: expected ${fmtShape(expected.shape)}, got ${fmtShape(got.shape)}`);
  }
  let bad = 0;
  let first = '';
  for (let i = 0; i < expected.size; i++) {
    const e = expected.data[i]!;
    const a = got.data[i]!;
    let ok: boolean;
    if (wantDType !== 'float32') ok = a === e;
    else if (Number.isNaN(e)) ok = Number.isNaN(a);
    else if (!Number.isFinite(e)) ok = a === e;
    else ok = Math.abs(a - e) <= ATOL + RTOL * Math.abs(e);
    if (!ok) {
      if (bad === 0) first = `at ${i}: expected ${e}, got ${a}`;
      bad++;
    }
  }
  if (bad) return fail('values', `${bad}/${expected.size} values differ (first ${first})`);
  return undefined;
}

/** Runs a graph's outputs for given feeds: the reference executor by default. */
export type CaseExecutor = (outputs: SymbolicTensor[], feeds: Record<string, Tensor>) => Tensor[];

/** Runs one case folder; never throws. */
export function runCase(dir: string, name: string, execute: CaseExecutor = (o, f) => evaluate(o, f)): CaseResult {
  const caseDir = path.join(dir, name);
  let stage = 'harness';
  try {
    const model = readFileSync(path.join(caseDir, 'model.onnx')); // a Buffer, as users have it
    const dataDir = path.join(caseDir, 'test_data_set_0');
    const files = readdirSync(dataDir);
    const count = (prefix: string): number => files.filter((f) => f.startsWith(prefix) && f.endsWith('.pb')).length;
    const read = (f: string): Uint8Array => readFileSync(path.join(dataDir, f));
    stage = 'import';
    const bound = new Set(staticInputNames(model));
    const inputs = [...Array(count('input_')).keys()].map((i) => {
      const bytes = read(`input_${i}.pb`);
      const name0 = decodeOnnxTensor(bytes, { saturate: true }).name;
      return decodeOnnxTensor(bytes, { saturate: bound.has(name0) });
    });
    const inputValues: Record<string, Tensor> = {};
    for (const inp of inputs) if (bound.has(inp.name)) inputValues[inp.name] = inp.tensor;
    const m = importOnnxModel(model, { inputValues });
    stage = 'run';
    const feeds: Record<string, Tensor> = {};
    // Unnamed input files (the PyTorch suites) bind to the graph's inputs by position.
    for (const [i, inp] of inputs.entries()) {
      const name = inp.name || m.inputs[i]?.name;
      if (name !== undefined && !bound.has(name)) feeds[name] = inp.tensor;
    }
    const outs = execute(m.outputs, feeds);
    const expected = [...Array(count('output_')).keys()].map((i) => decodeOnnxTensor(read(`output_${i}.pb`)));
    if (expected.length !== outs.length) {
      return { name, pass: false, category: 'harness', reason: `the import has ${outs.length} outputs, the case expects ${expected.length}` };
    }
    for (let i = 0; i < outs.length; i++) {
      const r = compareOne(name, outs[i]!, expected[i]!.tensor, expected[i]!.onnxDType);
      if (r) return { ...r, reason: `output ${i} '${expected[i]!.name}': ${r.reason}` };
    }
    return { name, pass: true };
  } catch (e) {
    if (e instanceof KilnError) {
      const category = e.code === 'UNSUPPORTED' && stage === 'import' ? 'unsupported' : `${stage}:${e.code}`;
      return { name, pass: false, category, reason: firstLine(e.message.replace(/^importOnnx: the model uses \d+ unsupported features?:/, '')) };
    }
    return { name, pass: false, category: `${stage}:crash`, reason: firstLine(String((e as Error)?.stack ?? e)) };
  }
}
