// SPDX-License-Identifier: MIT
/**
 * @file Source noise z for IGN (docs/ign.md, "Noise"), shared by training and the server so both draw
 * from the same distribution. `gaussian`: z ~ N(0, I). `fourier`: per-frequency statistics of the
 * real and imaginary parts of fft2 of real training images, sampled independently per element and
 * mapped back with z = Re(ifft2(F̃)), as the public reproductions do. The statistics are computed
 * once (first N training images) and saved beside the model (NOISE_STATS_FILE). `covariance`:
 * z ~ N(μ, Σ) with the pixel mean and full covariance of training images (covariance-noise.ts).
 * `fourier-mixture`: Fourier statistics per k-means group of training images, a group drawn per
 * image by its share (fourier-mixture-noise.ts).
 *
 * Note on the reproductions' recipe: F̃ is not Hermitian, so taking the real part halves the
 * variance of every non-self-conjugate frequency: fft2(z)[k] = (F̃[k] + conj F̃[−k]) / 2 has the
 * data's mean but std/√2 in both parts. At self-conjugate frequencies (DC and the Nyquist rows and
 * columns) the real part keeps the full std and the imaginary part is 0, as for real images. We keep
 * the recipe unchanged; tests check exactly these expectations.
 *
 * `hermitian: true` samples a Hermitian-symmetric spectrum instead, so z has the data's full
 * per-frequency variance: for each pair (k, −k) with unit normals a_k, b_k,
 *   F[k] = μ[k] + σ_re[k]·(a_k + a_−k)/√2 + i·σ_im[k]·(b_k − b_−k)/√2,
 * which gives F[−k] = conj F[k] (μ and σ of real images are themselves symmetric this way) and
 * Var Re F[k] = σ_re², Var Im F[k] = σ_im². At self-conjugate k, F[k] = μ_re[k] + σ_re[k]·a_k.
 */
import { fft2, shapeSize, assertImageShape, type ImageShape } from './fft.ts';
import { ifft2PairRealInto, ifft2RealInto, mirrorIndex } from './fft-real.ts';
import { computeCovarianceStats, DEFAULT_COVARIANCE_IMAGES, sampleCovarianceInto, type CovarianceStats } from './covariance-noise.ts';
import {
  computeFourierMixtureStats,
  DEFAULT_MIXTURE_COMPONENTS,
  DEFAULT_MIXTURE_IMAGES,
  pickComponent,
  type FourierMixtureStats,
} from './fourier-mixture-noise.ts';
import type { Rng } from './rng.ts';

export type { ImageShape } from './fft.ts';

export type NoiseKind = 'gaussian' | 'fourier' | 'covariance' | 'fourier-mixture';
export const NOISE_KINDS: readonly NoiseKind[] = ['gaussian', 'fourier', 'covariance', 'fourier-mixture'];
export interface NoiseSpec {
  readonly kind: NoiseKind;
  /** Fourier only: Hermitian-symmetric spectra (full variance); default false (the reproductions' recipe). */
  readonly hermitian?: boolean;
}

/** Statistics a noise kind samples from (gaussian needs none); the file format is noise-stats-file.ts. */
export type NoiseStats = FourierStats | CovarianceStats | FourierMixtureStats;

/** Default file name of serialized statistics, saved beside model.onnx. */
export const NOISE_STATS_FILE = 'noise-stats.bin';
/** Number of training images the statistics are estimated from (xyfJASON, cloneofsimo: ~1000). */
export const DEFAULT_FOURIER_IMAGES = 1000;

/** Per-frequency statistics; each array is C×H×W in fft2 layout. Std is the unbiased (n−1) one. */
export interface FourierStats {
  readonly kind: 'fourier';
  readonly shape: ImageShape;
  /** Number of images the statistics were estimated from. */
  readonly count: number;
  readonly meanRe: Float32Array;
  readonly stdRe: Float32Array;
  readonly meanIm: Float32Array;
  readonly stdIm: Float32Array;
}

