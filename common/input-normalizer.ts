// SPDX-License-Identifier: MIT
/**
 * @file Brings an image as a person sends it (dark ink on a light page, off-centre, any size) to the
 * form of the training data declared by the model card's `inputConventions`. Pure TypeScript over
 * decoded pixels; the server (POST /project?normalize=auto) and the projection benchmark both call
 * it after the same decode (common/image-input.ts).
 *
 * Steps, in "ink" units (0 = background, 1 = full stroke):
 * 1. Polarity by the border: the median of the outer ring of the channel-mean plane is the
 *    page's level b. A page on the light side (b > ½) means dark strokes, else light strokes.
 * 2. Background (common/page-background.ts): the page's brightness B at each pixel (b itself for an
 *    evenly lit page; a fitted surface for a photographed one) and its noise σ (0 for a clean image).
 * 3. Ink: how far a pixel is from its background, beyond the noise: on a light page
 *    ink = (B − v − 3σ)/B, the share of the light the ink absorbs (uneven light cancels), on a dark
 *    page ink = v − B − 3σ. Levels: ink ← clamp(ink / peak, 0, 1) with peak the largest ink less
 *    3σ (in ink units; the darkest pixel of a noisy stroke lies about that far beyond the stroke), so
 *    paper becomes 0 and the strongest stroke 1. An absolute contrast (grey levels between the
 *    darkest stroke and its background, less 3σ) below MIN_CONTRAST (a blank page, a uniform
 *    image, noise alone) throws EmptyContentError. For an evenly lit, noiseless page this is
 *    (v − b)/(peak − b) in the page's ink direction, as it has always been.
 * 4. Content box: the bounding box of the pixels with ink ≥ CONTENT_THRESHOLD. For strokes on a dark
 *    frame, a box that is a light page (common/page-in-frame.ts) is cropped to and normalised on its own,
 *    from step 1 (a blank page is EmptyContentError); the steps below then run on that crop.
 * 5. Fit: the box is resized with its aspect kept so that it fits the declared content box (area
 *    averaging when shrinking, anti-aliased; linear when enlarging, common/resample.ts).
 * 6. Centre on the canvas: by centre of mass (the ink-weighted mean pixel position lands on
 *    (W/2, H/2) in pixel-index coordinates, whole-pixel shifts: MNIST's test digits have their
 *    mean centre of mass at (14.0, 14.0) of 28×28) or by the box ((W − w)/2, (H − h)/2);
 *    the offset is clamped so the fitted box stays inside the canvas.
 * 7. Map to the model's range: value = lo + (hi − lo)·ink for light-on-dark data, lo + (hi − lo)·(1 − ink)
 *    for dark-on-light data.
 */
import { shapeSize, type ImageShape } from './fft.ts';
import type { InputConventions } from './model-card.ts';
import { resizePlane } from './resample.ts';
import { concatFloat32 } from './concat.ts';
import { borderRing, estimateBackground, medianOf, type PageBackground } from './page-background.ts';
import { cropPlanes, pageInFrame, type Box } from './page-in-frame.ts';

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
  return normalize(pixels, shape, options, true);
}

/** `findPage`: look for a light page inside a dark frame (once: a page's crop is not searched again). */
function normalize(pixels: Float32Array, shape: ImageShape, options: NormalizeOptions, findPage: boolean): Float32Array {
  const [channels, height, width] = shape;
  const [tc, th, tw] = options.target;
  if (pixels.length !== shapeSize(shape)) throw new RangeError(`${pixels.length} values are not one [${shape.join(', ')}] image`);
  if (channels !== tc) throw new RangeError(`source has ${channels} channels, the model ${tc}`);
  const { conventions } = options;
  const [lo, hi] = options.range ?? [-1, 1];
  const plane = height * width;
  const gray = channelMean(pixels, channels, plane);
  const border = medianOf(borderRing(gray, height, width));
  const light = border > 0.5;
  const estimated = estimateBackground(gray, height, width, light, border);
  const flat: PageBackground = { level: border, noise: 0 };
  const fittedOrNoisy = estimated.level !== border || estimated.noise > 0;
  // A page the fit misread (content covering most of it) falls back to the one level it always had.
  const levels = inkLevels(gray, light, border, estimated) ?? (fittedOrNoisy ? inkLevels(gray, light, border, flat) : null);
  if (levels === null) throw new EmptyContentError(`the image has no content (contrast below ${MIN_CONTRAST})`);
  const ink = gray.map((v, p) => levels(p, v));
  const box = contentBox(ink, height, width);
  const page = findPage && !light && conventions.content === 'strokes' ? pageInFrame(ink, box, height, width) : null;
  if (page !== null) {
    const crop = cropPlanes(pixels, channels, height, width, page);
    try {
      return normalize(crop, [channels, page.height, page.width], options, false);
    } catch (err) {
      if (err instanceof EmptyContentError) throw new EmptyContentError(`the page in the image is blank (${err.message})`);
      throw err;
    }
  }
  const scale = Math.min(conventions.contentBox.width / box.width, conventions.contentBox.height / box.height);
  const fitW = Math.max(1, Math.min(tw, Math.round(box.width * scale)));
  const fitH = Math.max(1, Math.min(th, Math.round(box.height * scale)));
  const fitted: Float32Array[] = [];
  for (let c = 0; c < channels; c++) {
    const crop = new Float32Array(box.width * box.height);
    for (let y = 0; y < box.height; y++) {
      for (let x = 0; x < box.width; x++) {
        const p = (box.top + y) * width + box.left + x;
        crop[y * box.width + x] = levels(p, pixels[c * plane + p]!);
      }
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

/**
 * Pixel (index p, grey value v) → ink level in [0, 1] against `background` (step 3 above), or null
 * when the image's absolute contrast is under MIN_CONTRAST. `border` (the page's typical level)
 * turns the noise into ink units on a light page.
 */
function inkLevels(
  gray: Float32Array,
  light: boolean,
  border: number,
  { level, noise }: PageBackground,
): ((p: number, v: number) => number) | null {
  const backgroundAt = typeof level === 'number' ? () => level : (p: number) => level[p]!;
  // Grey levels toward the ink side of the pixel's background, less the noise floor.
  const beyond = (p: number, v: number): number => (light ? backgroundAt(p) - v : v - backgroundAt(p)) - 3 * noise;
  const ink = light ? (p: number, v: number) => beyond(p, v) / Math.max(backgroundAt(p), MIN_CONTRAST) : beyond;
  let contrast = 0;
  let peak = 0;
  for (let p = 0; p < gray.length; p++) {
    contrast = Math.max(contrast, beyond(p, gray[p]!));
    peak = Math.max(peak, ink(p, gray[p]!));
  }
  if (!(contrast >= MIN_CONTRAST)) return null;
  // Noise lifts the single darkest pixel above the stroke it sits in; the strokes' own level is about 3σ below.
  const strokeLevel = Math.max(peak / 2, peak - (3 * noise) / (light ? Math.max(border, MIN_CONTRAST) : 1));
  return (p, v) => Math.min(1, Math.max(0, ink(p, v) / strokeLevel));
}

function channelMean(pixels: Float32Array, channels: number, plane: number): Float32Array {
  if (channels === 1) return pixels.subarray(0, plane);
  const out = new Float32Array(plane);
  for (let c = 0; c < channels; c++) for (let p = 0; p < plane; p++) out[p] = out[p]! + pixels[c * plane + p]! / channels;
  return out;
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
