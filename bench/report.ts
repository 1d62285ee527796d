/**
 * Markdown output of the suite: the timing table (median per cell, ratio peer / Kiln so that
 * > 1 means Kiln is faster, Kiln's kernels per step and arena bytes), Kiln's memory-plan
 * details, the cross-framework correctness check, and the cells that could not run.
 */
import { type Cell, median } from './harness.js';
import type { Workload } from './framework.js';

export interface CheckRow {
  workload: Workload;
  /** Framework the others are compared with (Kiln when it ran). */
  reference: string;
  /** Largest |value| of the reference output, for scale. */
  scale: number;
  rows: { framework: string; maxAbsDiff: number; note?: string }[];
}

const ms = (x: number) => (Number.isNaN(x) ? '—' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));
const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function timingTable(cells: Cell[], workloads: readonly Workload[]): string[] {
  const out = [
    row(['workload', 'framework', 'median ms', 'min ms', 'calls', 'GFLOP/s', 'peer / Kiln', 'kernels', 'arena']),
    row(['---', '---', '--:', '--:', '--:', '--:', '--:', '--:', '--:']),
  ];
  for (const w of workloads) {
    const mine = cells.filter((c) => c.w.id === w.id);
    const kiln = mine.find((c) => c.fw.name === 'kiln');
    const kilnMed = kiln ? median(kiln.times) : NaN;
    for (const c of mine) {
      if (typeof c.c === 'string' || c.error) continue;
      const med = median(c.times);
      const medText = ms(med);
      const gflops = w.flops ? (w.flops / (med * 1e6)).toFixed(1) : '';
      const ratio = c.fw.name === 'kiln' ? '1' : Number.isNaN(kilnMed) ? '—' : (med / kilnMed).toFixed(2);
      const stats = typeof c.c !== 'string' ? c.c.stats : undefined;
      out.push(
        row([
          w.fresh ? `${w.title}, repeated` : w.title,
          c.fw.name,
          medText,
          ms(Math.min(...c.times)),
          String(c.times.length),
          gflops,
          ratio,
          stats ? String(stats.kernels) : '',
          stats ? mib(stats.arenaBytes) : '',
        ]),
      );
    }
    // First-call workloads also get the cold call (one sample, before anything else compiled).
    if (w.fresh)
      for (const c of mine) {
        if (typeof c.c === 'string' || c.firstMs === undefined) continue;
        const ratio = c.fw.name === 'kiln' ? '1' : kiln?.firstMs === undefined ? '—' : (c.firstMs / kiln.firstMs).toFixed(2);
        out.push(row([`${w.title}, cold`, c.fw.name, ms(c.firstMs), '', '1', '', ratio, '', '']));
      }
  }
  return out;
}

function memoryTable(cells: Cell[]): string[] {
  const kiln = cells.filter((c) => c.fw.name.startsWith('kiln') && typeof c.c !== 'string' && c.c.stats);
  if (kiln.length === 0) return [];
  const out = [
    '',
    "Kiln's compiled programs (session.compiled(...).stats, at the measured shapes):",
    '',
    row(['workload', 'framework', 'kernels', 'arena', 'naive', 'live lower bound', 'arena / live', 'arena / naive', 'setup ms (compile + 1st run)']),
    row(['---', '---', '--:', '--:', '--:', '--:', '--:', '--:', '--:']),
  ];
  for (const c of kiln) {
    const s = (c.c as Exclude<Cell['c'], string>).stats!;
    out.push(
      row([
        c.w.title,
        c.fw.name,
        String(s.kernels),
        mib(s.arenaBytes),
        mib(s.naiveBytes),
        mib(s.liveLowerBoundBytes),
        (s.arenaBytes / s.liveLowerBoundBytes).toFixed(2),
        (s.arenaBytes / s.naiveBytes).toFixed(2),
        ms(c.setupMs),
      ]),
    );
  }
  return out;
}

function checkTable(checks: CheckRow[]): string[] {
  if (checks.length === 0) return [];
  const out = ['', 'Correctness (same seeded weights and inputs everywhere; the training check compares the losses of the first two steps):', ''];
  out.push(row(['output', 'reference', '|max| of reference', 'framework', 'max abs diff']), row(['---', '---', '--:', '---', '--:']));
  for (const c of checks)
    for (const r of c.rows) out.push(row([c.workload.title, c.reference, c.scale.toPrecision(3), r.framework, r.note ?? r.maxAbsDiff.toExponential(2)]));
  return out;
}

function missing(cells: Cell[]): string[] {
  const bad = cells.filter((c) => typeof c.c === 'string' || c.error);
  if (bad.length === 0) return [];
  return ['', 'Not measured:', '', ...bad.map((c) => `- ${c.fw.name}, ${c.w.title}: ${typeof c.c === 'string' ? c.c : `error: ${c.error}`}`)];
}

export function renderReport(header: string[], cells: Cell[], workloads: readonly Workload[], checks: CheckRow[], footer: string[]): string {
  return [...header, '', ...timingTable(cells, workloads), ...memoryTable(cells), ...checkTable(checks), ...missing(cells), '', ...footer, ''].join('\n');
}
