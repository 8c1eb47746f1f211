// SPDX-License-Identifier: MIT
/**
 * @file Progress on stderr: a live one-line bar (step/total, epoch, it/s, ETA, losses) on a TTY,
 * plain lines every `every` steps otherwise (CI logs, files). Speed is a moving average over the
 * recent steps, so a slow first step (session warm-up) does not skew the ETA for long.
 */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  total: number;
  startStep: number;
  /** Plain-line mode: print every `every` steps (and the last). */
  every: number;
  stream?: ProgressStream;
  /** Clock in ms (tests). */
  now?: () => number;
}

const SMOOTHING = 0.1;
const TTY_REFRESH_MS = 100;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (v: number): string => String(v).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

function formatLosses(losses: Readonly<Record<string, number>>): string {
  return Object.entries(losses)
    .map(([k, v]) => `${k.replace(/^(loss|metric)\./, '')}=${Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4)}`)
    .join(' ');
}

export class Progress {
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private last: number;
  private lastDraw = -Infinity;
  private secondsPerStep = NaN;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.now = options.now ?? (() => performance.now());
    this.last = this.now();
  }

  /** `hostShare`: fraction of recent wall time spent outside session.run (shown when given). */
  update(step: number, epoch: number, losses: Readonly<Record<string, number>>, hostShare?: number): void {
    const t = this.now();
    const dt = (t - this.last) / 1000;
    this.last = t;
    this.secondsPerStep = Number.isNaN(this.secondsPerStep) ? dt : (1 - SMOOTHING) * this.secondsPerStep + SMOOTHING * dt;
    const { total, every } = this.options;
    const line = this.line(step, epoch, losses, hostShare);
    if (this.stream.isTTY) {
      if (t - this.lastDraw < TTY_REFRESH_MS && step !== total) return;
      this.lastDraw = t;
      const width = this.stream.columns ?? 120;
      this.stream.write(`\r${line.slice(0, width - 1).padEnd(width - 1)}`);
    } else if (step % every === 0 || step === total) {
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the live line (TTY) so later output starts on a fresh line. */
  finish(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }

  private line(step: number, epoch: number, losses: Readonly<Record<string, number>>, hostShare?: number): string {
    const { total } = this.options;
    const itPerSec = 1 / this.secondsPerStep;
    const eta = (total - step) * this.secondsPerStep;
    const pct = Math.floor((100 * step) / total);
    const filled = Math.round((20 * step) / total);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(20 - filled)}`;
    const speed = itPerSec >= 1 ? `${itPerSec.toFixed(2)} it/s` : `${this.secondsPerStep.toFixed(2)} s/it`;
    const host = hostShare === undefined ? '' : ` host ${(100 * hostShare).toFixed(1)}%`;
    return `[${bar}] ${pct}% step ${step}/${total} ep ${epoch} ${speed}${host} ETA ${formatDuration(eta)} ${formatLosses(losses)}`;
  }
}
