// SPDX-License-Identifier: MIT
/**
 * @file The evaluation report: evaluation.json (everything), the compact summary stored in the model
 * card's `evaluation` field, and evaluation.md (a caption for evaluation.png and a figures table).
 */
import type { ClassHistogram } from './metrics.ts';
import { LOSSES_SHOWN, type Columns, type ProjectionBenchmark } from './projection-benchmark.ts';
import type { TargetCheck } from './targets.ts';

export interface ProjectionScores {
  /** Mean PSNR (dB) against the clean image of: the corrupted input, f(corrupted), f²(corrupted). */
  readonly corrupted: number;
  readonly f1: number;
  readonly f2: number;
}

export interface ClassifierSection {
  /** Folder of the classifier whose features and predictions are used. */
  readonly classifierDir: string;
  readonly featureDim: number;
  /** Accuracy on the whole test split, measured when the classifier was trained. */
  readonly testAccuracy: number;
  /** Accuracy on the n test images evaluated here. */
  readonly sampleAccuracy: number;
  /** Fréchet distance (classifier features) of f^k(z) against n real test images, k = 1, 2, 3. */
  readonly frechet: { readonly k1: number; readonly k2: number; readonly k3: number; readonly realTrainVsTest: number };
  readonly histograms: {
    readonly k1: ClassHistogram;
    readonly k2: ClassHistogram;
    readonly k3: ClassHistogram;
    readonly realTest: ClassHistogram;
  };
}

export interface EvaluationReport {
  readonly format: 'ign-evaluation';
  readonly version: 2;
  readonly model: string;
  readonly created: string;
  readonly seed: number;
  /** Generated samples and held-out images used by every section. */
  readonly n: number;
  readonly dataset: string;
  readonly reconstruction: { readonly l1: number; readonly mse: number; readonly psnr: number };
  readonly idempotence: {
    /** Mean per-image RMS ‖f(f(z)) − f(z)‖. */
    readonly residual: number;
    /** Mean per-image RMS ‖f(z) − z‖. */
    readonly shift: number;
    /** residual / shift: 0 for a perfectly idempotent f. */
    readonly ratio: number;
    /** Mean per-image RMS ‖f(f(x)) − f(x)‖ on held-out data. */
    readonly residualOnData: number;
  };
  readonly classifier: ClassifierSection | { readonly skipped: string };
  readonly projection: Readonly<Record<string, ProjectionScores>>;
  /** The projection benchmark (needs the classifier; null when it was skipped). */
  readonly benchmark: ProjectionBenchmark | null;
  readonly targets: readonly TargetCheck[];
  readonly image: { readonly file: string; readonly scale: number; readonly rows: readonly string[] };
  /** The benchmark's figure: per family, examples of x̃ | median | f | f². */
  readonly benchmarkImage: { readonly file: string; readonly scale: number; readonly rows: readonly string[] } | null;
  /** ONNX Runtime intra-op threads used. */
  readonly threads: number;
  readonly wallTimeSeconds: number;
}

/** The compact figures stored in model.json's `evaluation`. */
export function summarize(report: EvaluationReport): Record<string, unknown> {
  const c = 'frechet' in report.classifier ? report.classifier : null;
  return {
    report: 'evaluation.json',
    image: report.image.file,
    created: report.created,
    n: report.n,
    seed: report.seed,
    dataset: report.dataset,
    reconstructionL1: report.reconstruction.l1,
    reconstructionMse: report.reconstruction.mse,
    idempotenceResidual: report.idempotence.residual,
    idempotenceRatio: report.idempotence.ratio,
    frechet: c ? c.frechet : null,
    coveredClasses: c
      ? { k1: c.histograms.k1.coveredClasses, k2: c.histograms.k2.coveredClasses, k3: c.histograms.k3.coveredClasses }
      : null,
    meanConfidence: c ? c.histograms.k1.meanConfidence : null,
    smallestClassShare: c ? Math.min(...c.histograms.k1.fractions) : null,
    classifierTestAccuracy: c ? c.testAccuracy : null,
    projectionPsnr: report.projection,
    benchmarkAccuracyF1: report.benchmark ? Object.fromEntries(report.benchmark.families.map((f) => [f.id, f.accuracy.f1])) : null,
    targetsPassed: `${report.targets.filter((t) => t.pass).length}/${report.targets.length}`,
  };
}

const fmt = (x: number, digits = 3): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

