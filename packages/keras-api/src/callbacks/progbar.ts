/**
 * The progress display of fit (Keras' Progbar): per epoch an "Epoch i/n" line, then a bar
 * with step/total, ETA and the running means of loss and metrics, redrawn in place on a
 * terminal (at most every 50 ms) and finished with the epoch's time, time per step and the
 * validation values. When the output is not a terminal (a log file, CI) it prints only plain
 * lines: the epoch header and the epoch summary. verbose 2 prints the summary line alone.
 */
import { Callback, type Logs } from './callback.js';

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

function fmtValue(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(4) : v.toFixed(4);
}

function fmtDuration(s: number): string {
  if (s >= 3600) return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
  if (s >= 60) return `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
  return `${Math.round(s)}s`;
}

export class ProgbarLogger extends Callback {
  private readonly out: ProgressStream;
  private readonly tty: boolean;
  private sums = new Map<string, number>();
  private seen = 0;
  private epochStart = 0;
  private lastDraw = 0;
  private step = 0;

  constructor(
    private readonly verbose: number = 1,
    opts: { stream?: ProgressStream } = {},
  ) {
    super();
    this.out = opts.stream ?? process.stdout;
    this.tty = this.out.isTTY === true;
  }

  async onEpochBegin(epoch: number): Promise<void> {
    this.sums = new Map();
    this.seen = 0;
    this.step = 0;
    this.epochStart = Date.now();
    this.lastDraw = 0;
    if (this.verbose === 1) this.out.write(`Epoch ${epoch + 1}/${this.params?.epochs ?? '?'}\n`);
  }

  async onBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    const size = logs.size ?? 1;
    for (const [k, v] of Object.entries(logs)) {
      if (k === 'batch' || k === 'size') continue;
      this.sums.set(k, (this.sums.get(k) ?? 0) + v * size);
    }
    this.seen += size;
    this.step = batch + 1;
    const now = Date.now();
    if (this.verbose === 1 && this.tty && (now - this.lastDraw >= 50 || this.step === this.params?.steps)) {
      this.lastDraw = now;
      this.out.write(`\r${this.line(false)}\x1b[K`);
    }
  }

  async onEpochEnd(_epoch: number, logs: Logs = {}): Promise<void> {
    const elapsed = (Date.now() - this.epochStart) / 1000;
    const perStep = this.step > 0 ? (elapsed * 1000) / this.step : 0;
    const vals = Object.entries(logs)
      .map(([k, v]) => ` - ${k}: ${fmtValue(v)}`)
      .join('');
    const steps = this.params?.steps ?? this.step;
    const head = this.verbose === 1 ? `${this.bar(steps, steps)} - ` : '';
    const text = `${head}${fmtDuration(elapsed)} ${Math.round(perStep)}ms/step${vals}`;
    this.out.write(this.verbose === 1 && this.tty ? `\r${text}\x1b[K\n` : `${text}\n`);
  }

  private bar(done: number, total: number): string {
    const width = 30;
    const w = String(total).length;
    const filled = total > 0 ? Math.floor((width * done) / total) : width;
    const body = done >= total ? '='.repeat(width) : `${'='.repeat(Math.max(filled - 1, 0))}>${'.'.repeat(width - Math.max(filled, 1))}`;
    return `${String(done).padStart(w)}/${total} [${body}]`;
  }

  private line(final: boolean): string {
    const total = this.params?.steps ?? this.step;
    const elapsed = (Date.now() - this.epochStart) / 1000;
    const eta = this.step > 0 ? (elapsed / this.step) * (total - this.step) : 0;
    const means = [...this.sums].map(([k, v]) => ` - ${k}: ${fmtValue(v / Math.max(this.seen, 1))}`).join('');
    return `${this.bar(this.step, total)} - ${final ? fmtDuration(elapsed) : `ETA: ${fmtDuration(eta)}`}${means}`;
  }
}
