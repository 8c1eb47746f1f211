// SPDX-License-Identifier: MIT
/**
 * Pixel and label statistics of the evaluation report. Images are batches of `size` values each in
 * [-1, 1], so the PSNR peak-to-peak range is 2.
 */

/** Per-image PSNR is capped here so an exact match stays a finite JSON number. */
export const PSNR_CAP_DB = 100;
const VALUE_RANGE = 2;

export interface PixelErrors {
  /** Mean |a − b| over every value. */
  readonly l1: number;
  /** Mean (a − b)² over every value. */
  readonly mse: number;
}

export function pixelErrors(a: Float32Array, b: Float32Array): PixelErrors {
  checkSameLength(a, b);
  let l1 = 0;
  let sq = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    l1 += Math.abs(d);
    sq += d * d;
  }
  return { l1: l1 / a.length, mse: sq / a.length };
}

/** Mean over images of the per-image RMS difference √(mean_pixels (a − b)²). */
export function meanRms(a: Float32Array, b: Float32Array, size: number): number {
  return perImage(a, b, size, (mse) => Math.sqrt(mse));
}

/** PSNR = 10·log10(range² / MSE) with range 2 for [-1, 1] images, averaged over images (dB). */
export function meanPsnr(a: Float32Array, b: Float32Array, size: number): number {
  return perImage(a, b, size, psnrFromMse);
}

function psnrFromMse(mse: number): number {
  if (mse <= 0) return PSNR_CAP_DB;
  return Math.min(PSNR_CAP_DB, 10 * Math.log10((VALUE_RANGE * VALUE_RANGE) / mse));
}

function perImage(a: Float32Array, b: Float32Array, size: number, g: (mse: number) => number): number {
  checkSameLength(a, b);
  const count = a.length / size;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`${a.length} values are not whole images of ${size}`);
  let total = 0;
  for (let n = 0; n < count; n++) {
    let sq = 0;
    for (let i = n * size; i < (n + 1) * size; i++) sq += (a[i]! - b[i]!) ** 2;
    total += g(sq / size);
  }
  return total / count;
}

function checkSameLength(a: Float32Array, b: Float32Array): void {
  if (a.length !== b.length) throw new RangeError(`length mismatch: ${a.length} vs ${b.length}`);
}

/** Share of samples a class needs to count as "covered". */
const COVERAGE_THRESHOLD = 0.02;

export interface ClassHistogram {
  /** Samples per predicted class (argmax of the logits). */
  readonly counts: number[];
  readonly fractions: number[];
  /** Classes holding ≥ 2 % of the samples: a mode-coverage score. */
  readonly coveredClasses: number;
  /** Mean over samples of max softmax probability: low means ambiguous, off-manifold samples. */
  readonly meanConfidence: number;
}

/** Histogram of argmax classes and mean top-1 softmax probability of `count` rows of logits. */
export function classHistogram(logits: Float32Array, classes: number): ClassHistogram {
  const count = logits.length / classes;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`${logits.length} logits are not rows of ${classes}`);
  const counts = new Array<number>(classes).fill(0);
  let confidence = 0;
  for (let r = 0; r < count; r++) {
    const { index, probability } = topClass(logits.subarray(r * classes, (r + 1) * classes));
    counts[index] = counts[index]! + 1;
    confidence += probability;
  }
  const fractions = counts.map((c) => c / count);
  return {
    counts,
    fractions,
    coveredClasses: fractions.filter((f) => f >= COVERAGE_THRESHOLD).length,
    meanConfidence: confidence / count,
  };
}

/** argmax and its softmax probability 1 / Σ exp(l_k − l_max), stable for any logits. */
export function topClass(row: Float32Array): { index: number; probability: number } {
  let index = 0;
  for (let k = 1; k < row.length; k++) if (row[k]! > row[index]!) index = k;
  const max = row[index]!;
  let denominator = 0;
  for (let k = 0; k < row.length; k++) denominator += Math.exp(row[k]! - max);
  return { index, probability: 1 / denominator };
}

/** A class change f made: `count` images of true class `label` read right in x̃ and as `to` in f(x̃). */
export interface ClassLoss {
  readonly label: number;
  readonly to: number;
  readonly count: number;
}

/**
 * The images the classifier reads right before f and wrong after it, grouped by (true class → class
 * after f), most frequent first (ties by label, then class), at most `top` groups: where a projection
 * loses digits.
 */
export function classLosses(
  before: Float32Array,
  after: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
  top: number,
): ClassLoss[] {
  const count = before.length / classes;
  const tally = new Map<number, number>();
  for (let r = 0; r < count; r++) {
    const label = labels[r]!;
    const was = topClass(before.subarray(r * classes, (r + 1) * classes)).index;
    const now = topClass(after.subarray(r * classes, (r + 1) * classes)).index;
    if (was === label && now !== label) tally.set(label * classes + now, (tally.get(label * classes + now) ?? 0) + 1);
  }
  return [...tally]
    .map(([key, n]) => ({ label: Math.floor(key / classes), to: key % classes, count: n }))
    .sort((a, b) => b.count - a.count || a.label - b.label || a.to - b.to)
    .slice(0, top);
}

/** Fraction of rows whose argmax equals the label. */
export function accuracy(logits: Float32Array, labels: ArrayLike<number>, classes: number): number {
  const count = logits.length / classes;
  if (labels.length < count) throw new RangeError(`${labels.length} labels for ${count} rows`);
  let correct = 0;
  for (let r = 0; r < count; r++) {
    if (topClass(logits.subarray(r * classes, (r + 1) * classes)).index === labels[r]) correct++;
  }
  return correct / count;
}
