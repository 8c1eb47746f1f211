// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeFourierMixtureStats,
  kMeans,
  MAX_MIXTURE_COMPONENTS,
  mixtureOf,
  type FourierMixtureStats,
} from '../../common/fourier-mixture-noise.ts';
import { computeFourierStats, computeNoiseStats, sampleNoise, type ImageShape } from '../../common/noise.ts';
import { parseNoiseStats, serializeNoiseStats } from '../../common/noise-stats-file.ts';
import { Rng } from '../../common/rng.ts';

const SHAPE: ImageShape = [1, 4, 4];
const D = 16;

/** `counts[g]` images around level `levels[g]` (every pixel level + 0.05·noise), groups interleaved. */
function levelImages(levels: readonly number[], counts: readonly number[], seed: number): { images: Float32Array; group: number[] } {
  const rng = new Rng(seed);
  const group: number[] = [];
  const left = [...counts];
  while (left.some((c) => c > 0)) {
    levels.forEach((_, g) => {
      if (left[g]! > 0) [group[group.length], left[g]] = [g, left[g]! - 1];
    });
  }
  const images = new Float32Array(group.length * D);
  group.forEach((g, i) => {
    for (let k = 0; k < D; k++) images[i * D + k] = levels[g]! + 0.05 * rng.normal();
  });
  return { images, group };
}

void test('kMeans: separated clusters are found whatever their order, and the result depends only on the seed', () => {
  // Two 2-D clusters around (0, 0) and (10, 10), points interleaved.
  const points = Float32Array.from([0, 0, 10, 10, 0.5, 0, 10, 9.5, 0, 0.5, 9.5, 10]);
  const group = kMeans(points, 6, 2, 2, new Rng(3));
  assert.equal(group[0], group[2]);
  assert.equal(group[0], group[4]);
  assert.equal(group[1], group[3]);
  assert.equal(group[1], group[5]);
  assert.notEqual(group[0], group[1]);
  assert.deepEqual(Array.from(kMeans(points, 6, 2, 2, new Rng(3))), Array.from(group));
  assert.throws(() => kMeans(points, 6, 2, 7, new Rng(0)), /1 ≤ k ≤ 6/);
});

void test('computeFourierMixtureStats: one component per group, weighted by its share, with the Fourier statistics of its members', () => {
  const { images, group } = levelImages([-0.6, 0.1, 0.7], [12, 6, 6], 1);
  const stats = computeFourierMixtureStats(images, group.length, SHAPE, 3, computeFourierStats);
  assert.equal(stats.kind, 'fourier-mixture');
  assert.equal(stats.count, 24);
  assert.equal(stats.components.length, 3);
  for (const component of stats.components) {
    // The component's DC mean tells which level it holds: DC = Σ pixels = 16·level.
    const level = component.meanRe[0]! / D;
    const g = [-0.6, 0.1, 0.7].findIndex((l) => Math.abs(l - level) < 0.05);
    assert.ok(g >= 0, `component at level ${level}`);
    const members = group.flatMap((gi, i) => (gi === g ? [i] : []));
    const subset = new Float32Array(members.length * D);
    members.forEach((i, at) => {
      subset.set(images.subarray(i * D, (i + 1) * D), at * D);
    });
    const want = computeFourierStats(subset, members.length, SHAPE);
    assert.deepEqual(Array.from(component.meanRe), Array.from(want.meanRe));
    assert.deepEqual(Array.from(component.stdIm), Array.from(want.stdIm));
    const c = stats.components.indexOf(component);
    assert.ok(Math.abs(stats.weights[c]! - members.length / 24) < 1e-7);
  }
  assert.throws(() => computeFourierMixtureStats(images, 5, SHAPE, 3, computeFourierStats), /at least 6 images for 3 mixture components/);
  assert.throws(() => computeFourierMixtureStats(images, 24, SHAPE, MAX_MIXTURE_COMPONENTS + 1, computeFourierStats), /1 to 64 components/);
});

void test('sampleNoise fourier-mixture: one uniform picks the component, then that component draws exactly as Fourier noise does', () => {
  const { images } = levelImages([-0.6, 0.7], [20, 20], 2);
  const stats = computeNoiseStats('fourier-mixture', images, 40, SHAPE, { mixtureComponents: 2 }) as FourierMixtureStats;
  for (const seed of [1, 2, 3, 4, 5]) {
    const got = sampleNoise({ kind: 'fourier-mixture' }, stats, SHAPE, new Rng(seed), 1);
    const rng = new Rng(seed);
    const u = rng.uniform();
    const component = stats.components[u < stats.weights[0]! ? 0 : 1]!;
    const want = sampleNoise({ kind: 'fourier' }, component, SHAPE, rng, 1);
    assert.deepEqual(Array.from(got), Array.from(want), `seed ${seed}`);
  }
});

void test('sampleNoise fourier-mixture: components are drawn in proportion to their weights (within 5 standard errors)', () => {
  const { images } = levelImages([-0.6, 0.7], [30, 10], 3);
  const stats = computeNoiseStats('fourier-mixture', images, 40, SHAPE, { mixtureComponents: 2 }) as FourierMixtureStats;
  const count = 4000;
  const z = sampleNoise({ kind: 'fourier-mixture' }, stats, SHAPE, new Rng(9), count);
  let low = 0;
  for (let i = 0; i < count; i++) {
    let mean = 0;
    for (let k = 0; k < D; k++) mean += z[i * D + k]! / D;
    if (mean < 0) low++;
  }
  const p = stats.weights[stats.components.findIndex((c) => c.meanRe[0]! < 0)]!;
  assert.ok(Math.abs(p - 0.75) < 1e-6);
  const se = Math.sqrt((p * (1 - p)) / count);
  assert.ok(Math.abs(low / count - p) < 5 * se, `share ${low / count} vs ${p}`);
});

void test('Fourier-mixture statistics file: round trip bit for bit; bad weights and component counts are refused', () => {
  const { images } = levelImages([-0.6, 0.1, 0.7], [8, 8, 8], 4);
  const stats = computeNoiseStats('fourier-mixture', images, 24, SHAPE, { mixtureComponents: 3 }) as FourierMixtureStats;
  const bytes = serializeNoiseStats(stats);
  const back = parseNoiseStats(bytes) as FourierMixtureStats;
  assert.equal(back.kind, 'fourier-mixture');
  assert.deepEqual(Array.from(back.weights), Array.from(stats.weights));
  back.components.forEach((c, k) => {
    assert.deepEqual(Array.from(c.meanRe), Array.from(stats.components[k]!.meanRe));
    assert.deepEqual(Array.from(c.stdRe), Array.from(stats.components[k]!.stdRe));
    assert.deepEqual(Array.from(c.meanIm), Array.from(stats.components[k]!.meanIm));
    assert.deepEqual(Array.from(c.stdIm), Array.from(stats.components[k]!.stdIm));
  });
  assert.deepEqual(serializeNoiseStats(back), bytes);
  const skewed = mixtureOf(SHAPE, 24, Float32Array.from([0.5, 0.2, 0.2]), stats.components);
  assert.throws(() => parseNoiseStats(serializeNoiseStats(skewed)), /weights must be ≥ 0 and sum to 1/);
  const text = bytes.toString('latin1').replace('"components":3', '"components":0');
  assert.throws(() => parseNoiseStats(Buffer.from(text, 'latin1')), /invalid component count/);
});
