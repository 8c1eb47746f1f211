// SPDX-License-Identifier: MIT
/**
 * @file /generate's source noise, drawn on a worker thread. A CPU profile of the event loop at 32
 * connections put Fourier noise sampling (a 2-D inverse DFT per image) at about a third of the
 * one thread every request shares; here it runs beside it. The result is bit-identical to
 * sampleNoise on the main thread (same code, same seeded stream), and the main thread is the
 * fallback whenever the worker is not ready yet, has died or answers with an error, so a request
 * never waits for the worker to boot and never fails because of it. The worker is referenced only
 * while a draw is in flight, so an idle sampler never keeps a process alive.
 */
import { Worker } from 'node:worker_threads';
import type { ImageShape } from '../common/image-shape.ts';
import { sampleNoise, type FourierStats, type NoiseSpec } from '../common/noise.ts';
import { Rng } from '../common/rng.ts';
import { workerEntry } from '../common/worker-entry.ts';

export interface NoiseWorkerData {
  /** Fourier statistics per model name (models with Gaussian noise have none). */
  readonly stats: Readonly<Record<string, FourierStats>>;
}

export interface NoiseRequest {
  readonly id: number;
  readonly model: string;
  readonly spec: NoiseSpec;
  readonly shape: ImageShape;
  readonly seed: number;
  readonly count: number;
}

const RETRY_AFTER_MS = 5_000;

type NoiseReply =
  { readonly ready: true } | { readonly id: number; readonly z: Float32Array } | { readonly id: number; readonly error: string };

interface Pending {
  readonly request: NoiseRequest;
  readonly resolve: (z: Float32Array) => void;
  readonly reject: (error: Error) => void;
}

export class NoiseSampler {
  private worker: Worker | null = null;
  private ready = false;
  /** After the worker dies, the main thread draws until then (epoch ms): no respawn per request. */
  private retryAt = 0;
  private closed = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Draws served by the worker and by the main-thread fallback (tests and diagnostics). */
  readonly served = { worker: 0, mainThread: 0 };

  constructor(private readonly stats: Readonly<Record<string, FourierStats | null>>) {}

  /** `count` noise images of `model` from `new Rng(seed)`, exactly as sampleNoise draws them. */
  sample(model: string, spec: NoiseSpec, shape: ImageShape, seed: number, count: number): Promise<Float32Array> {
    this.start();
    const request: NoiseRequest = { id: this.nextId++, model, spec, shape, seed, count };
    return new Promise((resolve, reject) => {
      const pending: Pending = { request, resolve, reject };
      if (!this.ready || this.worker === null) {
        this.answerOnMainThread(pending);
        return;
      }
      this.pending.set(request.id, pending);
      // Referenced only while a draw is in flight: an idle sampler never keeps a process alive.
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage(request);
    });
  }

  /** Stops the worker for good; pending and later draws run on the main thread. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    this.ready = false;
    this.flush();
    if (worker !== null) await worker.terminate();
  }

  private answerOnMainThread({ request, resolve, reject }: Pending): void {
    this.served.mainThread++;
    try {
      resolve(sampleNoise(request.spec, this.stats[request.model] ?? null, request.shape, new Rng(request.seed), request.count));
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Answers every pending draw on the main thread (the worker is gone or failed). */
  private flush(): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const pending of all) this.answerOnMainThread(pending);
  }

  private start(): void {
    if (this.closed || this.worker !== null || Date.now() < this.retryAt) return;
    const stats: Record<string, FourierStats> = {};
    for (const [name, value] of Object.entries(this.stats)) if (value !== null) stats[name] = value;
    const worker = new Worker(workerEntry(import.meta.url, 'noise-worker'), { workerData: { stats } satisfies NoiseWorkerData });
    this.worker = worker;
    worker.on('message', (reply: NoiseReply) => {
      if ('ready' in reply) {
        this.ready = true;
        return;
      }
      const pending = this.pending.get(reply.id);
      if (pending === undefined) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('z' in reply) {
        this.served.worker++;
        pending.resolve(reply.z);
      } else {
        this.answerOnMainThread(pending);
      }
    });
    const gone = (): void => {
      if (this.worker !== worker) return;
      // Started again by the first draw after RETRY_AFTER_MS; until then the main thread draws.
      this.worker = null;
      this.ready = false;
      this.retryAt = Date.now() + RETRY_AFTER_MS;
      this.flush();
    };
    worker.on('error', gone);
    worker.on('exit', gone);
    // After the listeners: attaching a 'message' listener refs the worker's port again.
    worker.unref();
  }
}
