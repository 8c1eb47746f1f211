// SPDX-License-Identifier: MIT
/**
 * @file What a job's input parts become in the thread that runs f: images are copied as they are,
 * noise draws are drawn there (the same `common/noise.ts` code training used, from the seed), so the
 * event loop never computes noise and a /generate request crosses to another thread once, not three
 * times. One function for the inference worker and for the in-process generators of the tests.
 */
import { concatFloat32 } from '../../common/concat.ts';
import { sampleNoise, straightPath, type NoiseStats } from '../../common/noise.ts';
import { Rng } from '../../common/rng.ts';
import type { InputPart, NoiseDraw } from './generator.ts';

/**
 * `count` images of `new Rng(seed)`'s stream; with `to`, the straight path between the first image
 * of each seed's stream, z_t = (1 − t)·z_seed + t·z_to at t = 0, 1/(count − 1), …, 1.
 */
export function drawNoise(draw: NoiseDraw, stats: NoiseStats | null): Float32Array {
  const sample = (seed: number, count: number): Float32Array => sampleNoise(draw.spec, stats, draw.shape, new Rng(seed), count);
  if (draw.to === undefined) return sample(draw.seed, draw.count);
  return straightPath(sample(draw.seed, 1), sample(draw.to, 1), draw.count);
}

/** The parts laid end to end as one N×C×H×W input. */
export function materialiseInput(parts: readonly InputPart[], stats: NoiseStats | null): Float32Array {
  const arrays = parts.map((p) => (p instanceof Float32Array ? p : drawNoise(p, stats)));
  return arrays.length === 1 ? arrays[0]! : concatFloat32(arrays);
}
