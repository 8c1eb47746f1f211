// SPDX-License-Identifier: MIT
/**
 * @file Bounded FIFO with opportunistic batching in front of the Generator (docs/serving.md, "Overload"). A request that finds
 * a worker idle is dispatched at once; requests that queue while every worker is busy are merged
 * (equal `steps` and generation-file use, up to MAX_BATCH_SIZE images) when one frees, as Triton's dynamic batcher does with
 * no queue delay. MAX_QUEUE_DELAY_MS > 0 opts into waiting that long for company even when idle. Overflow is refused at once (503 queue_full); a request still
 * queued at its deadline gets 503 queue_timeout, one already running 504 deadline_exceeded; a client
 * that leaves drops its work, and a batch whose requests have all left is cancelled between steps.
 */
import { ClientGoneError, HttpError } from './errors.ts';
import { CancelledError, type Generator, type GeneratorJob, type GeneratorResult } from './inference/generator.ts';
import type { ServerMetrics } from './metrics.ts';

export interface QueueOptions {
  readonly generator: Generator;
  readonly maxBatchSize: number;
  readonly maxDelayMs: number;
  readonly maxQueue: number;
  /** Batches running at once (the number of workers). */
  readonly concurrency: number;
  readonly metrics: ServerMetrics;
  /** The served model's name: the `model` label of the queue's metrics. */
  readonly model: string;
  /** Retry-After seconds on capacity rejections. */
  readonly retryAfterSeconds?: number;
}

export interface QueueRequest extends GeneratorJob {
  /** Aborts when the client disconnects. */
  readonly signal: AbortSignal;
  /** Epoch ms after which the request is answered 503/504. */
  readonly deadlineAt: number;
}

interface Entry {
  readonly request: QueueRequest;
  readonly enqueuedAt: number;
  readonly resolve: (result: GeneratorResult) => void;
  readonly reject: (error: Error) => void;
  state: 'queued' | 'running' | 'settled';
  batch: Batch | null;
  timer: NodeJS.Timeout | null;
}

interface Batch {
  readonly entries: Entry[];
  readonly controller: AbortController;
}

export class BatchQueue {
  private readonly waiting: Entry[] = [];
  private running = 0;
  private delayTimer: NodeJS.Timeout | null = null;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly labels: { readonly model: string };

  constructor(private readonly options: QueueOptions) {
    this.labels = { model: options.model };
  }

  depth(): number {
    return this.waiting.length;
  }

