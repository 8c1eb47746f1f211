// SPDX-License-Identifier: MIT
/**
 * @file Statistics and the markdown table of `npm run bench:train`.
 *
 * API:
 *   median(xs), quantile(xs, q)
 *   BatchResult (one row), markdownTable(rows) → string
 *   flopSummary(report, batch) → string lines
 *   loopLine(row) → the end-to-end line (the trainer's loop against the bench's step)
 */
import type { FlopReport } from './flops.ts';
import type { TrainLoopResult } from './train-loop.ts';

function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export const median = (xs: readonly number[]): number => quantile(xs, 0.5);

export interface BatchResult {
  batch: number;
  /** Per-step wall seconds over all timed rounds. */
  ort: number[];
  torch: number[] | null;
  /** conv + matmul FLOPs of one step graph run. */
  denseFlops: number;
  totalFlops: number;
  /** Ceiling GFLOP/s measured once per round. */
  ceilings: number[];
  /** Fraction of all cores busy with other processes just before each round. */
  background: number[];
  /** Step-1 losses of both frameworks within tolerance; null without PyTorch. */
  lossesAgree: boolean | null;
  /** Peak resident memory (MiB) of the ORT process and of the PyTorch child during this batch size. */
  ortPeakMiB: number | null;
  torchPeakMiB: number | null;
  /** The trainer's own loop on the same model and batch (null: not measured). */
  loop: TrainLoopResult | null;
}

const fix = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '—');

export function markdownTable(rows: readonly BatchResult[]): string {
  const header = [
    '| batch | ORT s/step | ORT img/s | useful GFLOP/s (conv+mm / all) | % of MatMul ceiling | PyTorch s/step | PyTorch img/s | speed-up (PyTorch ÷ ORT time) | peak RSS ORT / PyTorch (MiB) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const lines = rows.map((r) => {
    const ort = median(r.ort);
    const torch = r.torch ? median(r.torch) : NaN;
    const dense = r.denseFlops / ort / 1e9;
    const all = r.totalFlops / ort / 1e9;
    const pct = (100 * dense) / median(r.ceilings);
    return (
      `| ${r.batch} | ${fix(ort, 3)} | ${fix(r.batch / ort, 1)} | ${fix(dense, 1)} / ${fix(all, 1)} | ${fix(pct, 1)}% | ` +
      `${fix(torch, 3)} | ${fix(r.batch / torch, 1)} | ${r.torch ? `${fix(torch / ort, 2)}×` : '—'} | ` +
      `${fix(r.ortPeakMiB ?? NaN, 0)} / ${fix(r.torchPeakMiB ?? NaN, 0)} |`
    );
  });
  return [...header, ...lines].join('\n');
}

/** Spread of the raw timings, so a noisy run shows as one. */
export function spreadLine(r: BatchResult): string {
  const part = (name: string, xs: readonly number[]): string =>
    `${name} p25–p75 ${fix(quantile(xs, 0.25), 3)}–${fix(quantile(xs, 0.75), 3)} s, min ${fix(Math.min(...xs), 3)} s (n=${xs.length})`;
  const torch = r.torch ? `; ${part('PyTorch', r.torch)}` : '';
  const busy = r.background.map((b) => `${(100 * b).toFixed(0)}%`).join(', ');
  return (
    `batch ${r.batch}: ${part('ORT', r.ort)}${torch}; ceiling per round ${r.ceilings.map((c) => fix(c, 1)).join(', ')} GFLOP/s; ` +
    `other processes' CPU before each round ${busy || '(unknown)'} of all cores`
  );
}

const g = (flops: number): string => `${(flops / 1e9).toFixed(2)} GFLOP`;

export function flopSummary(report: FlopReport, batch: number): string[] {
  const { byCategory: c } = report;
  const shares = Object.entries(report.byScope)
    .map(([s, f]) => [s, (100 * f) / report.total] as const)
    .sort((a, b) => b[1] - a[1]);
  const shown = shares.filter(([, p]) => p >= 0.1);
  const rest = shares.filter(([, p]) => p < 0.1).reduce((a, [, p]) => a + p, 0);
  const scopes = [...shown.map(([s, p]) => `${s} ${p.toFixed(1)}%`), ...(rest > 0 ? [`other ${rest.toFixed(2)}%`] : [])].join(', ');
  const ops = Object.entries(report.byOp)
    .sort((a, b) => b[1].flops - a[1].flops)
    .slice(0, 8)
    .map(([op, e]) => `${op}×${e.count} ${(e.flops / 1e9).toFixed(2)}`)
    .join(', ');
  return [
    `batch ${batch}: ${report.nodes} nodes; conv ${g(c.conv)}, matmul ${g(c.matmul)}, elementwise ${g(c.elementwise)} ` +
      `(useful total ${g(report.total)}, ${(report.total / batch / 1e6).toFixed(1)} MFLOP/image)`,
    `  one-hot im2col Convs (data movement, not counted as useful): ${g(c.im2col)} of multiply-adds by one-hot kernels`,
    `  by scope: ${scopes}`,
    `  top ops (GFLOP): ${ops}${report.unknownOps.length > 0 ? `; estimated ops: ${report.unknownOps.join(', ')}` : ''}`,
  ];
}

/** `npm run train`'s loop against session.run alone: the share of the bench's speed it sustains. */
export function loopLine(r: BatchResult): string | null {
  if (!r.loop) return null;
  const bench = median(r.ort);
  const { loop } = r;
  return (
    `batch ${r.batch}: npm run train (preset ${loop.preset}, ${loop.steps} steps after a warm-up window) ` +
    `${fix(loop.secondsPerStep, 3)} s/step = ${fix((100 * bench) / loop.secondsPerStep, 1)} % of the bench's speed ` +
    `(${fix(bench, 3)} s/step); outside session.run ${fix(100 * loop.hostShare, 1)} % of its wall time`
  );
}
