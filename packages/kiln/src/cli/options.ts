/**
 * Option values shared by the commands: repeatable `name=value` options (--feed-shape,
 * --input), comma lists (--fetch), the backend, and concrete feed shapes for a model's
 * inputs (unknown dims default to 1, said once on stderr).
 */
import { fmtShape } from '@kiln/graph';
import { CliError } from './errors.js';
import type { NamedTensor } from './model-file.js';

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Commander parser for comma lists. */
export function commaList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  ];
}

/** Splits 'name=value' pairs; `option` names the flag in errors. */
export function namedPairs(values: readonly string[] | undefined, option: string, example: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) throw new CliError(`${option} '${v}' must look like ${example}`);
    const name = v.slice(0, eq);
    if (out.has(name)) throw new CliError(`${option} gives '${name}' twice`);
    out.set(name, v.slice(eq + 1));
  }
  return out;
}

export type BackendName = 'cpu' | 'webgpu';

export function parseBackend(v: string | undefined): BackendName {
  const b = v ?? 'cpu';
  if (b !== 'cpu' && b !== 'webgpu') throw new CliError(`--backend must be 'cpu' or 'webgpu', got '${b}'`);
  return b;
}

/** A positive integer option value. */
export function positiveInt(v: string | undefined, option: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new CliError(`${option} must be a positive integer, got '${v}'`);
  return n;
}

/** Finds the input named `name` (signature key or placeholder name). */
export function findInput(inputs: readonly NamedTensor[], name: string, option: string): NamedTensor {
  const hit = inputs.find((i) => i.key === name || i.tensor.node.name === name || i.tensor.name === name);
  if (!hit) throw new CliError(`${option} names '${name}', which is not an input (inputs: ${inputs.map((i) => i.key).join(', ') || 'none'})`);
  return hit;
}

/**
 * Concrete shapes by placeholder name from --feed-shape x=1,784 (dims separated by commas or
 * 'x'); inputs not listed keep their known dims and get 1 for unknown ones (noted on stderr).
 */
export function feedShapes(inputs: readonly NamedTensor[], given: readonly string[] | undefined, quiet = false): Record<string, number[]> {
  const pairs = namedPairs(given, '--feed-shape', 'name=1,784');
  const out: Record<string, number[]> = {};
  for (const [name, text] of pairs) {
    const input = findInput(inputs, name, '--feed-shape');
    const dims = text.split(/[,x]/).map((s) => Number(s.trim()));
    if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new CliError(`--feed-shape '${name}=${text}': dims must be non-negative integers`);
    out[input.tensor.node.name] = dims;
  }
  const defaulted: string[] = [];
  for (const i of inputs) {
    const key = i.tensor.node.name;
    if (out[key]) continue;
    if (i.tensor.shape.some((d) => d === null)) defaulted.push(`${i.key} ${fmtShape(i.tensor.shape)}`);
    out[key] = i.tensor.shape.map((d) => d ?? 1);
  }
  if (defaulted.length > 0 && !quiet) process.stderr.write(`kiln: unknown dims set to 1 for ${defaulted.join(', ')} (use --feed-shape name=dims)\n`);
  return out;
}

/** A file-name-safe form of a tensor name ('dense/out:1' -> 'dense_out_1'). */
export function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}
