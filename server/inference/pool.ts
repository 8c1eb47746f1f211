// SPDX-License-Identifier: MIT
/**
 * @file The production Generator: a pool of worker threads, one InferenceSession each, so ORT never
 * blocks the HTTP event loop. Startup resolves only after every worker has loaded and warmed up its
 * session; a worker that dies later is respawned, and readiness is false until it is back.
 *
 * Respawns back off exponentially: attempt n after the n-th consecutive failure waits
 * min(baseMs · 2^n, maxMs), where a failure is a respawned worker that exits before it is ready
 * (say the model file went bad after a good start). A worker that reaches ready resets its count.
 * After maxFailures consecutive failures the pool gives up (onGiveUp), and main.ts exits non-zero so
 * the orchestrator restarts the process instead of this loop spinning forever.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import {
  CancelledError,
  InferenceError,
  type Generator,
  type GeneratorInfo,
  type GeneratorJob,
  type GeneratorResult,
} from './generator.ts';
import type { LoadedModel } from '../../common/model-card.ts';
import type { ServerConfig } from '../config.ts';
import type { FromWorker, SessionSpec, ToWorker } from './protocol.ts';
import { workerEntry } from '../../common/worker-entry.ts';
import { processDeviceLock, releaseIfHeldBy } from './device-lock.ts';

export interface RestartPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly maxFailures: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { baseMs: 100, maxMs: 10_000, maxFailures: 5 };

export interface PoolOptions {
  readonly spec: SessionSpec;
  readonly workers: number;
  readonly logger: Logger;
  /** Called once per respawn attempt (ign_worker_restarts_total). */
  readonly onRestart?: () => void;
  /** Called once when a worker failed `restart.maxFailures` times in a row; the pool stops respawning. */
  readonly onGiveUp?: (reason: string) => void;
  readonly restart?: RestartPolicy;
  readonly heapLimitMb?: number;
}

/** What a worker needs to open `model`: the card's files, names, shape and noise statistics, plus where to run. */
export function sessionSpecFor(model: LoadedModel, run: Pick<SessionSpec, 'ep' | 'cudaDeviceId' | 'threads' | 'deviceLock'>): SessionSpec {
  const { card } = model;
  return {
    modelPath: model.modelPath,
    generatorPath: model.generatorPath,
    inputName: card.input.name,
    outputName: card.output.name,
    dims: [card.image.channels, card.image.height, card.image.width],
    noiseStats: model.noiseStats,
    ...run,
  };
}

/** The pool main.ts (and the tests that mirror it) builds from the config and the model card. */
export function poolOptionsFor(
  config: ServerConfig,
  model: LoadedModel,
  logger: Logger,
  hooks: Pick<PoolOptions, 'onRestart' | 'onGiveUp'> = {},
): PoolOptions {
  return {
    logger,
    workers: config.workers,
    ...hooks,
    restart: { baseMs: config.workerRestartBaseMs, maxMs: config.workerRestartMaxMs, maxFailures: config.workerMaxFailures },
    spec: sessionSpecFor(model, {
      deviceLock: processDeviceLock(),
      // REQUIRE_GPU=1: a GPU provider or a startup failure (CUDA unless WebGPU was asked for).
      ep: config.requireGpu ? (config.ep === 'webgpu' ? 'webgpu' : 'cuda') : config.ep,
      cudaDeviceId: config.cudaDeviceId,
      threads: config.threadsPerWorker,
    }),
  };
}

interface PendingJob {
  readonly id: number;
  readonly job: GeneratorJob;
  readonly cancelFlag: Int32Array;
  readonly resolve: (result: GeneratorResult) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly index: number;
  worker: Worker;
  ready: boolean;
  current: PendingJob | null;
  /** Consecutive respawns that exited before becoming ready. */
  failures: number;
  respawnTimer: NodeJS.Timeout | null;
  /** The current worker has exited (and no respawn has started yet). */
  exited: boolean;
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
      signal.addEventListener(
        'abort',
        () => {
          this.cancel(pending);
        },
        { once: true },
      );
      this.waiting.push(pending);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const slot of this.slots) if (slot.respawnTimer !== null) clearTimeout(slot.respawnTimer);
    for (const pending of this.waiting.splice(0)) pending.reject(new InferenceError('inference_failed', 'worker pool closed'));
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.exited) return;
        const exited = new Promise<void>((resolve) =>
          slot.worker.once('exit', () => {
            resolve();
          }),
        );
        slot.worker.postMessage({ type: 'close' } satisfies ToWorker);
        const timer = setTimeout(() => {
          void slot.worker.terminate();
        }, 2_000);
        await exited;
        clearTimeout(timer);
      }),
    );
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
      const { input, count, steps, keepSteps, useGenerationFile } = pending.job;
      slot.worker.postMessage({
        type: 'run',
        id: pending.id,
        input,
        count,
        steps,
        keepSteps,
        ...(useGenerationFile === true && { useGenerationFile }),
        cancelFlag: pending.cancelFlag,
      } satisfies ToWorker);
    }
  }

  private spawn(replacing?: Slot): Promise<GeneratorInfo> {
    const worker = new Worker(workerEntry(import.meta.url, 'worker'), {
      workerData: this.options.spec,
      resourceLimits: { maxOldGenerationSizeMb: this.options.heapLimitMb ?? 512 },
    });
    const slot: Slot = replacing ?? {
      index: this.slots.length,
      worker,
      ready: false,
      current: null,
      failures: 0,
      respawnTimer: null,
      exited: false,
    };
    slot.worker = worker;
    slot.ready = false;
    slot.exited = false;
    if (replacing === undefined) this.slots.push(slot);
    return new Promise<GeneratorInfo>((resolve, reject) => {
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          slot.ready = true;
          if (slot.failures > 0) this.options.logger.info({ worker: slot.index, failures: slot.failures }, 'inference worker is back');
          slot.failures = 0;
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
      const owner = worker.threadId + 1; // threadId reads -1 once the worker has exited
      worker.on('exit', (code) => {
        const lock = this.options.spec.deviceLock;
        if (lock !== undefined && releaseIfHeldBy(lock, owner)) {
          this.options.logger.warn({ worker: slot.index }, 'inference worker exited holding the WebGPU lock; released it');
        }
        this.onExit(slot, worker, code);
      });
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
    const wasReady = slot.ready;
    slot.ready = false;
    slot.exited = true;
    const pending = slot.current;
    slot.current = null;
    pending?.reject(new InferenceError('inference_failed', `inference worker exited (code ${code})`));
    if (this.closing || this.started === null) return;
    if (!wasReady) slot.failures++;
    const { baseMs, maxMs, maxFailures } = this.options.restart ?? DEFAULT_RESTART_POLICY;
    const log = { worker: slot.index, code, failures: slot.failures };
    if (slot.failures >= maxFailures) {
      const reason = `inference worker ${slot.index} failed to restart ${slot.failures} times in a row (last exit code ${code})`;
      this.options.logger.fatal(log, 'inference worker keeps failing; giving up');
      this.options.onGiveUp?.(reason);
      return;
    }
    const delayMs = Math.min(baseMs * 2 ** slot.failures, maxMs);
    this.options.logger.error(
      { ...log, attempt: slot.failures + 1, delayMs },
      wasReady ? 'inference worker died; respawning' : 'inference worker failed to start; respawning after backoff',
    );
    slot.respawnTimer = setTimeout(() => {
      slot.respawnTimer = null;
      if (this.closing) return;
      this.options.onRestart?.();
      // A failed load ends in an exit, which lands back here: the rejection needs no handling.
      this.spawn(slot).catch(() => undefined);
    }, delayMs);
  }
}
