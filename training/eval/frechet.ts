// SPDX-License-Identifier: MIT
/**
 * Fréchet distance between two Gaussians fitted to feature sets (the FID formula, here on our own
 * small classifier's features, so values are comparable only between runs using the same one):
 *
 *   FD = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½)
 *
 * (Σ₁^½ Σ₂ Σ₁^½) is symmetric PSD and has the same eigenvalues as Σ₁Σ₂, so its root's trace is
 * Σₖ √λₖ — symmetric eigenvalues suffice, no general sqrtm. Σ₁^½ needs eigenvectors and is computed
 * once per reference (`frechetReference`), so many distances to one reference cost one
 * eigenvalue problem each.
 */
import { matmul, squareMatrix, sqrtPsd, symmetricEigenvalues, trace, type SquareMatrix } from './linalg.ts';

export interface GaussianFit {
  readonly mean: Float64Array;
  /** Unbiased (n − 1) sample covariance, as numpy.cov / pytorch-fid use. */
  readonly cov: SquareMatrix;
  readonly count: number;
}

/** Mean and covariance of `count` row vectors of dimension `dim` stored contiguously. */
export function fitGaussian(features: ArrayLike<number>, count: number, dim: number): GaussianFit {
  if (count < 2) throw new RangeError(`need at least 2 feature vectors, got ${count}`);
  if (features.length < count * dim) throw new RangeError(`features hold ${features.length} values, need ${count * dim}`);
  const mean = new Float64Array(dim);
  for (let r = 0; r < count; r++) for (let j = 0; j < dim; j++) mean[j] = mean[j]! + features[r * dim + j]!;
  for (let j = 0; j < dim; j++) mean[j] = mean[j]! / count;
  const cov = squareMatrix(dim);
  const centred = new Float64Array(dim);
  for (let r = 0; r < count; r++) {
    for (let j = 0; j < dim; j++) centred[j] = features[r * dim + j]! - mean[j]!;
    for (let i = 0; i < dim; i++) {
      const ci = centred[i]!;
      for (let j = i; j < dim; j++) cov.data[i * dim + j] = cov.data[i * dim + j]! + ci * centred[j]!;
    }
  }
  for (let i = 0; i < dim; i++) {
    for (let j = i; j < dim; j++) {
      const c = cov.data[i * dim + j]! / (count - 1);
      cov.data[i * dim + j] = c;
      cov.data[j * dim + i] = c;
    }
  }
  return { mean, cov, count };
}

/** A Gaussian prepared as the first argument of many distances: its covariance's PSD root. */
export interface FrechetReference {
  readonly mean: Float64Array;
  readonly cov: SquareMatrix;
  readonly root: SquareMatrix;
}

export function frechetReference(fit: Pick<GaussianFit, 'mean' | 'cov'>): FrechetReference {
  return { mean: fit.mean, cov: fit.cov, root: sqrtPsd(fit.cov) };
}

/** FD between a prepared reference and a Gaussian given by mean and covariance. */
export function frechetDistanceTo(ref: FrechetReference, b: Pick<GaussianFit, 'mean' | 'cov'>): number {
  const dim = ref.mean.length;
  if (b.mean.length !== dim || ref.cov.n !== dim || b.cov.n !== dim) {
    throw new RangeError(`dimension mismatch: ${dim} vs ${b.mean.length}`);
  }
  let meanTerm = 0;
  for (let j = 0; j < dim; j++) meanTerm += (ref.mean[j]! - b.mean[j]!) ** 2;
  const inner = symmetrize(matmul(matmul(ref.root, b.cov), ref.root));
  let traceRoot = 0;
  for (const lambda of symmetricEigenvalues(inner)) traceRoot += Math.sqrt(Math.max(lambda, 0));
  // Rounding can leave a tiny negative value for identical inputs; FD is a squared distance.
  return Math.max(0, meanTerm + trace(ref.cov) + trace(b.cov) - 2 * traceRoot);
}

/** FD between two Gaussians given by mean and covariance. */
export function frechetDistance(a: Pick<GaussianFit, 'mean' | 'cov'>, b: Pick<GaussianFit, 'mean' | 'cov'>): number {
  return frechetDistanceTo(frechetReference(a), b);
}

/** FD between two feature sets (row vectors of dimension `dim`). */
export function frechetDistanceOfFeatures(a: ArrayLike<number>, countA: number, b: ArrayLike<number>, countB: number, dim: number): number {
  return frechetDistance(fitGaussian(a, countA, dim), fitGaussian(b, countB, dim));
}

function symmetrize(m: SquareMatrix): SquareMatrix {
  const { n, data } = m;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const s = (data[i * n + j]! + data[j * n + i]!) / 2;
      data[i * n + j] = s;
      data[j * n + i] = s;
    }
  }
  return m;
}
