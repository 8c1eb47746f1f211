// SPDX-License-Identifier: MIT
/**
 * @file The mixture source distribution: a fraction p of each z batch is a corrupted training image
 * instead of noise. Only L_idem and L_tight see z, so these samples teach f to send corrupted
 * digits onto the manifold (f(f(x̃)) = f(x̃)) while the tightness term keeps the manifold from
 * growing around them. There is never a (x̃, x) target: f is not a denoising autoencoder.
 *
 * Each corrupted sample picks one family uniformly, with its strength drawn uniformly:
 *   gaussian  x + σ·n, σ ∈ [0.1, 0.9]           impulse  a fraction r ∈ [0.05, 0.4] of pixels → ±1
 *   occlusion a square of side s ∈ [6, 14] px (at most the image) filled with −1, +1 or noise
 *   blur      Gaussian blur, σ ∈ [0.6, blurMax] (default 2)   affine   shift ±4 px, scale ∈ [0.75, 1.25] about the centre
 *   clean     the image itself (idempotence on data: f(f(x)) = f(x))
 * Source images come from their own random indices (the step's rng), not from the x batch.
 * With `clip`, every mixture sample is clipped to the image range [-1, 1], as any image a user sends
 * is (only Gaussian noise leaves it): unclipped noise is zero-mean, clipped noise brightens the
 * background, and f should have seen the latter.
 */
import type { ImageShape } from '../../common/fft.ts';
import { shapeSize } from '../../common/fft.ts';
import { gaussianBlur } from '../../common/corruptions.ts';
import { Rng } from '../../common/rng.ts';
import type { BatchSource } from './batches.ts';

export const SOURCE_FAMILIES = ['gaussian', 'impulse', 'occlusion', 'blur', 'affine', 'clean'] as const;
export type SourceFamily = (typeof SOURCE_FAMILIES)[number];

/** Largest integer weight `--source-weights` gives a family. */
export const MAX_SOURCE_WEIGHT = 8;

/**
 * The list a mixture row draws its family from, uniformly: each family repeated by its integer
 * weight (default 1; 0 leaves it out), in SOURCE_FAMILIES order. All weights 1 gives SOURCE_FAMILIES
 * itself, so the default draws exactly what runs before the weights drew.
 */
export function sourceFamilyDraws(weights: Readonly<Partial<Record<SourceFamily, number>>>): SourceFamily[] {
  return SOURCE_FAMILIES.flatMap((family) => Array.from({ length: weights[family] ?? 1 }, () => family));
}

/** Smallest and default largest σ of the blur family; `--source-blur-max` moves the largest. */
export const BLUR_SIGMA_MIN = 0.6;
export const BLUR_SIGMA_MAX = 2;

/** A uniform draw from [lo, hi). */
export const between = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng.uniform();

/** One corrupted copy of image x (C×H×W in [-1, 1]) from `family`; blur σ is drawn from [BLUR_SIGMA_MIN, blurMax]. */
export function corruptSource(family: SourceFamily, x: Float32Array, shape: ImageShape, rng: Rng, blurMax = BLUR_SIGMA_MAX): Float32Array {
  const [c, h, w] = shape;
  const out = Float32Array.from(x);
  switch (family) {
    case 'gaussian': {
      const sigma = between(rng, 0.1, 0.9);
      for (let i = 0; i < out.length; i++) out[i] = out[i]! + sigma * rng.normal();
      return out;
    }
    case 'impulse': {
      const rate = between(rng, 0.05, 0.4);
      for (let p = 0; p < h * w; p++) {
        if (rng.uniform() >= rate) continue;
        const v = rng.uniform() < 0.5 ? -1 : 1;
        for (let ch = 0; ch < c; ch++) out[ch * h * w + p] = v;
      }
      return out;
    }
    case 'occlusion': {
      const side = Math.min(6 + rng.int(9), h, w);
      const top = rng.int(h - side + 1);
      const left = rng.int(w - side + 1);
      const fill = rng.int(3);
      for (let ch = 0; ch < c; ch++) {
        for (let y = top; y < top + side; y++) {
          for (let xx = left; xx < left + side; xx++) out[(ch * h + y) * w + xx] = fill === 0 ? -1 : fill === 1 ? 1 : rng.uniform() * 2 - 1;
        }
      }
      return out;
    }
    case 'blur': {
      const sigma = between(rng, BLUR_SIGMA_MIN, blurMax);
      const k = 2 * Math.ceil(3 * sigma) + 1;
      for (let ch = 0; ch < c; ch++) {
        const plane = Float64Array.from(x.subarray(ch * h * w, (ch + 1) * h * w));
        out.set(gaussianBlur(plane, h, w, k, sigma), ch * h * w);
      }
      return out;
    }
    case 'affine':
      return affine(x, shape, between(rng, 0.75, 1.25), between(rng, -4, 4), between(rng, -4, 4));
    case 'clean':
      return out;
  }
}

