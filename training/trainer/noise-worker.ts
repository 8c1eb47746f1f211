// SPDX-License-Identifier: MIT
/**
 * @file Worker thread of NoisePrefetcher: draws z of a requested step — that step's source noise
 * (noiseRng), then the mixture-source rows and the bridge rows (sourceRng) — so the result is the same as drawing it
 * on the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { sampleNoise } from '../../common/noise.ts';
import { imageSource } from '../data/shared-images.ts';
import { bridgeSources, mixSources } from '../data/source-mix.ts';
import { noiseRng, sourceRng } from './noise-stream.ts';
import type { NoiseJob } from './noise-prefetch.ts';

const job = workerData as NoiseJob;
const source = job.mix ? imageSource(job.mix.images) : null;
parentPort!.on('message', (step: number) => {
  const z = sampleNoise(job.spec, job.stats, job.shape, noiseRng(job.seed, step), job.batch);
  if (job.mix && source) {
    const rng = sourceRng(job.seed, step);
    mixSources(z, job.mix.p, job.batch, source, rng, job.mix.draw);
    bridgeSources(z, job.mix.p, job.mix.bridge, job.batch, source, rng);
  }
  parentPort!.postMessage({ step, z }, [z.buffer as ArrayBuffer]);
});