/** evaluation.md: what each PNG row shows and the headline figures. */
export function reportMarkdown(report: EvaluationReport): string {
  const lines = [
    `# Evaluation of ${report.model}`,
    '',
    `${report.created} · seed ${report.seed} · n = ${report.n} · data ${report.dataset} · ${fmt(report.wallTimeSeconds, 1)} s`,
    '',
    '| figure | value |',
    '|---|---|',
    `| reconstruction L1 / MSE / PSNR (held-out) | ${fmt(report.reconstruction.l1, 4)} / ${fmt(report.reconstruction.mse, 4)} / ${fmt(report.reconstruction.psnr, 2)} dB |`,
    `| idempotence ‖f(f(z))−f(z)‖ / ‖f(z)−z‖ (RMS) | ${fmt(report.idempotence.residual, 4)} / ${fmt(report.idempotence.shift, 4)} (ratio ${fmt(report.idempotence.ratio, 4)}) |`,
    `| idempotence on data ‖f(f(x))−f(x)‖ | ${fmt(report.idempotence.residualOnData, 4)} |`,
  ];
  const c = report.classifier;
  if ('frechet' in c) {
    lines.push(
      `| Fréchet distance (classifier features) k=1 / 2 / 3 | ${fmt(c.frechet.k1)} / ${fmt(c.frechet.k2)} / ${fmt(c.frechet.k3)} |`,
      `| Fréchet distance real train vs test (floor) | ${fmt(c.frechet.realTrainVsTest)} |`,
      `| classes covered (≥ 2 %) k=1 / 2 / 3 | ${c.histograms.k1.coveredClasses} / ${c.histograms.k2.coveredClasses} / ${c.histograms.k3.coveredClasses} |`,
      `| smallest class share k=1 / 2 / 3 (%) | ${[c.histograms.k1, c.histograms.k2, c.histograms.k3].map((h) => pct(Math.min(...h.fractions))).join(' / ')} |`,
      `| mean max-softmax confidence k=1 (real test) | ${fmt(c.histograms.k1.meanConfidence)} (${fmt(c.histograms.realTest.meanConfidence)}) |`,
      `| classifier test accuracy | ${fmt(c.testAccuracy, 4)} |`,
    );
  } else {
    lines.push(`| classifier metrics | skipped: ${c.skipped} |`);
  }
  for (const [kind, p] of Object.entries(report.projection)) {
    lines.push(`| projection ${kind}: PSNR corrupted → f → f² | ${fmt(p.corrupted, 2)} → ${fmt(p.f1, 2)} → ${fmt(p.f2, 2)} dB |`);
  }
  if (report.benchmark) lines.push('', ...benchmarkMarkdown(report.benchmark));
  if (report.targets.length > 0) lines.push('', ...targetsMarkdown(report.targets));
  lines.push('', `## ${report.image.file} (×${report.image.scale}, rows top to bottom)`, '', ...report.image.rows.map((r) => `- ${r}`), '');
  const b = report.benchmarkImage;
  if (b) lines.push(`## ${b.file} (×${b.scale}, rows top to bottom)`, '', ...b.rows.map((r) => `- ${r}`), '');
  return lines.join('\n');
}

const pct = (x: number): string => (100 * x).toFixed(1);
const cols = (c: Columns, f: (x: number) => string): string => `${f(c.input)} | ${f(c.median)} | ${f(c.f1)} | ${f(c.f2)}`;

function benchmarkMarkdown(b: ProjectionBenchmark): string[] {
  const conventions = b.conventions
    ? `user-style inputs are sent as PNG and normalised to the card's conventions (${b.conventions.polarity}, content box ${b.conventions.contentBox.width}×${b.conventions.contentBox.height}, centred by ${b.conventions.centring})`
    : 'the card declares no input conventions, so user-style inputs are only resized';
  const lines = [
    '## Projection benchmark',
    '',
    `Columns per metric: x̃ (identity baseline) | 3×3 median(x̃) | f(x̃) | f²(x̃). Accuracy of the classifier against the true label (%), Fréchet distance to ${b.referenceImages} other real test images, PSNR to the clean x (dB, 100 = exact); "lost by f": digits the classifier reads right in x̃ and wrong in f(x̃), by true class → class after f, the ${LOSSES_SHOWN} most frequent. The clean row has x̃ = x; PSNR(f²(x), f(x)) = ${fmt(b.cleanIdempotencePsnr, 2)} dB. ${conventions}.`,
    '',
    '| family | acc x̃ | acc median | acc f | acc f² | FD x̃ | FD median | FD f | FD f² | PSNR x̃ | PSNR median | PSNR f | PSNR f² | lost by f (true→f ×n) |',
    `|---|${'---:|'.repeat(12)}---|`,
  ];
  for (const f of b.families) {
    const lost = f.lostByF.map((l) => `${l.label}→${l.to} ×${l.count}`).join(', ') || '—';
    lines.push(
      `| ${f.label} | ${cols(f.accuracy, pct)} | ${cols(f.frechet, (x) => fmt(x, 1))} | ${cols(f.psnr, (x) => fmt(x, 1))} | ${lost} |`,
    );
  }
  const users = b.families.filter((f) => f.user);
  if (users.length > 0) {
    lines.push(
      '',
      '| user-style family | accuracy x̃ / f(x̃) resized only (normalize=none) | accuracy x̃ / f(x̃) normalised | refused as empty |',
      '|---|---|---|---|',
    );
    for (const f of users) {
      const u = f.user!;
      lines.push(
        `| ${f.id} | ${pct(u.accuracyUnnormalizedInput)} / ${pct(u.accuracyUnnormalizedF1)} | ${pct(f.accuracy.input)} / ${pct(f.accuracy.f1)} | ${u.rejected} |`,
      );
    }
  }
  return lines;
}

function targetsMarkdown(targets: readonly TargetCheck[]): string[] {
  const passed = targets.filter((t) => t.pass).length;
  return [
    `## Targets (${passed} of ${targets.length} pass)`,
    '',
    '| target | measured | |',
    '|---|---|---|',
    ...targets.map((t) => `| ${t.target} | ${t.measured} | ${t.pass ? 'pass' : '**FAIL**'} |`),
  ];
}
