/**
 * writeCurves(logdir, file): the training-curve chart of the TensorBoard event files under a
 * log dir, written as SVG, or as PNG through resvg (a Rust SVG rasterizer compiled for
 * Node). Shared by `kiln plot` and the main job (examples/main.ts), which draws its curves
 * next to its logs.
 */
import { writeFileSync } from 'node:fs';
import { curvesSvg } from './chart-svg.js';
import { CliError } from './errors.js';
import { readScalars } from './event-file.js';

export interface CurvesWritten {
  /** Scalar series drawn (one per run and tag). */
  series: number;
  /** The runs (event-file folders relative to the log dir, '.' for the top). */
  runs: string[];
}

/** Draws every scalar under `logdir` into `file` (.svg or .png); a bad log dir or file name is a CliError. */
export async function writeCurves(logdir: string, file: string, title = `training curves: ${logdir}`): Promise<CurvesWritten> {
  const lower = file.toLowerCase();
  if (!lower.endsWith('.svg') && !lower.endsWith('.png')) throw new CliError(`-o '${file}' must end in .svg or .png`);
  const scalars = readScalars(logdir);
  const series = [...scalars.values()].reduce((n, tags) => n + tags.size, 0);
  if (series === 0) throw new CliError(`the event files under '${logdir}' hold no scalar summaries`);
  const svg = curvesSvg(scalars, title);
  if (lower.endsWith('.svg')) {
    writeFileSync(file, svg);
  } else {
    const { Resvg } = await import('@resvg/resvg-js');
    writeFileSync(file, new Resvg(svg, { background: '#ffffff', font: { loadSystemFonts: true } }).render().asPng());
  }
  return { series, runs: [...scalars.keys()] };
}
