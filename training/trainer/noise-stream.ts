// SPDX-License-Identifier: MIT
/**
 * @file Per-step random streams of a run. Noise, corrupted source images and augmented real rows
 * for step t come from their own streams, forked from the root seed, so resuming needs no RNG state and a worker thread
 * can draw step t's noise ahead of time with the same result.
 */
import { Rng } from '../../common/rng.ts';

export function noiseRng(seed: number, step: number): Rng {
  return new Rng(seed).fork(`noise/${step}`);
}

export function augmentRng(seed: number, step: number): Rng {
  return new Rng(seed).fork(`augment/${step}`);
}

export function sourceRng(seed: number, step: number): Rng {
  return new Rng(seed).fork(`source/${step}`);
}