/** Statistics of fft2 over the first n images of `images` (n×C×H×W, values in [-1, 1]). */
export function computeFourierStats(images: Float32Array, n: number, shape: ImageShape): FourierStats {
  assertImageShape(shape);
  const size = shapeSize(shape);
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`need at least 2 images for Fourier statistics, got ${n}`);
  if (images.length < n * size) {
    throw new RangeError(`images hold ${Math.floor(images.length / size)} images of [${shape.join(', ')}], asked for ${n}`);
  }
  const sum = [new Float64Array(size), new Float64Array(size)] as const;
  const sumSq = [new Float64Array(size), new Float64Array(size)] as const;
  for (let i = 0; i < n; i++) {
    const spectrum = fft2(images.subarray(i * size, (i + 1) * size), shape);
    accumulate(spectrum.re, sum[0], sumSq[0]);
    accumulate(spectrum.im, sum[1], sumSq[1]);
  }
  const [meanRe, stdRe] = meanAndStd(sum[0], sumSq[0], n);
  const [meanIm, stdIm] = meanAndStd(sum[1], sumSq[1], n);
  return { kind: 'fourier', shape: [shape[0], shape[1], shape[2]], count: n, meanRe, stdRe, meanIm, stdIm };
}

function accumulate(values: Float64Array, sum: Float64Array, sumSq: Float64Array): void {
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    sum[k] = sum[k]! + v;
    sumSq[k] = sumSq[k]! + v * v;
  }
}

function meanAndStd(sum: Float64Array, sumSq: Float64Array, n: number): [Float32Array, Float32Array] {
  const mean = new Float32Array(sum.length);
  const std = new Float32Array(sum.length);
  for (let k = 0; k < sum.length; k++) {
    const m = sum[k]! / n;
    // var = (Σv² − n·m²)/(n−1); clamp the rounding error of exactly-constant parts (e.g. Im at DC).
    const variance = Math.max(0, (sumSq[k]! - n * m * m) / (n - 1));
    mean[k] = m;
    std[k] = Math.sqrt(variance);
  }
  return [mean, std];
}

/**
 * Draws `count` noise images (count×C×H×W). The same rng state gives the same noise. Fourier
 * sampling draws, per image and element, the real then the imaginary part (a Fourier mixture first
 * one uniform per image for its component); covariance sampling the d unit normals of e per image.
 */
export function sampleNoise(spec: NoiseSpec, stats: NoiseStats | null, shape: ImageShape, rng: Rng, count: number): Float32Array {
  assertImageShape(shape);
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`noise count must be a non-negative integer, got ${count}`);
  const size = shapeSize(shape);
  const out = new Float32Array(count * size);
  if (spec.kind === 'gaussian') return rng.fillNormal(out);
  if (stats?.kind !== spec.kind)
    throw new Error(`${spec.kind} noise needs ${spec.kind} statistics (noise-stats), got ${stats ? stats.kind : 'none'}`);
  if (!sameShape(stats.shape, shape)) {
    throw new RangeError(`${spec.kind} statistics are for [${stats.shape.join(', ')}], noise asked for [${shape.join(', ')}]`);
  }
  if (stats.kind === 'covariance') {
    sampleCovarianceInto(stats, rng, count, out);
    return out;
  }
  // Two images per complex inverse transform (ifft2PairRealInto); an odd last image alone. The rng
  // is read image by image exactly as one image at a time would read it.
  // A single image (the usual /generate request) needs neither the mirror table nor a second buffer.
  const mirror = spec.hermitian || count > 1 ? mirrorIndex(shape) : null;
  const spectra = Array.from({ length: Math.min(2, count) }, () => ({ re: new Float64Array(size), im: new Float64Array(size) }));
  for (let i = 0; i < count; i += 2) {
    const pair = Math.min(2, count - i);
    for (let p = 0; p < pair; p++) {
      const component = stats.kind === 'fourier-mixture' ? pickComponent(stats, rng) : stats;
      drawSpectrum(spectra[p]!, component, spec.hermitian ? mirror : null, rng);
    }
    if (pair === 2) ifft2PairRealInto(spectra[0]!, spectra[1]!, shape, mirror!, out, i * size, (i + 1) * size);
    else ifft2RealInto(spectra[0]!.re, spectra[0]!.im, shape, out, i * size);
  }
  return out;
}

