// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  choleskyPacked,
  computeCovarianceStats,
  COVARIANCE_JITTER,
  MAX_COVARIANCE_VALUES,
  packedLength,
  type CovarianceStats,
} from '../../common/covariance-noise.ts';
import { computeNoiseStats, sampleNoise, type ImageShape } from '../../common/noise.ts';
import { parseNoiseStats, serializeNoiseStats } from '../../common/noise-stats-file.ts';
import { Rng } from '../../common/rng.ts';

/** Images whose pixels co-vary: one random amplitude times a fixed pattern, plus a little pixel noise; pixel 0 never varies. */
function correlatedImages(count: number, d: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(count * d);
  for (let i = 0; i < count; i++) {
    const a = rng.normal();
    for (let k = 1; k < d; k++) out[i * d + k] = 0.3 * a * Math.cos(k) + 0.05 * rng.normal() + 0.1 * k;
    out[i * d] = -1;
  }
  return out;
}

/** Unpacks a packed lower triangle into a dense d×d matrix. */
function dense(packed: Float32Array | Float64Array, d: number): number[][] {
  return Array.from({ length: d }, (_, r) => Array.from({ length: d }, (_, c) => (c <= r ? packed[(r * (r + 1)) / 2 + c]! : 0)));
}

void test('choleskyPacked: a hand case and L·Lᵀ = A', () => {
  // A = [[4, 2], [2, 3]] → L = [[2, 0], [1, √2]].
  const l = choleskyPacked(Float64Array.from([4, 2, 3]), 2);
  assert.deepEqual(Array.from(l), [2, 1, Math.SQRT2]);
  assert.throws(() => choleskyPacked(Float64Array.from([1, 2, 1]), 2), /not positive definite at value 1/);
});

void test('computeCovarianceStats: the pixel mean, the unbiased covariance plus jitter, factored', () => {
  const d = 6;
  const n = 40;
  const images = correlatedImages(n, d, 1);
  const stats = computeCovarianceStats(images, n, [1, 2, 3]);
  assert.equal(stats.kind, 'covariance');
  assert.equal(stats.count, n);
  assert.equal(stats.cholesky.length, packedLength(d));
  const mean = Array.from({ length: d }, (_, k) => images.filter((_, j) => j % d === k).reduce((a, b) => a + b, 0) / n);
  mean.forEach((m, k) => {
    assert.ok(Math.abs(stats.mean[k]! - m) < 1e-6, `mean ${k}`);
  });
  const l = dense(stats.cholesky, d);
  for (let r = 0; r < d; r++) {
    for (let c = 0; c <= r; c++) {
      let want = 0;
      for (let i = 0; i < n; i++) want += (images[i * d + r]! - mean[r]!) * (images[i * d + c]! - mean[c]!);
      want = want / (n - 1) + (r === c ? COVARIANCE_JITTER : 0);
      const got = l[r]!.reduce((acc, v, k) => acc + v * l[c]![k]!, 0);
      assert.ok(Math.abs(got - want) < 1e-5 * Math.max(1, Math.abs(want)), `Σ[${r}][${c}] ${got} vs ${want}`);
    }
  }
  // The constant pixel keeps only the jitter's variance.
  assert.ok(Math.abs(stats.cholesky[0]! - Math.sqrt(COVARIANCE_JITTER)) < 1e-7);
});

void test('white noise of std s adds s² to the diagonal of the factored covariance, nothing else', () => {
  const images = correlatedImages(30, 6, 9);
  const plain = dense(computeCovarianceStats(images, 30, [1, 2, 3]).cholesky, 6);
  const white = dense(computeCovarianceStats(images, 30, [1, 2, 3], 0.5).cholesky, 6);
  const product = (l: number[][], r: number, c: number): number => l[r]!.reduce((acc, v, k) => acc + v * l[c]![k]!, 0);
  for (let r = 0; r < 6; r++) {
    for (let c = 0; c <= r; c++) {
      const want = product(plain, r, c) + (r === c ? 0.25 : 0);
      assert.ok(Math.abs(product(white, r, c) - want) < 1e-5, `Σ[${r}][${c}]`);
    }
  }
  assert.throws(() => computeCovarianceStats(images, 30, [1, 2, 3], -1), /white noise std must be ≥ 0/);
});