  /** Resolves when nothing is queued or running (graceful drain). */
  idle(): Promise<void> {
    if (this.waiting.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  submit(request: QueueRequest): Promise<GeneratorResult> {
    const { maxQueue, metrics } = this.options;
    if (request.signal.aborted) return Promise.reject(new ClientGoneError('client gone before queueing'));
    // Room = MAX_QUEUE plus whatever idle workers will take within MAX_QUEUE_DELAY_MS.
    const idleSlots = Math.max(0, this.options.concurrency - this.running);
    if (this.waiting.length >= maxQueue + idleSlots * this.options.maxBatchSize) {
      return Promise.reject(new HttpError(503, 'queue_full', 'server is at capacity, retry later', this.capacityOptions('queue_full')));
    }
    return new Promise<GeneratorResult>((resolve, reject) => {
      const entry: Entry = { request, enqueuedAt: Date.now(), resolve, reject, state: 'queued', batch: null, timer: null };
      entry.timer = setTimeout(
        () => {
          this.onDeadline(entry);
        },
        Math.max(0, request.deadlineAt - Date.now()),
      );
      request.signal.addEventListener(
        'abort',
        () => {
          this.drop(entry, new ClientGoneError('client disconnected'));
        },
        { once: true },
      );
      this.waiting.push(entry);
      metrics.queueDepth.set(this.labels, this.waiting.length);
      this.pump();
    });
  }

  private capacityOptions(reason: 'queue_full' | 'queue_timeout'): HttpError['options'] {
    return { retryAfterSeconds: this.options.retryAfterSeconds ?? 1, rejectReason: reason };
  }

  private onDeadline(entry: Entry): void {
    if (entry.state === 'queued') {
      this.drop(entry, new HttpError(503, 'queue_timeout', 'request waited too long in the queue', this.capacityOptions('queue_timeout')));
    } else {
      this.drop(entry, new HttpError(504, 'deadline_exceeded', 'request deadline exceeded', { rejectReason: 'deadline' }));
    }
  }

  /** Settles one entry with an error; cancels its batch once no one is waiting for it. */
  private drop(entry: Entry, error: Error): void {
    if (entry.state === 'settled') return;
    const wasQueued = entry.state === 'queued';
    this.settle(entry);
    entry.reject(error);
    if (wasQueued) {
      this.waiting.splice(this.waiting.indexOf(entry), 1);
      this.options.metrics.queueDepth.set(this.labels, this.waiting.length);
      this.notifyIdle();
    } else if (entry.batch?.entries.every((e) => e.state === 'settled') === true) {
      entry.batch.controller.abort();
    }
  }

  private settle(entry: Entry): void {
    entry.state = 'settled';
    if (entry.timer !== null) clearTimeout(entry.timer);
  }

  private pump(): void {
    while (this.running < this.options.concurrency && this.waiting.length > 0) {
      const batch = this.takeBatch();
      if (batch === null) return;
      void this.runBatch(batch);
    }
  }

  /** The oldest request plus later ones with equal steps and generation-file use that fit; null = wait for company. */
  private takeBatch(): Entry[] | null {
    const head = this.waiting[0]!;
    const { maxBatchSize, maxDelayMs } = this.options;
    const chosen = [head];
    let images = head.request.count;
    for (const entry of this.waiting.slice(1)) {
      const sameKind =
        entry.request.steps === head.request.steps &&
        (entry.request.useGenerationFile ?? false) === (head.request.useGenerationFile ?? false);
      if (sameKind && images + entry.request.count <= maxBatchSize) {
        chosen.push(entry);
        images += entry.request.count;
      }
    }
    const waitedMs = Date.now() - head.enqueuedAt;
    if (images < maxBatchSize && waitedMs < maxDelayMs) {
      this.delayTimer ??= setTimeout(() => {
        this.delayTimer = null;
        this.pump();
      }, maxDelayMs - waitedMs);
      return null;
    }
    for (const entry of chosen) this.waiting.splice(this.waiting.indexOf(entry), 1);
    this.options.metrics.queueDepth.set(this.labels, this.waiting.length);
    return chosen;
  }

  private async runBatch(entries: Entry[]): Promise<void> {
    const { generator, metrics } = this.options;
    const batch: Batch = { entries, controller: new AbortController() };
    const now = Date.now();
    for (const entry of entries) {
      entry.state = 'running';
      entry.batch = batch;
      metrics.queueDuration.observe(this.labels, (now - entry.enqueuedAt) / 1000);
    }
    const count = entries.reduce((sum, e) => sum + e.request.count, 0);
    const { steps } = entries[0]!.request;
    metrics.batchSize.observe(this.labels, count);
    this.running++;
    try {
      // Parts, not pixels: noise is drawn and images are laid end to end by the thread that runs f.
      const input = entries.flatMap((e) => e.request.input);
      const keepSteps = entries.some((e) => e.request.keepSteps);
      const useGenerationFile = entries[0]!.request.useGenerationFile === true;
      const result = await generator.run(
        { input, count, steps, keepSteps, ...(useGenerationFile && { useGenerationFile }) },
        batch.controller.signal,
      );
      metrics.inferenceDuration.observe({ ep: generator.info().provider, model: this.options.model }, result.computeSeconds);
      this.distribute(entries, result, count);
    } catch (err) {
      const error = err instanceof CancelledError ? new ClientGoneError('batch cancelled') : (err as Error);
      for (const entry of entries)
        if (entry.state === 'running') {
          this.settle(entry);
          entry.reject(error);
        }
    } finally {
      this.running--;
      this.pump();
      this.notifyIdle();
    }
  }

  /** Slices the batch result back into per-request results, in submission order. */
  private distribute(entries: Entry[], result: GeneratorResult, total: number): void {
    const imageSize = result.outputs[0]!.length / total;
    const stepCount = result.residuals.length / total;
    let offset = 0;
    for (const entry of entries) {
      const { count, keepSteps } = entry.request;
      const start = offset;
      offset += count;
      // A request that left (or timed out) while its batch ran gets nothing: skip the copies.
      if (entry.state !== 'running') continue;
      const outputs = (keepSteps ? result.outputs : result.outputs.slice(-1)).map((o) =>
        o.slice(start * imageSize, (start + count) * imageSize),
      );
      const residuals = new Float32Array(stepCount * count);
      for (let s = 0; s < stepCount; s++) {
        residuals.set(result.residuals.subarray(s * total + start, s * total + start + count), s * count);
      }
      this.settle(entry);
      entry.resolve({ outputs, residuals, computeSeconds: result.computeSeconds });
    }
  }

  private notifyIdle(): void {
    if (this.waiting.length > 0 || this.running > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
