// SPDX-License-Identifier: MIT
/**
 * @file Fourier-mixture source noise (docs/ign.md, "Noise"): the training images are split into K
 * groups by k-means on their pixels, and each group gets its own Fourier statistics. A draw picks a
 * group with probability equal to its share of the images, then samples Fourier noise from that
 * group's statistics exactly as `fourier` noise does from the whole set's. No labels are used and no
 * image is stored: per group only its share and its per-frequency means and stds.
 *
 * Why: one set of Fourier statistics has one mean spectrum, so every z carries the same mean-digit
 * blob and f's basins favour the classes that blob resembles (on MNIST 0, 1, 7, 8, 9; 2s and 5s
 * below 2 % of samples). Groups found by k-means on MNIST follow the digit shapes, so z now carries
 * one of K group means (a blurred digit shape of that group) under the group's own texture, and the
 * draws cover the groups in their data proportions.
 *
 * k-means: k-means++ seeding from a fixed seed (KMEANS_SEED, so the statistics depend only on the
 * images), then Lloyd iterations until no image changes group or KMEANS_MAX_ITERATIONS.
 */
import { assertImageShape, shapeSize, type ImageShape } from './image-shape.ts';
import { Rng } from './rng.ts';
import type { FourierStats } from './noise.ts';

/**
 * Default number of groups. MNIST has ten classes, but k-means on pixels does not know that: with 10
 * groups it merges 4s, 7s and 9s and 3s with 5s, and splits 0s and 1s; with 20 every digit has a
 * group of its own.
 */
export const DEFAULT_MIXTURE_COMPONENTS = 20;
/** Largest K a run or a statistics file may ask for. */
export const MAX_MIXTURE_COMPONENTS = 64;
/** Training images the groups and their statistics are estimated from. */
export const DEFAULT_MIXTURE_IMAGES = 5000;
export const KMEANS_SEED = 0;
export const KMEANS_MAX_ITERATIONS = 50;

export interface FourierMixtureStats {
  readonly kind: 'fourier-mixture';
  readonly shape: ImageShape;
  /** Number of images the statistics were estimated from. */
  readonly count: number;
  /** Share of the images in each group (sums to 1); a draw picks group k with probability weights[k]. */
  readonly weights: Float32Array;
  /** Every group's Fourier statistics laid end to end, K·C·H·W each (the file's layout). */
  readonly meanRe: Float32Array;
  readonly stdRe: Float32Array;
  readonly meanIm: Float32Array;
  readonly stdIm: Float32Array;
  /** Group k's Fourier statistics: views into the four arrays above (their `count` is the mixture's). */
  readonly components: readonly FourierStats[];
}

/** Lloyd's k-means on n points of dimension d (row-major), k-means++ seeded by `rng`: the group of each point. */
export function kMeans(points: Float32Array, n: number, d: number, k: number, rng: Rng, maxIterations = KMEANS_MAX_ITERATIONS): Int32Array {
  if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`k-means needs 1 ≤ k ≤ ${n} groups, got ${k}`);
  const centres = new Float64Array(k * d);
  const nearest = new Float64Array(n).fill(Infinity);
  const setCentre = (c: number, i: number): void => {
    for (let j = 0; j < d; j++) centres[c * d + j] = points[i * d + j]!;
  };
  const distance = (i: number, c: number): number => {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const diff = points[i * d + j]! - centres[c * d + j]!;
      s += diff * diff;
    }
    return s;
  };
  // k-means++: each next centre is a point drawn with probability ∝ its squared distance to the nearest centre so far.
  setCentre(0, rng.int(n));
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      nearest[i] = Math.min(nearest[i]!, distance(i, c - 1));
      total += nearest[i]!;
    }
    let target = rng.uniform() * total;
    let chosen = n - 1;
    for (let i = 0; i < n; i++) {
      target -= nearest[i]!;
      if (target < 0) {
        chosen = i;
        break;
      }
    }
    setCentre(c, chosen);
  }
  const group = new Int32Array(n).fill(-1);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestDistance = Infinity;
      for (let c = 0; c < k; c++) {
        const dist = distance(i, c);
        if (dist < bestDistance) [best, bestDistance] = [c, dist];
      }
      if (group[i] !== best) [group[i], changed] = [best, changed + 1];
    }
    if (changed === 0) break;
    const sizes = new Float64Array(k);
    const sums = new Float64Array(k * d);
    for (let i = 0; i < n; i++) {
      const c = group[i]!;
      sizes[c] = sizes[c]! + 1;
      for (let j = 0; j < d; j++) sums[c * d + j] = sums[c * d + j]! + points[i * d + j]!;
    }
    // An emptied group keeps its centre (it can win points back next round).
    for (let c = 0; c < k; c++) if (sizes[c]! > 0) for (let j = 0; j < d; j++) centres[c * d + j] = sums[c * d + j]! / sizes[c]!;
  }
  return group;
}

