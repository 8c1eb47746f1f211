// SPDX-License-Identifier: MIT
/**
 * @file The targets a shipped model must meet in the evaluation, checked pass/fail:
 * - every corruption family but the diagnostic rows: accuracy(f(x̃)) ≥ max(accuracy(x̃), accuracy(median(x̃))) − 1 point;
 *   for the noise families (Gaussian, salt and pepper) also FD(f(x̃)) < FD(x̃);
 * - clean digits: accuracy(f(x)) ≥ 98 % and PSNR(f²(x), f(x)) ≥ 30 dB;
 * - user-style inputs: ≥ 95 % of f(normalised x̃) keep their class;
 * - generation: FD(f¹(z)) ≤ 20, FD(f²) ≤ FD(f¹), every class ≥ 6 % of f(z), mean confidence ≥ 0.93.
 */
import { isNoiseFamily } from './benchmark-families.ts';
import type { ProjectionBenchmark } from './projection-benchmark.ts';
import type { ClassifierSection } from './report.ts';

export interface TargetCheck {
  /** What is required, e.g. "noise-0.5: acc f(x̃) ≥ max(acc x̃, acc median) − 1 pt". */
  readonly target: string;
  /** The measured value(s), formatted. */
  readonly measured: string;
  readonly pass: boolean;
}

export const TARGETS = {
  accuracySlack: 0.01,
  cleanAccuracy: 0.98,
  cleanIdempotencePsnr: 30,
  userKeepClass: 0.95,
  generationFrechet: 20,
  smallestClassShare: 0.06,
  meanConfidence: 0.93,
} as const;

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
const num = (x: number, d = 2): string => x.toFixed(d);

export function checkTargets(benchmark: ProjectionBenchmark | null, generation: ClassifierSection | null): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const f of benchmark?.families ?? []) {
    if (f.diagnostic) continue;
    const a = f.accuracy;
    if (f.kind === 'clean') {
      checks.push({ target: 'clean: acc f(x) ≥ 98 %', measured: pct(a.f1), pass: a.f1 >= TARGETS.cleanAccuracy });
      const p = benchmark!.cleanIdempotencePsnr;
      checks.push({ target: 'clean: PSNR(f²(x), f(x)) ≥ 30 dB', measured: `${num(p)} dB`, pass: p >= TARGETS.cleanIdempotencePsnr });
      continue;
    }
    const floor = Math.max(a.input, a.median) - TARGETS.accuracySlack;
    checks.push({
      target: `${f.id}: acc f(x̃) ≥ max(acc x̃, acc median) − 1 pt`,
      measured: `${pct(a.f1)} vs max(${pct(a.input)}, ${pct(a.median)})`,
      pass: a.f1 >= floor - 1e-12,
    });
    if (isNoiseFamily(f.kind)) {
      checks.push({
        target: `${f.id}: FD f(x̃) < FD x̃`,
        measured: `${num(f.frechet.f1)} vs ${num(f.frechet.input)}`,
        pass: f.frechet.f1 < f.frechet.input,
      });
    }
    if (f.kind === 'user') {
      checks.push({ target: `${f.id}: ≥ 95 % of f(x̃) keep their class`, measured: pct(a.f1), pass: a.f1 >= TARGETS.userKeepClass });
    }
  }
  if (generation) {
    const { frechet, histograms } = generation;
    const smallest = Math.min(...histograms.k1.fractions);
    checks.push(
      { target: 'generation: FD f¹(z) ≤ 20', measured: num(frechet.k1), pass: frechet.k1 <= TARGETS.generationFrechet },
      { target: 'generation: FD f²(z) ≤ FD f¹(z)', measured: `${num(frechet.k2)} vs ${num(frechet.k1)}`, pass: frechet.k2 <= frechet.k1 },
      {
        target: 'generation: every class ≥ 6 % of f(z)',
        measured: `smallest ${pct(smallest)}`,
        pass: smallest >= TARGETS.smallestClassShare,
      },
      {
        target: 'generation: mean confidence of f(z) ≥ 0.93',
        measured: num(histograms.k1.meanConfidence, 3),
        pass: histograms.k1.meanConfidence >= TARGETS.meanConfidence,
      },
    );
  }
  return checks;
}
