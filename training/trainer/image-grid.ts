// SPDX-License-Identifier: MIT
/**
 * @file Image grids as PNG: rows of N×C×H×W float images in [-1, 1] (values outside are clipped,
 * e.g. raw noise z), tiled with a 2-pixel gutter, written with sharp.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp from 'sharp';

export interface GridRow {
  /** count×C×H×W, values in [-1, 1]. */
  images: Float32Array;
  count: number;
}

const GUTTER = 2;

/** Interleaved uint8 pixels (H×W×C) of a grid: one row of tiles per entry of `rows`. */
export function gridPixels(
  rows: readonly GridRow[],
  shape: readonly [number, number, number],
): { data: Uint8Array; width: number; height: number } {
  const [c, h, w] = shape;
  const cols = Math.max(...rows.map((r) => r.count));
  const width = cols * (w + GUTTER) + GUTTER;
  const height = rows.length * (h + GUTTER) + GUTTER;
  const data = new Uint8Array(width * height * c).fill(255);
  rows.forEach((row, r) => {
    for (let k = 0; k < row.count; k++) {
      const top = GUTTER + r * (h + GUTTER);
      const left = GUTTER + k * (w + GUTTER);
      for (let ch = 0; ch < c; ch++) {
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const v = row.images[((k * c + ch) * h + y) * w + x]!;
            data[((top + y) * width + left + x) * c + ch] = Math.round((Math.min(1, Math.max(-1, v)) + 1) * 127.5);
          }
        }
      }
    }
  });
  return { data, width, height };
}

export async function writeGridPng(path: string, rows: readonly GridRow[], shape: readonly [number, number, number]): Promise<void> {
  const { data, width, height } = gridPixels(rows, shape);
  await mkdir(dirname(path), { recursive: true });
  await sharp(data, { raw: { width, height, channels: shape[0] as 1 | 3 } })
    .png()
    .toFile(path);
}
