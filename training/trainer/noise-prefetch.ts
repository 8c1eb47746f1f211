// SPDX-License-Identifier: MIT
/**
 * @file Step inputs z drawn off the critical path. `session.run` holds the main thread for the whole
 * step, so the z of step t + 1 is drawn by a worker thread while step t runs: the source noise
 * (Fourier noise: an inverse FFT per image) and, with a mixture source, the corrupted training
 * images that replace its first rows (read from the dataset's shared memory, no copy). `take(t)`
 * returns step t's z and asks for t + 1 at once; the values are exactly those of drawing on the
 * main thread (noise and sources each have their own per-step stream).
 */
import { Worker } from 'node:worker_threads';
import type { NoiseStats, ImageShape, NoiseSpec } from '../../common/noise.ts';
import { workerEntry } from '../../common/worker-entry.ts';
import type { SharedImages } from '../data/shared-images.ts';
import type { MixtureDraw } from '../data/source-mix.ts';

/** The mixture source (see source-mix.ts): fraction p of z's rows from corrupted images, then a fraction `bridge` of bridge rows. */
export interface MixJob {
  p: number;
  /** How each mixture row is drawn (source-mix.ts mixtureDrawOf). */
  draw: MixtureDraw;
  bridge: number;
  images: SharedImages;
}

export interface NoiseJob {
  spec: NoiseSpec;
  stats: NoiseStats | null;
  shape: ImageShape;
  seed: number;
  batch: number;
  mix: MixJob | null;
}

interface Reply {
  step: number;
  z: Float32Array;
}

export class NoisePrefetcher {
  private readonly worker: Worker;
  private pending: { step: number; reply: Promise<Float32Array> } | null = null;
  private failure: Error | null = null;

  constructor(job: NoiseJob) {
    this.worker = new Worker(workerEntry(import.meta.url, 'noise-worker'), { workerData: job });
    this.worker.on('error', (err) => {
      this.failure = err;
    });
  }

  private request(step: number): Promise<Float32Array> {
    return new Promise<Float32Array>((resolve, reject) => {
      const onMessage = (reply: Reply): void => {
        if (reply.step !== step) return;
        this.worker.off('message', onMessage);
        this.worker.off('error', reject);
        resolve(reply.z);
      };
      this.worker.on('message', onMessage);
      this.worker.once('error', reject);
      if (this.failure) reject(this.failure);
      this.worker.postMessage(step);
    });
  }

  /** Step t's z; also starts drawing step t + 1's. */
  async take(step: number): Promise<Float32Array> {
    const current = this.pending?.step === step ? this.pending.reply : this.request(step);
    const z = await current;
    this.pending = { step: step + 1, reply: this.request(step + 1) };
    this.pending.reply.catch(() => undefined);
    return z;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
