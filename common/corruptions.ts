// SPDX-License-Identifier: MIT
/**
 * @file Corruptions for the "global projector" demo (paper Fig. 5; docs/ign.md, "Corruptions"): IGN never sees them
 * in training, and f(corrupt(x)) should land back on the data manifold. One image C×H×W, values in
 * [-1, 1]; every function returns a new array and is deterministic given the rng.
 *
 * - noise:     x + n, n ~ N(0, 0.15²). Not clamped (the reproductions do not clamp either).
 * - mask:      an axis-aligned square with side round(min(H, W)/2) (≈ 25 % of a square image), at a
 *              uniformly random position fully inside the image, set to -1 (background / black) in
 *              every channel. Two rng.int draws: top, then left.
 * - sketch:    s(x) = g(x+1) / (GaussianBlur_k(g(x+1)) + 1e-10) − 1 with k = 21, σ = 3.5 and OpenCV's
 *              default border (reflect-101); g is the channel mean. The ratio is unbounded where the
 *              blur is near 0, so the result is clamped to [-1, 1] and replicated to every channel.
 * - grayscale: channel mean replicated to every channel (identity for 1-channel images).
 *
 * The projection benchmark's families are plain functions `(x, shape, rng, params) → x̃` (training
 * reuses them to make corrupted source samples), all in [-1, 1] pixel units:
 *
 * - gaussianNoise: x + σ·n, n ~ N(0, 1) per value, clipped to [-1, 1] unless `clip: false` (an image
 *                  a person sends cannot hold values outside the range). One rng.normal per value.
 * - impulseNoise:  salt and pepper: each pixel (all channels together) becomes +1 or −1 with
 *                  probability `rate`; a share `salt` (default ½) of those become +1 (salt), the rest
 *                  −1 (pepper). One rng.uniform per pixel, so a u below rate·salt is salt.
 * - occlusion:     a square patch of side `size` at a uniform position fully inside the image, set to
 *                  `value` (default −1, the background: strokes under it are erased).
 * - blur:          separable Gaussian blur with σ = `sigma`, k = 2·⌈3σ⌉ + 1 taps, reflect-101 border.
 */
import { assertImageLength, shapeSize, type ImageShape } from './fft.ts';
import type { Rng } from './rng.ts';

export const CORRUPTIONS = ['noise', 'mask', 'sketch', 'grayscale'] as const;
export type CorruptionKind = (typeof CORRUPTIONS)[number];

export const NOISE_STD = 0.15;
export const SKETCH_KERNEL_SIZE = 21;
/** OpenCV's σ for a given k: 0.3·((k−1)/2 − 1) + 0.8 = 3.5 for k = 21. */
export const SKETCH_SIGMA = 0.3 * ((SKETCH_KERNEL_SIZE - 1) / 2 - 1) + 0.8;
const SKETCH_EPSILON = 1e-10;
/** Background value the mask paints. */
export const MASK_VALUE = -1;

export function isCorruptionKind(value: string): value is CorruptionKind {
  return (CORRUPTIONS as readonly string[]).includes(value);
}

export function corrupt(kind: CorruptionKind, x: Float32Array, shape: ImageShape, rng: Rng): Float32Array {
  assertImageLength(x.length, shape);
  switch (kind) {
    case 'noise':
      return addNoise(x, rng);
    case 'mask':
      return maskSquare(x, shape, rng);
    case 'sketch':
      return sketch(x, shape);
    case 'grayscale':
      return replicate(channelMean(x, shape), shape);
  }
}

function addNoise(x: Float32Array, rng: Rng): Float32Array {
  return gaussianNoise(x, [1, 1, x.length], rng, { sigma: NOISE_STD, clip: false });
}

function maskSquare(x: Float32Array, shape: ImageShape, rng: Rng): Float32Array {
  return occlusion(x, shape, rng, { size: Math.round(Math.min(shape[1], shape[2]) / 2) });
}

/** A corruption family of the projection benchmark: a new image, deterministic given the rng. */
export type CorruptionFn<P> = (x: Float32Array, shape: ImageShape, rng: Rng, params: P) => Float32Array;

export interface GaussianNoiseParams {
  readonly sigma: number;
  /** Clip to [-1, 1] (default true). */
  readonly clip?: boolean;
}

export const gaussianNoise: CorruptionFn<GaussianNoiseParams> = (x, shape, rng, { sigma, clip = true }) => {
  assertImageLength(x.length, shape);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]! + sigma * rng.normal();
    out[i] = clip ? Math.min(1, Math.max(-1, v)) : v;
  }
  return out;
};