/**
 * Bilinear resampling about the image centre: rotate by `angle` radians (clockwise on screen, y
 * pointing down), scale by s, then shift (dx, dy); outside → −1. Each output pixel p reads the
 * input at R(−angle)·(p − centre − d)/s + centre.
 */
export function affine(x: Float32Array, [c, h, w]: ImageShape, s: number, dx: number, dy: number, angle = 0): Float32Array {
  const out = new Float32Array(x.length).fill(-1);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const cos = Math.cos(angle) / s;
  const sin = Math.sin(angle) / s;
  for (let ch = 0; ch < c; ch++) {
    const base = ch * h * w;
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        const u = xx - cx - dx;
        const v = y - cy - dy;
        const sx = cos * u + sin * v + cx;
        const sy = -sin * u + cos * v + cy;
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const fx = sx - x0;
        const fy = sy - y0;
        const at = (yy: number, xc: number): number => (yy < 0 || yy >= h || xc < 0 || xc >= w ? -1 : x[base + yy * w + xc]!);
        out[base + y * w + xx] =
          (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
      }
    }
  }
  return out;
}

/** Number of z rows that are corrupted images for a batch of `batch` at mixture fraction p. */
export function sourceRows(p: number, batch: number): number {
  return Math.round(p * batch);
}

/**
 * L_tight's per-row weights for a z batch whose first sourceRows(p, batch) rows are mixture samples
 * weighted `sourceTight`; null when every weight is 1 (the graph then has no weighting at all).
 */
export function tightRowWeights(p: number, sourceTight: number, batch: number): number[] | null {
  const rows = sourceRows(p, batch);
  if (rows === 0 || sourceTight === 1) return null;
  return Array.from({ length: batch }, (_, i) => (i < rows ? sourceTight : 1));
}

/** `count` images of `source` at indices drawn uniformly (with replacement) from `rng`. */
function randomImages(source: BatchSource, count: number, rng: Rng): Float32Array {
  const indices = new Uint32Array(count);
  for (let i = 0; i < count; i++) indices[i] = rng.int(source.n);
  const out = new Float32Array(count * shapeSize(source.shape));
  source.gather(indices, out);
  return out;
}

/** How a mixture row is drawn: its family uniformly from `families` (sourceFamilyDraws), blur σ up to `blurMax`, clipped or not. */
export interface MixtureDraw {
  families: readonly SourceFamily[];
  blurMax: number;
  clip: boolean;
}

/** Every family once, blur σ up to BLUR_SIGMA_MAX, unclipped: the draw before any of its options existed. */
export const PLAIN_DRAW: MixtureDraw = { families: SOURCE_FAMILIES, blurMax: BLUR_SIGMA_MAX, clip: false };

/** The mixture fields of a training recipe (config.ts RecipeConfig); a card written before a field existed lacks it. */
export interface MixtureRecipe {
  sourceWeights?: Partial<Record<SourceFamily, number>>;
  sourceBlurMax?: number;
  sourceClip?: boolean;
}

/**
 * The draw of a recipe's mixture rows, shared by training (the noise prefetcher) and by the
 * calibrations that compose z as training did. Fields a recipe lacks take their defaults, except
 * clipping: a card without it predates the option and comes from a projector run, which clipped.
 */
export function mixtureDrawOf(recipe: MixtureRecipe | undefined): MixtureDraw {
  return {
    families: sourceFamilyDraws(recipe?.sourceWeights ?? {}),
    blurMax: recipe?.sourceBlurMax ?? BLUR_SIGMA_MAX,
    clip: recipe?.sourceClip ?? true,
  };
}