/**
 * Groups the first n images (n×C×H×W) by k-means on their pixels and computes each group's Fourier
 * statistics with `fourierStats`; groups of fewer than two images are dropped (their share goes to
 * the others), so K may come out smaller than asked.
 */
export function computeFourierMixtureStats(
  images: Float32Array,
  n: number,
  shape: ImageShape,
  k: number,
  fourierStats: (images: Float32Array, n: number, shape: ImageShape) => FourierStats,
): FourierMixtureStats {
  assertImageShape(shape);
  const d = shapeSize(shape);
  if (!Number.isInteger(k) || k < 1 || k > MAX_MIXTURE_COMPONENTS) {
    throw new RangeError(`a Fourier mixture has 1 to ${MAX_MIXTURE_COMPONENTS} components, got ${k}`);
  }
  if (!Number.isInteger(n) || n < 2 * k) throw new RangeError(`need at least ${2 * k} images for ${k} mixture components, got ${n}`);
  if (images.length < n * d)
    throw new RangeError(`images hold ${Math.floor(images.length / d)} images of [${shape.join(', ')}], asked for ${n}`);
  const group = kMeans(images.subarray(0, n * d), n, d, k, new Rng(KMEANS_SEED));
  const members = Array.from({ length: k }, () => [] as number[]);
  group.forEach((g, i) => {
    members[g]!.push(i);
  });
  const kept = members.filter((m) => m.length >= 2);
  const used = kept.reduce((sum, m) => sum + m.length, 0);
  const components = kept.map((m) => {
    const subset = new Float32Array(m.length * d);
    m.forEach((i, at) => {
      subset.set(images.subarray(i * d, (i + 1) * d), at * d);
    });
    return fourierStats(subset, m.length, shape);
  });
  return mixtureOf(
    shape,
    n,
    Float32Array.from(kept, (m) => m.length / used),
    components,
  );
}

/** A mixture whose component arrays are views into one K·d array per statistic (the file's layout). */
export function mixtureOf(
  shape: ImageShape,
  count: number,
  weights: Float32Array,
  components: readonly FourierStats[],
): FourierMixtureStats {
  const d = shapeSize(shape);
  const joined = (pick: (s: FourierStats) => Float32Array): Float32Array => {
    const all = new Float32Array(components.length * d);
    components.forEach((s, c) => {
      all.set(pick(s), c * d);
    });
    return all;
  };
  const [meanRe, stdRe, meanIm, stdIm] = [joined((s) => s.meanRe), joined((s) => s.stdRe), joined((s) => s.meanIm), joined((s) => s.stdIm)];
  return mixtureFromArrays(shape, count, weights, { meanRe, stdRe, meanIm, stdIm });
}

/** The mixture over K·d arrays as laid out in the statistics file. */
export function mixtureFromArrays(
  shape: ImageShape,
  count: number,
  weights: Float32Array,
  arrays: { meanRe: Float32Array; stdRe: Float32Array; meanIm: Float32Array; stdIm: Float32Array },
): FourierMixtureStats {
  const d = shapeSize(shape);
  const view = (a: Float32Array, c: number): Float32Array => a.subarray(c * d, (c + 1) * d);
  const components = Array.from(weights, (_, c) => ({
    kind: 'fourier' as const,
    shape,
    count,
    meanRe: view(arrays.meanRe, c),
    stdRe: view(arrays.stdRe, c),
    meanIm: view(arrays.meanIm, c),
    stdIm: view(arrays.stdIm, c),
  }));
  return { kind: 'fourier-mixture', shape, count, weights, ...arrays, components };
}

/** The component a draw uses: one uniform from `rng` against the cumulative weights. */
export function pickComponent(stats: FourierMixtureStats, rng: Rng): FourierStats {
  let u = rng.uniform();
  const { weights, components } = stats;
  for (let c = 0; c < weights.length - 1; c++) {
    u -= weights[c]!;
    if (u < 0) return components[c]!;
  }
  return components[components.length - 1]!;
}
