// SPDX-License-Identifier: MIT
/**
 * @file Worker thread of NoisePrefetcher: draws the source noise of a requested step from that
 * step's own stream (noiseRng), so the result is the same as drawing it on the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { sampleNoise } from '../../common/noise.ts';
import { noiseRng } from './noise-stream.ts';
import type { NoiseJob } from './noise-prefetch.ts';

const job = workerData as NoiseJob;
parentPort!.on('message', (step: number) => {
  const z = sampleNoise(job.spec, job.stats, job.shape, noiseRng(job.seed, step), job.batch);
  parentPort!.postMessage({ step, z }, [z.buffer as ArrayBuffer]);
});
