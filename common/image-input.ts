// SPDX-License-Identifier: MIT
/**
 * @file An uploaded image's bytes → the model's input tensor, the one path the server's POST
 * /project and the projection benchmark's user-style inputs share. The caller has already checked
 * what it must about untrusted bytes (the server sniffs the format and bounds the pixel count from
 * the header first); here libvips decodes with EXIF orientation applied, alpha flattened onto
 * black (or onto white when what is visible is dark: dark ink drawn on a transparent canvas would
 * vanish on black), converted to grey (C = 1) or sRGB (C = 3), and then either
 *
 * - `conventions: null`: resized to cover the model's H×W and centre-cropped, or
 * - `conventions` given: shrunk (never enlarged) to fit NORMALIZE_MAX_SIDE_FACTOR × the model's
 *   size, so the pure-TypeScript normaliser (common/input-normalizer.ts) works on a bounded image,
 *   and normalised to the training data's conventions.
 *
 * Throws UndecodableImageError when libvips cannot decode, EmptyContentError (normaliser) when the
 * image has no content.
 */
import sharp from 'sharp';
import type { ImageShape } from './fft.ts';
import { normalizeInput } from './input-normalizer.ts';
import type { InputConventions } from './model-card.ts';

export type ValueRange = readonly [number, number];

/** The normaliser sees at most this many times the model's side (224 px for 28×28 MNIST). */
export const NORMALIZE_MAX_SIDE_FACTOR = 8;

export class UndecodableImageError extends Error {
  override readonly name = 'UndecodableImageError';
}

export interface DecodeOptions {
  readonly target: ImageShape;
  readonly range: ValueRange;
  /** libvips' own pixel limit (the caller has normally checked the header already). */
  readonly maxInputPixels: number;
  /** The card's conventions to normalise to, or null to resize-and-crop only. */
  readonly conventions: InputConventions | null;
}

/** Side of the thumbnail that decides the flatten colour of an image with alpha. */
const ALPHA_PROBE_SIDE = 64;

/**
 * The colour to flatten transparency onto: black, unless the visible pixels are dark on average
 * (mean luminance, weighted by alpha, below mid-grey), then white, so the content keeps its
 * contrast. Images without alpha never get here (flattening does nothing to them).
 */
async function flattenBackground(bytes: Uint8Array, maxInputPixels: number): Promise<string> {
  const input = sharp(bytes, { limitInputPixels: maxInputPixels, failOn: 'warning' });
  const meta = await input.metadata().catch(() => null);
  if (meta?.hasAlpha !== true) return '#000000';
  const { data, info } = await input
    .clone()
    .resize(ALPHA_PROBE_SIDE, ALPHA_PROBE_SIDE, { fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .ensureAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true })
    .catch(() => ({ data: null, info: null }));
  if (data === null || info.channels !== 4) return '#000000';
  let weight = 0;
  let luminance = 0;
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3]!;
    weight += a;
    luminance += a * (0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!);
  }
  return weight > 0 && luminance / weight < 128 ? '#ffffff' : '#000000';
}

export async function decodeImageToTensor(bytes: Uint8Array, options: DecodeOptions): Promise<Float32Array> {
  const [channels, height, width] = options.target;
  const background = await flattenBackground(bytes, options.maxInputPixels);
  const base = sharp(bytes, { limitInputPixels: options.maxInputPixels, sequentialRead: true, failOn: 'warning', autoOrient: true })
    .flatten({ background })
    .toColourspace(channels === 1 ? 'b-w' : 'srgb');
  const { conventions } = options;
  const side = NORMALIZE_MAX_SIDE_FACTOR * Math.max(height, width);
  const resized =
    conventions === null
      ? base.resize(width, height, { fit: 'cover', position: 'centre' })
      : base.resize(side, side, { fit: 'inside', withoutEnlargement: true });
  const { data, info } = await resized
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true })
    .catch(() => {
      throw new UndecodableImageError('the image could not be decoded');
    });
  if (info.channels !== channels) throw new UndecodableImageError(`decoded ${info.channels} channels, the model takes ${channels}`);
  if (conventions === null) {
    if (info.width !== width || info.height !== height) throw new UndecodableImageError('decoded size does not match the model');
    return interleavedToPlanar(data, [channels, height, width], options.range);
  }
  const shape: ImageShape = [channels, info.height, info.width];
  return normalizeInput(interleavedToPlanar(data, shape, [0, 1]), shape, { conventions, target: options.target, range: options.range });
}

/** H×W×C bytes → C×H×W floats mapped from [0, 255] to [lo, hi]. */
export function interleavedToPlanar(pixels: Uint8Array, [channels, height, width]: ImageShape, [lo, hi]: ValueRange): Float32Array {
  const plane = height * width;
  const out = new Float32Array(channels * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < channels; c++) out[c * plane + p] = lo + ((hi - lo) * pixels[p * channels + c]!) / 255;
  }
  return out;
}
