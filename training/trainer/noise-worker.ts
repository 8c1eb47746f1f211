// SPDX-License-Identifier: MIT
/**
 * @file Worker thread of NoisePrefetcher: draws z of a requested step — that step's source noise
 * (noiseRng), then the mixture-source rows (sourceRng) — so the result is the same as drawing it
 * on the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { sampleNoise } from '../../common/noise.ts';
import { imageSource } from '../data/shared-images.ts';
import { mixSources } from '../data/source-mix.ts';
import { noiseRng, sourceRng } from './noise-stream.ts';
import type { NoiseJob } from './noise-prefetch.ts';

const job = workerData as NoiseJob;
const source = job.mix ? imageSource(job.mix.images) : null;
parentPort!.on('message', (step: number) => {
  const z = sampleNoise(job.spec, job.stats, job.shape, noiseRng(job.seed, step), job.batch);
  if (job.mix && source) mixSources(z, job.mix.p, job.batch, source, sourceRng(job.seed, step), job.mix.clip);
  parentPort!.postMessage({ step, z }, [z.buffer as ArrayBuffer]);
});