/** One spectrum μ + σ·(a + i·b): per element the real then the imaginary unit normal (Hermitian: paired). */
function drawSpectrum(into: { re: Float64Array; im: Float64Array }, stats: FourierStats, mirror: Uint32Array | null, rng: Rng): void {
  const { re, im } = into;
  for (let k = 0; k < re.length; k++) {
    re[k] = rng.normal();
    im[k] = rng.normal();
  }
  if (mirror) symmetrise(re, im, mirror);
  for (let k = 0; k < re.length; k++) {
    re[k] = stats.meanRe[k]! + stats.stdRe[k]! * re[k]!;
    im[k] = stats.meanIm[k]! + stats.stdIm[k]! * im[k]!;
  }
}

/** Variations of the data's statistics a run can ask for (docs/ign.md, "Research flags"). */
export interface NoiseStatsOptions {
  /** Covariance: std of white pixel noise added (computeCovarianceStats). Default 0. */
  readonly covarianceWhite?: number;
  /** Fourier: factor on the mean spectrum at every frequency but DC (withFourierMean). Default 1. */
  readonly fourierMean?: number;
  /** Fourier mixture: number of k-means groups. Default DEFAULT_MIXTURE_COMPONENTS. */
  readonly mixtureComponents?: number;
}

/** The statistics `kind` samples from, estimated from n images (n×C×H×W); null for gaussian. */
export function computeNoiseStats(
  kind: NoiseKind,
  images: Float32Array,
  n: number,
  shape: ImageShape,
  options: NoiseStatsOptions = {},
): NoiseStats | null {
  if (kind === 'gaussian') return null;
  if (kind === 'covariance') return computeCovarianceStats(images, n, shape, options.covarianceWhite ?? 0);
  if (kind === 'fourier-mixture') {
    return computeFourierMixtureStats(images, n, shape, options.mixtureComponents ?? DEFAULT_MIXTURE_COMPONENTS, computeFourierStats);
  }
  return withFourierMean(computeFourierStats(images, n, shape), options.fourierMean ?? 1);
}

/**
 * The statistics with the mean spectrum scaled by m at every frequency except DC (per channel): m = 1
 * is the data's, m = 0 keeps only each channel's mean level, so z loses the mean digit and keeps the
 * per-frequency spread.
 */
export function withFourierMean(stats: FourierStats, m: number): FourierStats {
  if (m === 1) return stats;
  const plane = stats.shape[1] * stats.shape[2]; // DC is element 0 of every channel's H×W spectrum
  const scale = (mean: Float32Array): Float32Array => mean.map((v, k) => (k % plane === 0 ? v : v * m));
  return { ...stats, meanRe: scale(stats.meanRe), meanIm: scale(stats.meanIm) };
}

/** How many leading training images the statistics of `kind` are estimated from (at most). */
export function noiseStatsImages(kind: NoiseKind): number {
  const images: Record<NoiseKind, number> = {
    gaussian: 0,
    fourier: DEFAULT_FOURIER_IMAGES,
    covariance: DEFAULT_COVARIANCE_IMAGES,
    'fourier-mixture': DEFAULT_MIXTURE_IMAGES,
  };
  return images[kind];
}

/**
 * `count` images on the straight path from image a to image b (same length), z_t = (1 − t)·a + t·b
 * at t = 0, 1/(count − 1), …, 1 (t = 0 alone when count is 1): noise interpolation, for /generate
 * and the evaluation's strips alike.
 */
export function straightPath(
  a: Float32Array,
  b: Float32Array,
  count: number,
  into = new Float32Array(count * a.length),
  offset = 0,
): Float32Array {
  const size = a.length;
  for (let i = 0; i < count; i++) {
    const t = count === 1 ? 0 : i / (count - 1);
    const at = offset + i * size;
    for (let j = 0; j < size; j++) into[at + j] = (1 - t) * a[j]! + t * b[j]!;
  }
  return into;
}

/** Unit normals (a, b) → the Hermitian pairing of the file comment, in place. */
function symmetrise(a: Float64Array, b: Float64Array, mirror: Uint32Array): void {
  for (let k = 0; k < a.length; k++) {
    const m = mirror[k]!;
    if (m === k) {
      b[k] = 0;
    } else if (m > k) {
      const re = (a[k]! + a[m]!) * Math.SQRT1_2;
      const im = (b[k]! - b[m]!) * Math.SQRT1_2;
      a[k] = re;
      a[m] = re;
      b[k] = im;
      b[m] = -im;
    }
  }
}

function sameShape(a: ImageShape, b: ImageShape): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}
