/**
 * model.summary(): Keras' table of layers (name and class, output shape, parameter count; for
 * functional models also the layers each one is connected to) and the totals.
 */
import { fmtLayerShape } from './keras-tensor.js';
import type { LayersModel } from './model.js';

export interface SummaryOptions {
  lineLength?: number;
  positions?: number[];
  printFn?: (line: string) => void;
}

function row(fields: string[], positions: number[]): string {
  let line = '';
  fields.forEach((f, i) => {
    const start = i === 0 ? 0 : positions[i - 1]!;
    line = line.padEnd(start);
    line += ` ${f}`;
    line = line.slice(0, positions[i]! - 1).padEnd(i === fields.length - 1 ? 0 : positions[i]!);
  });
  return line.trimEnd();
}

/** The summary as lines of text. */
export function summaryLines(m: LayersModel, opts: SummaryOptions = {}): string[] {
  const sequentialLike = m.className === 'Sequential';
  const lineLength = opts.lineLength ?? (sequentialLike ? 65 : 98);
  const fractions = opts.positions ?? (sequentialLike ? [0.45, 0.85, 1] : [0.33, 0.55, 0.67, 1]);
  const positions = fractions.map((p) => (p <= 1 ? Math.floor(lineLength * p) : p));
  const headers = sequentialLike ? ['Layer (type)', 'Output Shape', 'Param #'] : ['Layer (type)', 'Output Shape', 'Param #', 'Connected to'];
  const out: string[] = [`Model: "${m.name}"`, '_'.repeat(lineLength), row(headers, positions), '='.repeat(lineLength)];
  const layers = m.layers;
  layers.forEach((l, i) => {
    const fields = [`${l.name} (${l.className})`, l.outputShape ? fmtLayerShape(l.outputShape) : '?', String(l.countParams())];
    if (!sequentialLike) fields.push(l.nodes.flatMap((n) => n.inputs.map((t) => t.name)).join(', '));
    out.push(row(fields, positions));
    out.push(i === layers.length - 1 ? '='.repeat(lineLength) : '_'.repeat(lineLength));
  });
  if (layers.length === 0) out.push('='.repeat(lineLength));
  const total = m.countParams();
  const trainable = m.trainableWeights.reduce((n, w) => n + w.value.size, 0);
  out.push(`Total params: ${total}`, `Trainable params: ${trainable}`, `Non-trainable params: ${total - trainable}`, '_'.repeat(lineLength));
  return out;
}

export function modelSummary(m: LayersModel, opts: SummaryOptions = {}): void {
  const print = opts.printFn ?? console.log;
  for (const line of summaryLines(m, opts)) print(line);
}
