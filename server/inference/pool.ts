// SPDX-License-Identifier: MIT
/**
 * @file The production Generator: a pool of worker threads, one InferenceSession each, so ORT never
 * blocks the HTTP event loop. Startup resolves only after every worker has loaded and warmed up its
 * session; a worker that dies later is respawned, and readiness is false until it is back.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import {
  CancelledError, InferenceError,
  type Generator, type GeneratorInfo, type GeneratorJob, type GeneratorResult,
} from './generator.ts';
import type { FromWorker, SessionSpec, ToWorker } from './protocol.ts';
import { workerEntry } from '../../common/worker-entry.ts';

export interface PoolOptions {
  readonly spec: SessionSpec;
  readonly workers: number;
  readonly logger: Logger;
  /** Called once per respawned worker (ign_worker_restarts_total). */
  readonly onRestart?: () => void;
  readonly heapLimitMb?: number;
}

interface PendingJob {
  readonly id: number;
  readonly job: GeneratorJob;
  readonly cancelFlag: Int32Array;
  readonly resolve: (result: GeneratorResult) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  current: PendingJob | null;
}

export class WorkerPool implements Generator {
  private readonly slots: Slot[] = [];
  private readonly waiting: PendingJob[] = [];
  private closing = false;
  private nextId = 1;
  private started: GeneratorInfo | null = null;

  constructor(private readonly options: PoolOptions) {}

  /** Spawns and warms up every worker; rejects (after stopping them) if any fails to load. */
  async start(): Promise<GeneratorInfo> {
    const infos = await Promise.allSettled(Array.from({ length: this.options.workers }, () => this.spawn()));
    const failed = infos.find((r) => r.status === 'rejected');
    if (failed !== undefined) {
      await this.close();
      throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
    const first = infos[0];
    if (first?.status !== 'fulfilled') throw new Error('worker pool has no workers');
    this.started = first.value;
    return first.value;
  }

  ready(): boolean {
    return !this.closing && this.started !== null && this.slots.every((s) => s.ready);
  }

  info(): GeneratorInfo {
    if (this.started === null) throw new Error('worker pool not started');
    return this.started;
  }

  run(job: GeneratorJob, signal: AbortSignal): Promise<GeneratorResult> {
    if (signal.aborted) return Promise.reject(new CancelledError('cancelled before start'));
    if (this.closing) return Promise.reject(new InferenceError('inference_failed', 'worker pool is closed'));
    return new Promise<GeneratorResult>((resolve, reject) => {
      const pending: PendingJob = { id: this.nextId++, job, cancelFlag: new Int32Array(new SharedArrayBuffer(4)), resolve, reject };
      signal.addEventListener('abort', () => { this.cancel(pending); }, { once: true });
      this.waiting.push(pending);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const pending of this.waiting.splice(0)) pending.reject(new InferenceError('inference_failed', 'worker pool closed'));
    await Promise.all(this.slots.map(async (slot) => {
      const exited = new Promise<void>((resolve) => slot.worker.once('exit', () => { resolve(); }));
      slot.worker.postMessage({ type: 'close' } satisfies ToWorker);
      const timer = setTimeout(() => { void slot.worker.terminate(); }, 2_000);
      await exited;
      clearTimeout(timer);
    }));
  }

  private cancel(pending: PendingJob): void {
    const index = this.waiting.indexOf(pending);
    if (index >= 0) {
      this.waiting.splice(index, 1);
      pending.reject(new CancelledError('cancelled while waiting for a worker'));
    } else {
      Atomics.store(pending.cancelFlag, 0, 1);
    }
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!slot.ready || slot.current !== null) continue;
      const pending = this.waiting.shift();
      if (pending === undefined) return;
      slot.current = pending;
      const { input, count, steps, keepSteps } = pending.job;
      slot.worker.postMessage({ type: 'run', id: pending.id, input, count, steps, keepSteps, cancelFlag: pending.cancelFlag } satisfies ToWorker);
    }
  }

  private spawn(replacing?: Slot): Promise<GeneratorInfo> {
    const worker = new Worker(workerEntry(import.meta.url, 'worker'), {
      workerData: this.options.spec,
      resourceLimits: { maxOldGenerationSizeMb: this.options.heapLimitMb ?? 512 },
    });
    const slot: Slot = replacing ?? { worker, ready: false, current: null };
    slot.worker = worker;
    slot.ready = false;
    if (replacing === undefined) this.slots.push(slot);
    return new Promise<GeneratorInfo>((resolve, reject) => {
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          slot.ready = true;
          resolve({ provider: message.provider, fallback: message.fallbackReason !== null, ortVersion: message.ortVersion });
          if (message.fallbackReason !== null) {
            this.options.logger.warn({ reason: message.fallbackReason, provider: 'cpu' }, 'CUDA not used, falling back to CPU');
          }
          this.dispatch();
        } else if (message.type === 'fatal') {
          reject(new Error(`model ${this.options.spec.modelPath} failed to load: ${message.message}`));
        } else {
          this.settle(slot, message);
        }
      });
      worker.on('error', (err) => {
        this.options.logger.error({ err: err.message }, 'inference worker error');
        reject(new Error(`inference worker crashed during load: ${err.message}`));
      });
      worker.on('exit', (code) => { this.onExit(slot, worker, code); });
    });
  }

  private settle(slot: Slot, message: Exclude<FromWorker, { type: 'ready' | 'fatal' }>): void {
    const pending = slot.current;
    if (pending?.id !== message.id) return;
    slot.current = null;
    if (message.type === 'result') {
      pending.resolve({ outputs: message.outputs, residuals: message.residuals, computeSeconds: message.computeSeconds });
    } else if (message.type === 'cancelled') {
      pending.reject(new CancelledError('cancelled between steps'));
    } else {
      pending.reject(new InferenceError(message.code, message.message));
    }
    this.dispatch();
  }

  private onExit(slot: Slot, worker: Worker, code: number): void {
    if (slot.worker !== worker) return;
    slot.ready = false;
    const pending = slot.current;
    slot.current = null;
    pending?.reject(new InferenceError('inference_failed', `inference worker exited (code ${code})`));
    if (this.closing || this.started === null) return;
    this.options.logger.error({ code }, 'inference worker died; respawning');
    this.options.onRestart?.();
    this.spawn(slot).catch((err: unknown) => {
      this.options.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'respawn failed');
    });
  }
}
