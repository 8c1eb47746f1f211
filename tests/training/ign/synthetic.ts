// SPDX-License-Identifier: MIT
/** A tiny synthetic dataset for trainer tests: filled rectangles (+1) on a −1 background. */
import { Rng } from '../../../common/rng.ts';
import type { Dataset } from '../../../training/data/dataset.ts';

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
  return {
    name: `rectangles/${n}`,
    n,
    shape: [1, side, side],
    labels: null,
    skipped: [],
    gather(indices, out) {
      for (let k = 0; k < indices.length; k++) out.set(images.subarray(indices[k]! * size, (indices[k]! + 1) * size), k * size);
    },
    slice: (start, end) => images.slice(start * size, end * size),
  };
}