export const impulseNoise: CorruptionFn<{ readonly rate: number; readonly salt?: number }> = (x, shape, rng, { rate, salt = 0.5 }) => {
  assertImageLength(x.length, shape);
  const [channels, height, width] = shape;
  const plane = height * width;
  const out = Float32Array.from(x);
  for (let p = 0; p < plane; p++) {
    const u = rng.uniform();
    if (u >= rate) continue;
    const value = u < rate * salt ? 1 : -1;
    for (let c = 0; c < channels; c++) out[c * plane + p] = value;
  }
  return out;
};

export interface OcclusionParams {
  /** Side of the square patch in pixels (clamped to [1, min(H, W)]). */
  readonly size: number;
  /** Value painted (default −1, the background). */
  readonly value?: number;
}

export const occlusion: CorruptionFn<OcclusionParams> = (x, shape, rng, { size, value = MASK_VALUE }) => {
  assertImageLength(x.length, shape);
  const [channels, height, width] = shape;
  const side = Math.min(Math.max(1, Math.round(size)), height, width);
  const top = rng.int(height - side + 1);
  const left = rng.int(width - side + 1);
  const out = Float32Array.from(x);
  for (let c = 0; c < channels; c++) {
    for (let y = top; y < top + side; y++) {
      const row = (c * height + y) * width;
      out.fill(value, row + left, row + left + side);
    }
  }
  return out;
};

/** Blur is deterministic; it takes the rng only to share the family signature. */
export const blur: CorruptionFn<{ readonly sigma: number }> = (x, shape, _rng, { sigma }) => {
  assertImageLength(x.length, shape);
  const [channels, height, width] = shape;
  const plane = height * width;
  const k = 2 * Math.ceil(3 * sigma) + 1;
  const out = new Float32Array(x.length);
  for (let c = 0; c < channels; c++) {
    const blurred = gaussianBlur(Float64Array.from(x.subarray(c * plane, (c + 1) * plane)), height, width, k, sigma);
    out.set(blurred, c * plane);
  }
  return out;
};

/** Mean over channels, H×W. */
function channelMean(x: Float32Array, shape: ImageShape): Float64Array {
  const [channels, height, width] = shape;
  const plane = height * width;
  const mean = new Float64Array(plane);
  for (let c = 0; c < channels; c++) {
    for (let p = 0; p < plane; p++) mean[p] = mean[p]! + x[c * plane + p]!;
  }
  for (let p = 0; p < plane; p++) mean[p] = mean[p]! / channels;
  return mean;
}

function replicate(plane: Float64Array, shape: ImageShape): Float32Array {
  const out = new Float32Array(shapeSize(shape));
  for (let c = 0; c < shape[0]; c++) out.set(plane, c * plane.length);
  return out;
}

function sketch(x: Float32Array, shape: ImageShape): Float32Array {
  const [, height, width] = shape;
  // g(x + 1) = g(x) + 1: gray in [0, 2].
  const gray = channelMean(x, shape).map((v) => v + 1);
  const blurred = gaussianBlur(gray, height, width, SKETCH_KERNEL_SIZE, SKETCH_SIGMA);
  const s = new Float64Array(gray.length);
  for (let p = 0; p < gray.length; p++) {
    const ratio = gray[p]! / (blurred[p]! + SKETCH_EPSILON) - 1;
    s[p] = Math.min(1, Math.max(-1, ratio));
  }
  return replicate(s, shape);
}

/** Normalised 1-D Gaussian taps of odd length k. */
export function gaussianKernel(k: number, sigma: number): Float64Array {
  const taps = new Float64Array(k);
  const r = (k - 1) / 2;
  let total = 0;
  for (let i = 0; i < k; i++) {
    taps[i] = Math.exp(-((i - r) ** 2) / (2 * sigma * sigma));
    total += taps[i]!;
  }
  return taps.map((t) => t / total);
}

/** Reflect-101 index (…2 1 | 0 1 2 … n−1 | n−2 …), repeated for kernels wider than the image. */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** Separable Gaussian blur of one H×W plane. */
export function gaussianBlur(plane: Float64Array, height: number, width: number, k: number, sigma: number): Float64Array {
  const taps = gaussianKernel(k, sigma);
  const r = (k - 1) / 2;
  const horizontal = new Float64Array(plane.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let t = 0; t < k; t++) acc += taps[t]! * plane[y * width + reflect101(x + t - r, width)]!;
      horizontal[y * width + x] = acc;
    }
  }
  const out = new Float64Array(plane.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let t = 0; t < k; t++) acc += taps[t]! * horizontal[reflect101(y + t - r, height) * width + x]!;
      out[y * width + x] = acc;
    }
  }
  return out;
}
