// SPDX-License-Identifier: MIT
/**
 * @file Brings an image as a person sends it (dark ink on a light page, off-centre, any size) to the
 * form of the training data declared by the model card's `inputConventions`. Pure TypeScript over
 * decoded pixels; the server (POST /project?normalize=auto) and the projection benchmark both call
 * it after the same decode (common/image-input.ts).
 *
 * Steps, in "ink" units (0 = background, 1 = full stroke):
 * 1. Polarity by the border: the median of the outer ring of the channel-mean plane is the
 *    background level b. A background on the light side (b > ½) means dark strokes: ink = 1 − v,
 *    else ink = v.
 * 2. Levels: ink ← clamp((ink − b_ink) / (peak − b_ink), 0, 1) with peak the largest ink value, so
 *    grey paper becomes 0 and the strongest stroke 1. A contrast peak − b_ink below MIN_CONTRAST
 *    (a blank page, a uniform image) throws EmptyContentError.
 * 3. Content box: the bounding box of the pixels with ink ≥ CONTENT_THRESHOLD.
 * 4. Fit: the box is resized with its aspect kept so that it fits the declared content box (area
 *    averaging when shrinking, anti-aliased; linear when enlarging, common/resample.ts).
 * 5. Centre on the canvas: by centre of mass (the ink-weighted mean pixel position lands on
 *    (W/2, H/2) in pixel-index coordinates, whole-pixel shifts: MNIST's test digits have their
 *    mean centre of mass at (14.0, 14.0) of 28×28) or by the box ((W − w)/2, (H − h)/2);
 *    the offset is clamped so the fitted box stays inside the canvas.
 * 6. Map to the model's range: value = lo + (hi − lo)·ink for light-on-dark data, lo + (hi − lo)·(1 − ink)
 *    for dark-on-light data.
 */
import { shapeSize, type ImageShape } from './fft.ts';
import type { InputConventions } from './model-card.ts';
import { resizePlane } from './resample.ts';
import { concatFloat32 } from './concat.ts';

/** Minimum ink contrast (in [0, 1] units, ≈ 38 of 255 grey levels) for an image to have content. */
export const MIN_CONTRAST = 0.15;
/** Ink level (after levels) that counts a pixel into the content box. */
export const CONTENT_THRESHOLD = 0.2;

/** The image has no content to normalise (blank, uniform, or too faint). Stable code for clients. */
export class EmptyContentError extends Error {
  override readonly name = 'EmptyContentError';
  readonly code = 'empty_content';
}

export interface NormalizeOptions {
  readonly conventions: InputConventions;
  /** Shape of the model's input (the canvas). Its channel count must equal the source's. */
  readonly target: ImageShape;
  /** Model value range, default [-1, 1]. */
  readonly range?: readonly [number, number];
}

/**
 * `pixels`: one planar C×H×W image in [0, 1] (as decoded, any size). Returns the C×h×w image in the
 * model's range that the model's training data would have held.
 */
export function normalizeInput(pixels: Float32Array, shape: ImageShape, options: NormalizeOptions): Float32Array {
  const [channels, height, width] = shape;
  const [tc, th, tw] = options.target;
  if (pixels.length !== shapeSize(shape)) throw new RangeError(`${pixels.length} values are not one [${shape.join(', ')}] image`);
  if (channels !== tc) throw new RangeError(`source has ${channels} channels, the model ${tc}`);
  const { conventions } = options;
  const [lo, hi] = options.range ?? [-1, 1];
  const plane = height * width;
  const gray = channelMean(pixels, channels, plane);
  const background = median(borderRing(gray, height, width));
  const lightBackground = background > 0.5;
  const toInk = (v: number): number => (lightBackground ? 1 - v : v);
  const backgroundInk = toInk(background);
  let peak = 0;
  for (let p = 0; p < plane; p++) peak = Math.max(peak, toInk(gray[p]!));
  const contrast = peak - backgroundInk;
  if (!(contrast >= MIN_CONTRAST))
    throw new EmptyContentError(`the image has no content (contrast ${contrast.toFixed(3)} < ${MIN_CONTRAST})`);
  const levels = (v: number): number => Math.min(1, Math.max(0, (toInk(v) - backgroundInk) / contrast));
  const box = contentBox(gray.map(levels), height, width);
  const scale = Math.min(conventions.contentBox.width / box.width, conventions.contentBox.height / box.height);
  const fitW = Math.max(1, Math.min(tw, Math.round(box.width * scale)));
  const fitH = Math.max(1, Math.min(th, Math.round(box.height * scale)));
  const fitted: Float32Array[] = [];
  for (let c = 0; c < channels; c++) {
    const crop = new Float32Array(box.width * box.height);
    for (let y = 0; y < box.height; y++) {
      for (let x = 0; x < box.width; x++) crop[y * box.width + x] = levels(pixels[c * plane + (box.top + y) * width + box.left + x]!);
    }
    fitted.push(resizePlane(crop, box.height, box.width, fitH, fitW));
  }
  const { left, top } = placement(channelMean(concatFloat32(fitted), channels, fitW * fitH), fitW, fitH, tw, th, conventions.centring);
  const out = new Float32Array(tc * th * tw);
  const inkToValue =
    conventions.polarity === 'light-on-dark' ? (ink: number) => lo + (hi - lo) * ink : (ink: number) => lo + (hi - lo) * (1 - ink);
  out.fill(inkToValue(0));
  for (let c = 0; c < tc; c++) {
    const f = fitted[c]!;
    for (let y = 0; y < fitH; y++) {
      for (let x = 0; x < fitW; x++) out[(c * th + top + y) * tw + left + x] = inkToValue(f[y * fitW + x]!);
    }
  }
  return out;
}

function channelMean(pixels: Float32Array, channels: number, plane: number): Float32Array {
  if (channels === 1) return pixels.subarray(0, plane);
  const out = new Float32Array(plane);
  for (let c = 0; c < channels; c++) for (let p = 0; p < plane; p++) out[p] = out[p]! + pixels[c * plane + p]! / channels;
  return out;
}

/** The outermost row and column on each side. */
function borderRing(gray: Float32Array, height: number, width: number): Float32Array {
  const values: number[] = [];
  for (let x = 0; x < width; x++) values.push(gray[x]!, gray[(height - 1) * width + x]!);
  for (let y = 1; y < height - 1; y++) values.push(gray[y * width]!, gray[y * width + width - 1]!);
  return Float32Array.from(values);
}

function median(values: Float32Array): number {
  const sorted = Float32Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Box {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

function contentBox(ink: Float32Array, height: number, width: number): Box {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x]! < CONTENT_THRESHOLD) continue;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  }
  // Levels map the peak to 1, so at least one pixel passes the threshold.
  if (x1 < 0) throw new EmptyContentError('the image has no content');
  return { left: x0, top: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

function placement(
  ink: Float32Array,
  w: number,
  h: number,
  canvasW: number,
  canvasH: number,
  centring: InputConventions['centring'],
): { left: number; top: number } {
  const clamp = (v: number, max: number): number => Math.min(max, Math.max(0, Math.round(v)));
  if (centring === 'box') return { left: clamp((canvasW - w) / 2, canvasW - w), top: clamp((canvasH - h) / 2, canvasH - h) };
  let total = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const m = ink[y * w + x]!;
      total += m;
      sx += m * x;
      sy += m * y;
    }
  }
  const cx = total > 0 ? sx / total : (w - 1) / 2;
  const cy = total > 0 ? sy / total : (h - 1) / 2;
  return { left: clamp(canvasW / 2 - cx, canvasW - w), top: clamp(canvasH / 2 - cy, canvasH - h) };
}
