// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../common/rng.ts';
import { fitGaussian, frechetDistance, frechetDistanceOfFeatures } from '../../../training/eval/frechet.ts';
import { matmul, squareMatrix, sqrtPsd, symmetricEigen, type SquareMatrix } from '../../../training/eval/linalg.ts';

function randomSpd(n: number, rng: Rng): SquareMatrix {
  const b = squareMatrix(n);
  for (let i = 0; i < n * n; i++) b.data[i] = rng.normal();
  const bt = squareMatrix(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) bt.data[j * n + i] = b.data[i * n + j]!;
  return matmul(b, bt);
}

function assertClose(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);
}

const gaussian = (mean: number[], cov: number[]) => ({ mean: Float64Array.from(mean), cov: squareMatrix(mean.length, cov) });

void test('Jacobi eigen-decomposition satisfies A v = λ v with orthonormal vectors', () => {
  const n = 24;
  const a = randomSpd(n, new Rng(1));
  const { values, vectors } = symmetricEigen(a);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let j = 0; j < n; j++) av += a.data[i * n + j]! * vectors.data[j * n + k]!;
      assertClose(av, values[k]! * vectors.data[i * n + k]!, 1e-8 * (1 + Math.abs(values[k]!)), `row ${i} of A v_${k}`);
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += vectors.data[i * n + k]! ** 2;
    assertClose(norm, 1, 1e-10, `|v_${k}|²`);
  }
});

void test('sqrtPsd squares back to the matrix and is symmetric', () => {
  const n = 16;
  const a = randomSpd(n, new Rng(2));
  const root = sqrtPsd(a);
  const back = matmul(root, root);
  for (let i = 0; i < n * n; i++) assertClose(back.data[i]!, a.data[i]!, 1e-8 * n, `entry ${i}`);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) assert.equal(root.data[i * n + j], root.data[j * n + i]);
  // a hand case: [[2,1],[1,2]] has root ((√3+1)/2)·[[1,0],[0,1]] + ((√3−1)/2)·[[0,1],[1,0]]
  const hand = sqrtPsd(squareMatrix(2, [2, 1, 1, 2]));
  assertClose(hand.data[0]!, (Math.sqrt(3) + 1) / 2, 1e-12, 'diagonal');
  assertClose(hand.data[1]!, (Math.sqrt(3) - 1) / 2, 1e-12, 'off-diagonal');
});

void test('FD of identical Gaussians is 0', () => {
  const rng = new Rng(3);
  const cov = randomSpd(10, rng);
  const g = { mean: Float64Array.from({ length: 10 }, () => rng.normal()), cov };
  assertClose(frechetDistance(g, g), 0, 1e-8, 'FD(g, g)');
});

void test('1-D FD is (μ1 − μ2)² + (σ1 − σ2)²', () => {
  const fd = frechetDistance(gaussian([1.5], [4]), gaussian([-0.5], [0.25]));
  assertClose(fd, 2 ** 2 + (2 - 0.5) ** 2, 1e-12, '1-D FD');
});

void test('2×2 non-commuting covariances match the closed form', () => {
  // Σ1 = diag(1,4), Σ2 = [[2,1],[1,2]]: Σ1^½Σ2Σ1^½ = [[2,2],[2,8]], eigenvalues 5 ± √13, so
  // tr(root) = √(5+√13) + √(5−√13) = √(10 + 2√12); ‖μ1−μ2‖² = 1 + 4.
  const a = gaussian([0, 0], [1, 0, 0, 4]);
  const b = gaussian([1, 2], [2, 1, 1, 2]);
  const expected = 5 + 5 + 4 - 2 * Math.sqrt(10 + 2 * Math.sqrt(12));
  assertClose(frechetDistance(a, b), expected, 1e-12, 'FD(a, b)');
  assertClose(frechetDistance(b, a), expected, 1e-12, 'FD(b, a)');
});

void test('fitGaussian gives the unbiased covariance and FD of features separates shifted sets', () => {
  const fit = fitGaussian([1, 2, 3, 6], 2, 2);
  assert.deepEqual([...fit.mean], [2, 4]);
  assert.deepEqual([...fit.cov.data], [2, 4, 4, 8]);
  const rng = new Rng(4);
  const dim = 4;
  const count = 2000;
  const draw = (shift: number) => Float64Array.from({ length: count * dim }, () => rng.normal() + shift);
  const same = frechetDistanceOfFeatures(draw(0), count, draw(0), count, dim);
  const shifted = frechetDistanceOfFeatures(draw(0), count, draw(1), count, dim);
  assert.ok(same < 0.05, `same distribution FD ${same}`);
  assertClose(shifted, dim, 0.3, 'unit shift in 4 dims');
});
