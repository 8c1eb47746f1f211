// SPDX-License-Identifier: MIT
/**
 * @file Augmented real rows (`--augment p`): a fraction p of each x batch is replaced by a variant of
 * the same training image that is still a clean example of its class — slightly rotated and
 * rescaled, or drawn with a thicker or thinner stroke — before L_rec asks f(x) = x of it. This
 * widens the set of images f must keep unchanged (the manifold) around each training digit; it is
 * not a denoising target: the row's input and its L_rec target are the same image.
 *
 * Each augmented row picks one family uniformly (among `--augment-families`, default all three):
 *   rotate   rotation by an angle uniform in ±ROTATE_MAX_DEG and scale uniform in SCALE_RANGE,
 *            about the image centre (bilinear; outside → −1)
 *   thicken  x + t·(dilate(x) − x), t uniform in STROKE_RANGE, dilate = grey-level maximum over
 *            the pixel and its 4 neighbours (light strokes on a dark ground grow by up to 1 px)
 *   thin     the same with the minimum (erosion)
 * Every value stays in the image's range: each family only resamples or takes max/min of inputs.
 */
import type { ImageShape } from '../../common/fft.ts';
import { shapeSize } from '../../common/fft.ts';
import type { Rng } from '../../common/rng.ts';
import { affine, between, sourceRows } from './source-mix.ts';

export const AUGMENT_FAMILIES = ['rotate', 'thicken', 'thin'] as const;
export type AugmentFamily = (typeof AUGMENT_FAMILIES)[number];

export const ROTATE_MAX_DEG = 12;
export const SCALE_RANGE = [0.9, 1.1] as const;
export const STROKE_RANGE = [0.3, 1] as const;

/** Grey-level max (`dilate`) or min of each pixel and its 4 neighbours, per channel. */
export function crossFilter(x: Float32Array, [c, h, w]: ImageShape, dilate: boolean): Float32Array {
  const out = new Float32Array(x.length);
  const pick = dilate ? Math.max : Math.min;
  for (let ch = 0; ch < c; ch++) {
    const base = ch * h * w;
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        const i = base + y * w + xx;
        let v = x[i]!;
        if (y > 0) v = pick(v, x[i - w]!);
        if (y < h - 1) v = pick(v, x[i + w]!);
        if (xx > 0) v = pick(v, x[i - 1]!);
        if (xx < w - 1) v = pick(v, x[i + 1]!);
        out[i] = v;
      }
    }
  }
  return out;
}

/** One augmented copy of image x (C×H×W in [-1, 1]) from `family`; x itself is not modified. */
export function augmentImage(family: AugmentFamily, x: Float32Array, shape: ImageShape, rng: Rng): Float32Array {
  if (family === 'rotate') {
    const angle = (between(rng, -ROTATE_MAX_DEG, ROTATE_MAX_DEG) * Math.PI) / 180;
    return affine(x, shape, between(rng, ...SCALE_RANGE), 0, 0, angle);
  }
  const t = between(rng, ...STROKE_RANGE);
  const filtered = crossFilter(x, shape, family === 'thicken');
  for (let i = 0; i < filtered.length; i++) filtered[i] = x[i]! + t * (filtered[i]! - x[i]!);
  return filtered;
}

/**
 * Replaces the first sourceRows(p, batch) images of the x batch (batch×C×H×W, in place) with
 * augmented copies of themselves. The batcher's permutation already makes those rows a random
 * choice of images; each row picks one of `families` uniformly; p = 0 draws nothing from `rng`.
 */
export function augmentRows(
  images: Float32Array,
  p: number,
  batch: number,
  shape: ImageShape,
  rng: Rng,
  families: readonly AugmentFamily[] = AUGMENT_FAMILIES,
): void {
  const rows = sourceRows(p, batch);
  const size = shapeSize(shape);
  for (let i = 0; i < rows; i++) {
    const family = families[rng.int(families.length)]!;
    const row = images.subarray(i * size, (i + 1) * size);
    row.set(augmentImage(family, row, shape, rng));
  }
}