/**
 * Overwrites the first sourceRows(p, batch) images of z (batch×C×H×W) with corrupted training
 * images drawn at random from `source`, each as `draw` says (family, blur range, clipping).
 */
export function mixSources(z: Float32Array, p: number, batch: number, source: BatchSource, rng: Rng, draw: MixtureDraw = PLAIN_DRAW): void {
  const { families, blurMax, clip } = draw;
  const rows = sourceRows(p, batch);
  if (rows === 0) return;
  if (families.length === 0) throw new RangeError('the mixture needs at least one source family');
  const size = shapeSize(source.shape);
  const clean = randomImages(source, rows, rng);
  for (let i = 0; i < rows; i++) {
    const family = families[rng.int(families.length)]!;
    const sample = corruptSource(family, clean.subarray(i * size, (i + 1) * size), source.shape, rng, blurMax);
    if (clip) for (let k = 0; k < size; k++) sample[k] = Math.min(1, Math.max(-1, sample[k]!));
    z.set(sample, i * size);
  }
}

/** Range of the noise share α of a bridge row, z ← (1 − α)·x + α·z. */
export const BRIDGE_ALPHA = [0.5, 0.95] as const;

/**
 * Bridge rows (`--source-bridge q`): the sourceRows(q, batch) noise rows right after the
 * sourceRows(pMix, batch) mixture rows become (1 − α)·x + α·z, a random training image x faded into
 * that row's own noise, α uniform in BRIDGE_ALPHA. They connect each digit to the source noise
 * around it, so that where pure noise lands can follow the data's classes; like the mixture rows
 * they have no target (L_idem and L_tight only). q = 0 draws nothing from `rng`.
 */
export function bridgeSources(z: Float32Array, pMix: number, q: number, batch: number, source: BatchSource, rng: Rng): void {
  const rows = sourceRows(q, batch);
  if (rows === 0) return;
  const first = sourceRows(pMix, batch);
  if (first + rows > batch) throw new RangeError(`${first} mixture rows and ${rows} bridge rows do not fit a batch of ${batch}`);
  const size = shapeSize(source.shape);
  const images = randomImages(source, rows, rng);
  for (let i = 0; i < rows; i++) {
    const alpha = between(rng, BRIDGE_ALPHA[0], BRIDGE_ALPHA[1]);
    const row = (first + i) * size;
    for (let k = 0; k < size; k++) z[row + k] = (1 - alpha) * images[i * size + k]! + alpha * z[row + k]!;
  }
}

/** The serving calibration's default share of clean batches: they alternate with mixture batches. */
export const SERVING_CLEAN_SHARE = 0.5;

/**
 * Whether serving-calibration batch i is a mixture batch when a share `cleanShare` of the batches is
 * clean: batch i is mixture when ⌊(i + 1)(1 − q)⌋ > ⌊i(1 − q)⌋, which spreads the mixture batches
 * evenly and, at q = 0.5, makes the even batches clean and the odd ones mixture.
 */
export function isMixtureBatch(index: number, cleanShare: number): boolean {
  const m = 1 - cleanShare;
  return Math.floor((index + 1) * m + 1e-9) > Math.floor(index * m + 1e-9);
}

/**
 * Calibration batches for BatchNorm recalibration, at random indices of `source` drawn from one
 * seeded stream (batch i depends on the seed and on the batches before it). 'serving': what a
 * served projector is sent, clean images in a share `cleanShare` of the batches (default half: the
 * even ones) and mixture samples (every family, clipped to [-1, 1]) in the rest; 'clean': clean
 * images only.
 */
export function calibrationBatches(
  source: BatchSource,
  batch: number,
  seed: number,
  kind: 'serving' | 'clean',
  cleanShare = SERVING_CLEAN_SHARE,
): (index: number) => Float32Array {
  const rng = new Rng(seed);
  return (index) => {
    if (kind === 'clean' || !isMixtureBatch(index, cleanShare)) return randomImages(source, batch, rng);
    const out = new Float32Array(batch * shapeSize(source.shape));
    mixSources(out, 1, batch, source, rng, { ...PLAIN_DRAW, clip: true });
    return out;
  };
}
