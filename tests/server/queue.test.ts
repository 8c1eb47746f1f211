// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientGoneError, HttpError } from '../../server/errors.ts';
import { parseConfig } from '../../server/config.ts';
import { createMetrics } from '../../server/metrics.ts';
import { BatchQueue, type QueueRequest } from '../../server/queue.ts';
import { SlowGenerator } from './helpers.ts';

const IMAGE = 4;

function request(count: number, steps: number, overrides: Partial<QueueRequest> = {}): QueueRequest {
  return {
    input: [new Float32Array(count * IMAGE).fill(count)],
    count,
    steps,
    keepSteps: false,
    signal: new AbortController().signal,
    deadlineAt: Date.now() + 5_000,
    ...overrides,
  };
}

function queue(generator: SlowGenerator, opts: { maxQueue?: number; maxBatchSize?: number; maxDelayMs?: number } = {}): BatchQueue {
  return new BatchQueue({
    generator,
    metrics: createMetrics(8),
    model: 'test',
    concurrency: 1,
    maxQueue: opts.maxQueue ?? 16,
    maxBatchSize: opts.maxBatchSize ?? 8,
    maxDelayMs: opts.maxDelayMs ?? 5,
  });
}

void test('batches concurrent requests with equal steps and returns each its own slice', async () => {
  const generator = new SlowGenerator(5);
  const q = queue(generator, { maxDelayMs: 20 });
  const results = await Promise.all([q.submit(request(1, 2)), q.submit(request(2, 2)), q.submit(request(1, 3))]);
  assert.deepEqual(
    generator.batches.map((b) => [b.count, b.steps]),
    [
      [3, 2],
      [1, 3],
    ],
  );
  // f(f(x)) = 0.25x + 0.375 per element, so each request gets back its own input transformed.
  assert.deepEqual([...results[0].outputs[0]!], Array(IMAGE).fill(0.25 * 1 + 0.375));
  assert.deepEqual([...results[1].outputs[0]!], Array(2 * IMAGE).fill(0.25 * 2 + 0.375));
  assert.equal(results[1].residuals.length, 2 * 2);
  assert.equal(q.depth(), 0);
});

void test('requests that run the generation file first are never merged with ones that do not', async () => {
  const generator = new SlowGenerator(5);
  const q = queue(generator, { maxDelayMs: 20 });
  await Promise.all([
    q.submit(request(1, 2, { useGenerationFile: true })),
    q.submit(request(2, 2)),
    q.submit(request(1, 2, { useGenerationFile: true })),
  ]);
  assert.deepEqual(
    generator.batches.map((b) => [b.count, b.useGenerationFile === true]),
    [
      [2, true],
      [2, false],
    ],
  );
});

void test('never puts more than MAX_BATCH_SIZE images in one batch', async () => {
  const generator = new SlowGenerator(1);
  const q = queue(generator, { maxBatchSize: 3, maxDelayMs: 20 });
  await Promise.all([1, 2, 1, 2].map((n) => q.submit(request(n, 1))));
  assert.ok(
    generator.batches.every((b) => b.count <= 3),
    JSON.stringify(generator.batches.map((b) => b.count)),
  );
  assert.equal(
    generator.batches.reduce((s, b) => s + b.count, 0),
    6,
  );
});

void test('a full queue rejects at once with 503 queue_full and Retry-After', async () => {
  const generator = new SlowGenerator(100);
  const q = queue(generator, { maxQueue: 2, maxBatchSize: 1, maxDelayMs: 0 });
  const first = q.submit(request(1, 1));
  await new Promise((r) => setTimeout(r, 10));
  const settled = await Promise.allSettled([0, 1, 2, 3, 4].map(() => q.submit(request(1, 1))));
  await first;
  const rejected = settled.filter((s) => s.status === 'rejected').map((s) => s.reason as HttpError);
  assert.equal(rejected.length, 3);
  for (const err of rejected) {
    assert.equal(err.status, 503);
    assert.equal(err.code, 'queue_full');
    assert.equal(err.options.retryAfterSeconds, 1);
  }
  await q.idle();
  assert.equal(q.depth(), 0);
});

void test('queued past the deadline → 503 queue_timeout; running past it → 504 deadline_exceeded', async () => {
  const generator = new SlowGenerator(60);
  const q = queue(generator, { maxBatchSize: 1, maxDelayMs: 0 });
  const running = q.submit(request(1, 5, { deadlineAt: Date.now() + 100 }));
  const waiting = q.submit(request(1, 5, { deadlineAt: Date.now() + 50 }));
  await assert.rejects(waiting, (err: unknown) => err instanceof HttpError && err.status === 503 && err.code === 'queue_timeout');
  await assert.rejects(running, (err: unknown) => err instanceof HttpError && err.status === 504 && err.code === 'deadline_exceeded');
  await q.idle();
  // The deadline also stopped the work between steps: far fewer than 5 steps ran.
  assert.equal(generator.cancelled, 1);
});

void test('a client that disconnects leaves the queue, and its running batch is cancelled', async () => {
  const generator = new SlowGenerator(40);
  const q = queue(generator, { maxBatchSize: 1, maxDelayMs: 0 });
  const runningClient = new AbortController();
  const queuedClient = new AbortController();
  const running = q.submit(request(1, 10, { signal: runningClient.signal }));
  const queued = q.submit(request(1, 10, { signal: queuedClient.signal }));
  await new Promise((r) => setTimeout(r, 60));
  queuedClient.abort();
  runningClient.abort();
  await assert.rejects(queued, ClientGoneError);
  await assert.rejects(running, ClientGoneError);
  await q.idle();
  assert.equal(generator.batches.length, 1, 'the queued request never reached the generator');
  assert.equal(generator.cancelled, 1);
});

void test('opportunistic batching (default MAX_QUEUE_DELAY_MS): an idle worker gets a request at once; requests that queue behind a busy one are merged', async () => {
  const { maxQueueDelayMs, maxBatchSize } = parseConfig({});
  assert.equal(maxQueueDelayMs, 0);
  const generator = new SlowGenerator(30);
  const q = queue(generator, { maxBatchSize, maxDelayMs: maxQueueDelayMs });
  const first = q.submit(request(1, 1));
  // Dispatched synchronously inside submit: no timer, no wait for company.
  assert.equal(generator.batches.length, 1);
  const queued = [q.submit(request(1, 1)), q.submit(request(2, 1)), q.submit(request(1, 1))];
  assert.equal(generator.batches.length, 1, 'the worker is busy: these wait');
  assert.equal(q.depth(), 3);
  await Promise.all([first, ...queued]);
  assert.deepEqual(
    generator.batches.map((b) => b.count),
    [1, 4],
    'the three queued requests ran as one batch',
  );
});
