/**
 * Training curves as a self-contained SVG: one panel per scalar tag (loss, accuracy, ...),
 * one line per run (train, validation, ...), step (epoch) on x, with nice round axis ticks
 * and a legend. Written directly, no charting library.
 */
import type { ScalarSeries } from './event-file.js';

const PANEL_W = 480;
const PANEL_H = 300;
const MARGIN = { left: 62, right: 16, top: 34, bottom: 42 };
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    return niceTicks(lo - pad, hi + pad, count);
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  if (out[out.length - 1]! < hi) out.push(Number((out[out.length - 1]! + step).toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

function panel(tag: string, runs: [string, { step: number; value: number }[]][], x0: number, y0: number, colorOf: (run: string) => string): string {
  const pts = runs.flatMap(([, p]) => p).filter((p) => Number.isFinite(p.value));
  const steps = pts.map((p) => p.step);
  const values = pts.map((p) => p.value);
  const xt = niceTicks(Math.min(...steps), Math.max(...steps));
  const yt = niceTicks(Math.min(...values), Math.max(...values));
  const [xmin, xmax, ymin, ymax] = [xt[0]!, xt[xt.length - 1]!, yt[0]!, yt[yt.length - 1]!];
  const iw = PANEL_W - MARGIN.left - MARGIN.right;
  const ih = PANEL_H - MARGIN.top - MARGIN.bottom;
  const sx = (v: number) => x0 + MARGIN.left + ((v - xmin) / (xmax - xmin)) * iw;
  const sy = (v: number) => y0 + MARGIN.top + ih - ((v - ymin) / (ymax - ymin)) * ih;
  const out: string[] = [`<g class="panel">`];
  out.push(`<text x="${x0 + PANEL_W / 2}" y="${y0 + 20}" text-anchor="middle" font-size="14" font-weight="bold">${esc(tag)}</text>`);
  for (const t of yt) {
    out.push(`<line x1="${sx(xmin)}" x2="${sx(xmax)}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${sx(xmin) - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11">${fmt(t)}</text>`);
  }
  for (const t of xt) out.push(`<text x="${sx(t)}" y="${sy(ymin) + 16}" text-anchor="middle" font-size="11">${fmt(t)}</text>`);
  out.push(`<rect x="${sx(xmin)}" y="${sy(ymax)}" width="${iw}" height="${ih}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${x0 + MARGIN.left + iw / 2}" y="${y0 + PANEL_H - 8}" text-anchor="middle" font-size="11">step</text>`);
  runs.forEach(([run, points], i) => {
    const good = points.filter((p) => Number.isFinite(p.value));
    const color = colorOf(run);
    const d = good.map((p, j) => `${j ? 'L' : 'M'}${sx(p.step).toFixed(1)},${sy(p.value).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"><title>${esc(`${run}/${tag}`)}</title></path>`);
    if (good.length <= 60) for (const p of good) out.push(`<circle cx="${sx(p.step).toFixed(1)}" cy="${sy(p.value).toFixed(1)}" r="2.5" fill="${color}"/>`);
    const ly = y0 + MARGIN.top + 12 + i * 16;
    const lx = x0 + PANEL_W - MARGIN.right - 120;
    out.push(`<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 24}" y="${ly}" font-size="11">${esc(run)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}

/** The SVG document: panels in two columns, sorted by tag. */
export function curvesSvg(series: ScalarSeries, title: string): string {
  const byTag = new Map<string, [string, { step: number; value: number }[]][]>();
  for (const [run, tags] of [...series.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    for (const [tag, points] of tags) {
      const list = byTag.get(tag) ?? [];
      list.push([run, points]);
      byTag.set(tag, list);
    }
  }
  const runs = [...series.keys()].sort();
  const colorOf = (run: string) => COLORS[runs.indexOf(run) % COLORS.length]!;
  const tags = [...byTag.keys()].sort();
  const cols = tags.length > 1 ? 2 : 1;
  const rows = Math.max(1, Math.ceil(tags.length / cols));
  const width = cols * PANEL_W;
  const height = rows * PANEL_H + 30;
  const body = tags.map((tag, i) => panel(tag, byTag.get(tag)!, (i % cols) * PANEL_W, 30 + Math.floor(i / cols) * PANEL_H, colorOf));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
