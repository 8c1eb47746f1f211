// SPDX-License-Identifier: MIT
/**
 * @file Worker thread of NoiseSampler: draws z for /generate off the event loop. The Fourier
 * statistics of every model arrive once in workerData; each request names its model, the noise
 * spec, the seed and the count, and gets back exactly what sampleNoise on the main thread returns.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { sampleNoise } from '../common/noise.ts';
import { Rng } from '../common/rng.ts';
import type { NoiseRequest, NoiseWorkerData } from './noise-sampler.ts';

const data = workerData as NoiseWorkerData;
parentPort!.on('message', (req: NoiseRequest) => {
  try {
    const stats = data.stats[req.model] ?? null;
    const z = sampleNoise(req.spec, stats, req.shape, new Rng(req.seed), req.count);
    parentPort!.postMessage({ id: req.id, z }, [z.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) });
  }
});
parentPort!.postMessage({ ready: true });
