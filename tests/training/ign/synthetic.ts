// SPDX-License-Identifier: MIT
/** A tiny synthetic dataset for trainer tests: filled rectangles (+1) on a −1 background. */
import { Rng } from '../../../common/rng.ts';
import type { Dataset } from '../../../training/data/dataset.ts';
import { imageSource, toShared, type SharedImages } from '../../../training/data/shared-images.ts';

export function rectangles(n: number, side: number, seed = 7): Dataset {
  const rng = new Rng(seed);
  const size = side * side;
  const images = new Float32Array(n * size).fill(-1);
  for (let i = 0; i < n; i++) {
    const w = 2 + rng.int(side - 3);
    const h = 2 + rng.int(side - 3);
    const left = rng.int(side - w + 1);
    const top = rng.int(side - h + 1);
    for (let y = top; y < top + h; y++) for (let x = left; x < left + w; x++) images[i * size + y * side + x] = 1;
  }
  const shared: SharedImages = { data: toShared(images), n, shape: [1, side, side] };
  return { name: `rectangles/${n}`, labels: null, skipped: [], images: shared, ...imageSource(shared) };
}
