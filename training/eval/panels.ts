// SPDX-License-Identifier: MIT
/**
 * @file The evaluation picture: labelled sections of image rows composed into one raw canvas
 * (grayscale for 1-channel models, RGB for 3), upscaled with nearest neighbour and written by sharp.
 * Labels go to the JSON/markdown key (`rowKey`), not into the pixels.
 */
import sharp from 'sharp';
import type { ImageShape } from '../../common/fft.ts';

export interface PanelRow {
  /** What the row shows, e.g. "f²(z)" or "noise σ=0.15: corrupted". */
  readonly label: string;
  /** Images of the row, each C×H×W in [-1, 1], concatenated. */
  readonly images: Float32Array;
}

export interface Canvas {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly pixels: Uint8Array;
  /** One line per row, top to bottom, "<row number>: <label>"; sections are separated by a wider gap. */
  readonly rowKey: string[];
}

const GAP = 2;
const SECTION_GAP = 8;
const BACKGROUND = 255;

/** Lays out `sections` (arrays of rows) with `columns` cells per row; short rows are left blank. */
export function composeCanvas(sections: readonly (readonly PanelRow[])[], shape: ImageShape, columns: number): Canvas {
  const [c, h, w] = shape;
  if (c !== 1 && c !== 3) throw new RangeError(`can only draw 1- or 3-channel images, got ${c}`);
  const rows = sections.flat();
  const width = columns * (w + GAP) + GAP;
  const height = rows.length * (h + GAP) + GAP + Math.max(0, sections.length - 1) * SECTION_GAP;
  const pixels = new Uint8Array(width * height * c).fill(BACKGROUND);
  const rowKey: string[] = [];
  let top = GAP;
  sections.forEach((section, s) => {
    if (s > 0) top += SECTION_GAP;
    for (const row of section) {
      rowKey.push(`${rowKey.length + 1}: ${row.label}`);
      const count = Math.min(columns, row.images.length / (c * h * w));
      for (let k = 0; k < count; k++) drawImage(pixels, width, c, row.images, k, shape, top, GAP + k * (w + GAP));
      top += h + GAP;
    }
  });
  return { width, height, channels: c, pixels, rowKey };
}

/** Image k of `images` (CHW planes) into the interleaved canvas at (top, left); [-1, 1] → 0…255. */
function drawImage(
  pixels: Uint8Array,
  width: number,
  c: number,
  images: Float32Array,
  k: number,
  shape: ImageShape,
  top: number,
  left: number,
): void {
  const [, h, w] = shape;
  const base = k * c * h * w;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        const v = images[base + ch * h * w + y * w + x]!;
        pixels[((top + y) * width + left + x) * c + ch] = toByte(v);
      }
    }
  }
}

export function toByte(v: number): number {
  if (Number.isNaN(v)) return 0;
  return Math.max(0, Math.min(255, Math.round((v + 1) * 127.5)));
}

/** Writes the canvas as PNG, upscaled `scale`× with nearest-neighbour sampling. */
export async function writeCanvasPng(path: string, canvas: Canvas, scale: number): Promise<void> {
  await sharp(canvas.pixels, { raw: { width: canvas.width, height: canvas.height, channels: canvas.channels } })
    .resize(canvas.width * scale, canvas.height * scale, { kernel: 'nearest' })
    .png({ compressionLevel: 9 })
    .toFile(path);
}
