// SPDX-License-Identifier: MIT
/**
 * @file Images ↔ model tensors. Decoding trusts only the bytes: the format is sniffed from magic
 * numbers, libvips may load only PNG/JPEG/WebP buffers, the pixel count is checked from the header
 * before any decode, and errors are classified by the step that failed, never by libvips' message
 * text, which varies between runs and libvips versions.
 */
import sharp from 'sharp';
import { encodePngBytes } from '../common/png-encode.ts';
import { decodeImageToTensor, UndecodableImageError, type ValueRange } from '../common/image-input.ts';
import { EmptyContentError } from '../common/input-normalizer.ts';
import type { InputConventions } from '../common/model-card.ts';
import { HttpError } from './errors.ts';
import type { ImageShape } from '../common/image-shape.ts';

let sharpConfigured = false;

/** Process-wide libvips settings: loader allow-list, no cache, one libvips thread per op. */
export function configureSharp(): void {
  if (sharpConfigured) return;
  sharp.block({ operation: ['VipsForeignLoad'] });
  sharp.unblock({ operation: ['VipsForeignLoadPngBuffer', 'VipsForeignLoadJpegBuffer', 'VipsForeignLoadWebpBuffer'] });
  sharp.cache(false);
  sharp.concurrency(1);
  sharpConfigured = true;
}

export type SniffedFormat = 'png' | 'jpeg' | 'webp';

export function sniffImageFormat(bytes: Uint8Array): SniffedFormat | null {
  const starts = (sig: number[], at = 0): boolean => sig.every((b, i) => bytes[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (starts([0xff, 0xd8, 0xff])) return 'jpeg';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  return null;
}

const undecodable = (): HttpError =>
  new HttpError(422, 'undecodable_image', 'the image could not be decoded', { rejectReason: 'bad_image' });

/**
 * Decodes any PNG/JPEG/WebP into the model's C×H×W layout in `range` (common/image-input.ts: EXIF
 * orientation applied, alpha flattened onto black, or white under dark content, grey or sRGB), either resized to cover and
 * centre-cropped or, with `conventions`, normalised to the training data's form (422 empty_content
 * when there is nothing to normalise).
 */
export async function decodeToTensor(
  bytes: Buffer,
  shape: ImageShape,
  range: ValueRange,
  maxInputPixels: number,
  conventions: InputConventions | null = null,
): Promise<Float32Array> {
  if (bytes.length === 0) throw new HttpError(400, 'empty_file', 'the uploaded file is empty', { rejectReason: 'invalid' });
  if (sniffImageFormat(bytes) === null) {
    throw new HttpError(415, 'unsupported_image_type', 'only PNG, JPEG and WebP images are accepted', { rejectReason: 'bad_image' });
  }
  const header = await sharp(bytes, { limitInputPixels: false })
    .metadata()
    .catch(() => {
      throw undecodable();
    });
  const { width, height } = header;
  if (!(width > 0 && height > 0)) throw undecodable();
  if (width * height > maxInputPixels) {
    throw new HttpError(413, 'image_too_large', `image has ${width}×${height} pixels, more than ${maxInputPixels}`, {
      rejectReason: 'too_large',
    });
  }
  try {
    return await decodeImageToTensor(bytes, { target: shape, range, maxInputPixels, conventions });
  } catch (err) {
    if (err instanceof EmptyContentError)
      throw new HttpError(422, 'empty_content', 'the image has no content to project (blank or uniform)', { rejectReason: 'bad_image' });
    if (err instanceof UndecodableImageError) throw undecodable();
    throw err;
  }
}

function toByte(value: number, [lo, hi]: ValueRange): number {
  return Math.min(255, Math.max(0, Math.round(((value - lo) / (hi - lo)) * 255)));
}

/** Writes image `index` of an N×C×H×W tensor, interleaved, into `out` at pixel (x0, y0) of a canvas `stride` pixels wide. */
function blit(
  tensor: Float32Array,
  index: number,
  shape: ImageShape,
  range: ValueRange,
  out: Uint8Array,
  stride: number,
  x0: number,
  y0: number,
): void {
  const [channels, height, width] = shape;
  const plane = height * width;
  const base = index * channels * plane;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dst = ((y0 + y) * stride + x0 + x) * channels;
      for (let c = 0; c < channels; c++) out[dst + c] = toByte(tensor[base + c * plane + y * width + x]!, range);
    }
  }
}

function rawToPng(pixels: Uint8Array, width: number, height: number, channels: number): Promise<Buffer> {
  return encodePngBytes(pixels, width, height, channels as 1 | 3);
}

/** PNG of image `index` of an N×C×H×W tensor. */
export async function encodePng(tensor: Float32Array, index: number, shape: ImageShape, range: ValueRange): Promise<Buffer> {
  const [channels, height, width] = shape;
  const out = new Uint8Array(channels * height * width);
  blit(tensor, index, shape, range, out, width, 0, 0);
  return rawToPng(out, width, height, channels);
}

export const GRID_PADDING = 2;

/** All `count` images of a tensor as one PNG grid, ⌈√N⌉ columns, 2 px black gutters. */
export async function encodeGridPng(tensor: Float32Array, count: number, shape: ImageShape, range: ValueRange): Promise<Buffer> {
  const [channels, imageHeight, imageWidth] = shape;
  const cols = Math.ceil(Math.sqrt(count));
  const rows = Math.ceil(count / cols);
  const width = cols * imageWidth + (cols - 1) * GRID_PADDING;
  const height = rows * imageHeight + (rows - 1) * GRID_PADDING;
  const out = new Uint8Array(width * height * channels);
  for (let i = 0; i < count; i++) {
    const x0 = (i % cols) * (imageWidth + GRID_PADDING);
    const y0 = Math.floor(i / cols) * (imageHeight + GRID_PADDING);
    blit(tensor, i, shape, range, out, width, x0, y0);
  }
  return rawToPng(out, width, height, channels);
}