void test('covariance noise has the statistics’ mean and covariance, and the same seed gives the same noise', () => {
  const d = 4;
  const shape: ImageShape = [1, 2, 2];
  const stats = computeCovarianceStats(correlatedImages(200, d, 2), 200, shape);
  const count = 20_000;
  const z = sampleNoise({ kind: 'covariance' }, stats, shape, new Rng(3), count);
  assert.deepEqual(z, sampleNoise({ kind: 'covariance' }, stats, shape, new Rng(3), count));
  assert.notDeepEqual(z.subarray(0, d), sampleNoise({ kind: 'covariance' }, stats, shape, new Rng(4), 1));
  const l = dense(stats.cholesky, d);
  const sigma = (r: number, c: number): number => l[r]!.reduce((acc, v, k) => acc + v * l[c]![k]!, 0);
  const mean = Array.from({ length: d }, (_, k) => z.filter((_, j) => j % d === k).reduce((a, b) => a + b, 0) / count);
  for (let r = 0; r < d; r++) {
    // 5.5 standard errors of a mean and of a covariance estimate.
    assert.ok(Math.abs(mean[r]! - stats.mean[r]!) < (5.5 * Math.sqrt(sigma(r, r))) / Math.sqrt(count), `mean ${r}`);
    for (let c = 0; c <= r; c++) {
      let got = 0;
      for (let i = 0; i < count; i++) got += (z[i * d + r]! - mean[r]!) * (z[i * d + c]! - mean[c]!);
      got /= count - 1;
      const se = Math.sqrt((sigma(r, r) * sigma(c, c) + sigma(r, c) ** 2) / count);
      assert.ok(Math.abs(got - sigma(r, c)) < 5.5 * se, `cov[${r}][${c}] ${got} vs ${sigma(r, c)}`);
    }
  }
});

void test('covariance statistics round-trip through the statistics file bit for bit', () => {
  const stats = computeCovarianceStats(correlatedImages(30, 12, 5), 30, [3, 2, 2]);
  const bytes = serializeNoiseStats(stats);
  assert.equal(bytes.length % 4, 0);
  const back = parseNoiseStats(new Uint8Array(bytes)) as CovarianceStats;
  assert.deepEqual(back, stats);
  assert.throws(() => parseNoiseStats(bytes.subarray(0, bytes.length - 4)), /expected .* for covariance statistics of shape \[3, 2, 2\]/);
});

void test('covariance noise refuses large images, too few images and the wrong statistics', () => {
  const big: ImageShape = [1, 33, 32];
  assert.ok(33 * 32 > MAX_COVARIANCE_VALUES);
  assert.throws(() => computeCovarianceStats(new Float32Array(2 * 33 * 32), 2, big), /at most 1024 values.*use fourier/);
  assert.throws(() => computeCovarianceStats(new Float32Array(4), 1, [1, 2, 2]), /at least 2 images/);
  const shape: ImageShape = [1, 2, 2];
  const fourier = computeNoiseStats('fourier', correlatedImages(5, 4, 6), 5, shape);
  assert.throws(
    () => sampleNoise({ kind: 'covariance' }, fourier, shape, new Rng(1), 1),
    /covariance noise needs covariance statistics.*got fourier/,
  );
  assert.throws(() => sampleNoise({ kind: 'covariance' }, null, shape, new Rng(1), 1), /got none/);
  const stats = computeNoiseStats('covariance', correlatedImages(5, 4, 6), 5, shape)!;
  assert.throws(() => sampleNoise({ kind: 'covariance' }, stats, [1, 1, 4], new Rng(1), 1), /are for \[1, 2, 2\]/);
  assert.equal(computeNoiseStats('gaussian', new Float32Array(0), 0, shape), null);
});
