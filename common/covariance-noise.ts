// SPDX-License-Identifier: MIT
/**
 * @file Covariance source noise: z ~ N(μ, Σ) with the pixel mean μ and the full pixel covariance Σ
 * of training images (docs/ign.md, "Noise"). Fourier noise is the special case that assumes
 * stationarity (Σ diagonal in the Fourier basis, so every pixel sees the same spectrum); this kind
 * keeps where strokes are and how pixels co-vary, so its samples are ghost-like digit shapes
 * rather than one mean blob with texture. Samples are still a single Gaussian: no class, no image
 * is stored, only first and second moments.
 *
 * Σ is factored once as Σ + εI = L·Lᵀ (Cholesky; ε keeps it positive definite where pixels never
 * vary, e.g. MNIST's border) and a sample is z = μ + L·e with e ~ N(0, I). L is stored packed
 * (row i holds its i + 1 entries from offset i(i + 1)/2), d(d + 1)/2 floats for d values per image,
 * so the kind is limited to small images (MAX_COVARIANCE_VALUES).
 */
import { assertImageShape, shapeSize, type ImageShape } from './image-shape.ts';
import type { Rng } from './rng.ts';

/** Largest C·H·W this kind accepts: 1,024 values → a 2 MiB factor (28×28 grey: 1.2 MiB). */
export const MAX_COVARIANCE_VALUES = 1024;
/** Training images the moments are estimated from (many more than the 784 values of an MNIST digit). */
export const DEFAULT_COVARIANCE_IMAGES = 5000;
/** Diagonal jitter ε added to Σ before factoring, in squared [-1, 1] pixel units (std 0.01). */
export const COVARIANCE_JITTER = 1e-4;

export interface CovarianceStats {
  readonly kind: 'covariance';
  readonly shape: ImageShape;
  /** Number of images the moments were estimated from. */
  readonly count: number;
  /** μ, C×H×W. */
  readonly mean: Float32Array;
  /** Packed lower-triangular L with L·Lᵀ = Σ + εI; length d(d + 1)/2. */
  readonly cholesky: Float32Array;
}

export function packedLength(d: number): number {
  return (d * (d + 1)) / 2;
}

/** Throws unless images of `shape` are small enough for a dense covariance. */
export function assertCovarianceShape(shape: ImageShape): void {
  const d = shapeSize(shape);
  if (d > MAX_COVARIANCE_VALUES) {
    throw new RangeError(
      `covariance noise is for images of at most ${MAX_COVARIANCE_VALUES} values; [${shape.join(', ')}] has ${d} (use fourier noise)`,
    );
  }
}

/**
 * Mean, unbiased (n − 1) covariance and its Cholesky factor over the first n images (n×C×H×W).
 * `white` > 0 adds independent pixel noise of that std to the distribution: Σ + (ε + white²)·I.
 */
export function computeCovarianceStats(images: Float32Array, n: number, shape: ImageShape, white = 0): CovarianceStats {
  assertImageShape(shape);
  assertCovarianceShape(shape);
  const d = shapeSize(shape);
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`need at least 2 images for covariance statistics, got ${n}`);
  if (!(white >= 0)) throw new RangeError(`white noise std must be ≥ 0, got ${white}`);
  if (images.length < n * d)
    throw new RangeError(`images hold ${Math.floor(images.length / d)} images of [${shape.join(', ')}], asked for ${n}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k] = mean[k]! + images[i * d + k]!;
  for (let k = 0; k < d; k++) mean[k] = mean[k]! / n;
  // Lower triangle of Σ_i (x_i − μ)(x_i − μ)ᵀ, packed; the centred row is formed once per image.
  const scatter = new Float64Array(packedLength(d));
  const centred = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) centred[k] = images[i * d + k]! - mean[k]!;
    for (let r = 0; r < d; r++) {
      const cr = centred[r]!;
      if (cr === 0) continue;
      const row = (r * (r + 1)) / 2;
      for (let c = 0; c <= r; c++) scatter[row + c] = scatter[row + c]! + cr * centred[c]!;
    }
  }
  for (let k = 0; k < scatter.length; k++) scatter[k] = scatter[k]! / (n - 1);
  const diagonal = COVARIANCE_JITTER + white * white;
  for (let r = 0; r < d; r++) scatter[(r * (r + 3)) / 2] = scatter[(r * (r + 3)) / 2]! + diagonal;
  return {
    kind: 'covariance',
    shape: [shape[0], shape[1], shape[2]],
    count: n,
    mean: Float32Array.from(mean),
    cholesky: Float32Array.from(choleskyPacked(scatter, d)),
  };
}

/**
 * In-place Cholesky–Banachiewicz on a packed lower triangle: A = L·Lᵀ, L overwrites A. Throws if A
 * is not positive definite (cannot happen after the jitter unless the input held NaN).
 */
export function choleskyPacked(a: Float64Array, d: number): Float64Array {
  for (let i = 0; i < d; i++) {
    const rowI = (i * (i + 1)) / 2;
    for (let j = 0; j <= i; j++) {
      const rowJ = (j * (j + 1)) / 2;
      let sum = a[rowI + j]!;
      for (let k = 0; k < j; k++) sum -= a[rowI + k]! * a[rowJ + k]!;
      if (i === j) {
        if (!(sum > 0)) throw new RangeError(`covariance is not positive definite at value ${i} (pivot ${sum})`);
        a[rowI + i] = Math.sqrt(sum);
      } else {
        a[rowI + j] = sum / a[rowJ + j]!;
      }
    }
  }
  return a;
}

/**
 * Writes `count` draws z = μ + L·e into out (count×d from 0). Per image the rng gives the d unit
 * normals of e in order, so the same rng state gives the same noise.
 */
export function sampleCovarianceInto(stats: CovarianceStats, rng: Rng, count: number, out: Float32Array): void {
  const d = stats.mean.length;
  const e = new Float64Array(d);
  const { mean, cholesky } = stats;
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < d; k++) e[k] = rng.normal();
    const at = i * d;
    for (let r = 0; r < d; r++) {
      const row = (r * (r + 1)) / 2;
      let sum = mean[r]!;
      for (let c = 0; c <= r; c++) sum += cholesky[row + c]! * e[c]!;
      out[at + r] = sum;
    }
  }
}
