// SPDX-License-Identifier: MIT
/**
 * @file The classic denoiser baseline of the projection benchmark: a 3×3 median filter per channel,
 * the border replicated (edge pixels take the median of their clamped neighbourhood).
 */
import { shapeSize, type ImageShape } from '../../common/fft.ts';

/** 3×3 median of every image in a batch of `shape` images. */
export function medianFilter3x3(images: Float32Array, shape: ImageShape): Float32Array {
  const [channels, height, width] = shape;
  const size = shapeSize(shape);
  if (images.length % size !== 0) throw new RangeError(`${images.length} values are not whole images of [${shape.join(', ')}]`);
  const out = new Float32Array(images.length);
  const window = new Float32Array(9);
  const planes = (images.length / size) * channels;
  for (let p = 0; p < planes; p++) {
    const base = p * height * width;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let k = 0;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = Math.min(height - 1, Math.max(0, y + dy));
          for (let dx = -1; dx <= 1; dx++) {
            const xx = Math.min(width - 1, Math.max(0, x + dx));
            window[k++] = images[base + yy * width + xx]!;
          }
        }
        out[base + y * width + x] = median9(window);
      }
    }
  }
  return out;
}

/** Median of 9 values by insertion sort (the window is tiny; sorts in place). */
function median9(v: Float32Array): number {
  for (let i = 1; i < 9; i++) {
    const t = v[i]!;
    let j = i - 1;
    while (j >= 0 && v[j]! > t) {
      v[j + 1] = v[j]!;
      j--;
    }
    v[j + 1] = t;
  }
  return v[4]!;
}
