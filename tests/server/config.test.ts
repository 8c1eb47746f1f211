// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { ConfigError, parseConfig, redactConfig } from '../../server/config.ts';

void test('defaults serve the models/ repository on 0.0.0.0:8080 with batching 8 / no queue delay (opportunistic)', () => {
  const config = parseConfig({});
  assert.equal(config.port, 8080);
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.modelDir, null);
  assert.equal(config.modelRepository, 'models');
  assert.equal(config.modelName, null);
  assert.equal(config.strictModels, false);
  assert.equal(config.ep, 'auto');
  assert.equal(config.maxBatchSize, 8);
  // Was 2 ms: a request that finds a worker idle is now dispatched at once (issue 9, item 2).
  assert.equal(config.maxQueueDelayMs, 0);
  assert.ok(Object.isFrozen(config));
});

void test('rejects the first bad value, naming the variable', () => {
  const bad: Record<string, string>[] = [
    { PORT: '80a' },
    { PORT: '70000' },
    { WORKERS: '0' },
    { MAX_BATCH_SIZE: '1e3' },
    { MAX_BATCH_SIZE: '-1' },
    { IGN_EP: 'tpu' },
    { REQUIRE_GPU: 'yes' },
    { LOG_LEVEL: 'loud' },
    { API_KEYS: 'short' },
    { HOST: 'a b' },
    { REQUIRE_GPU: '1', IGN_EP: 'cpu' },
    { MODEL_NAME: '../etc' },
    { STRICT_MODELS: 'maybe' },
    { MAX_QUEUE_DELAY_MS: '4.0' },
  ];
  for (const env of bad) {
    const key = Object.keys(env)[0]!;
    assert.throws(
      () => parseConfig(env),
      (err: unknown) => err instanceof ConfigError && err.message.includes(key),
      key,
    );
  }
});

void test('IGN_EP takes webgpu; REQUIRE_GPU=1 keeps it (a GPU provider or a startup failure)', () => {
  assert.equal(parseConfig({ IGN_EP: 'webgpu' }).ep, 'webgpu');
  assert.equal(parseConfig({ IGN_EP: 'WebGPU', REQUIRE_GPU: '1' }).requireGpu, true);
});

void test('by default the ORT threads of the workers leave one core to the event loop (at least one thread each)', () => {
  const cores = availableParallelism();
  for (const workers of [1, 2]) {
    const { threadsPerWorker } = parseConfig({ WORKERS: String(workers) });
    assert.equal(threadsPerWorker, Math.max(1, Math.floor((cores - 1) / workers)), `WORKERS=${workers}`);
    assert.ok(threadsPerWorker >= 1 && (threadsPerWorker === 1 || workers * threadsPerWorker <= cores - 1));
  }
});

void test('parses every documented variable and redacts API keys when printed', () => {
  const config = parseConfig({
    PORT: '0',
    IGN_EP: 'CPU',
    WORKERS: '2',
    THREADS_PER_WORKER: '1',
    MAX_QUEUE: '3',
    REQUEST_TIMEOUT_MS: '500',
    MAX_UPLOADS: '2',
    API_KEYS: 'aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbb',
    MAX_STEPS: '5',
    MAX_COUNT: '4',
    DRAIN_MS: '1000',
  });
  assert.deepEqual([config.port, config.ep, config.workers, config.maxQueue, config.requestTimeoutMs], [0, 'cpu', 2, 3, 500]);
  assert.deepEqual(config.apiKeys, ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb']);
  const printed = JSON.stringify(redactConfig(config));
  assert.doesNotMatch(printed, /aaaa|bbbb/);
  assert.match(printed, /2 redacted/);
});
