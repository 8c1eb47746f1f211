// SPDX-License-Identifier: MIT
/** The process-wide WebGPU lock: one thread inside at a time, and freed for a worker that died holding it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { releaseIfHeldBy, withDeviceLock } from '../../server/inference/device-lock.ts';
import { workerEntry } from '../../common/worker-entry.ts';

async function contend(useLock: boolean): Promise<{ most: number; entered: number }> {
  const lock = new SharedArrayBuffer(4);
  const stats = new SharedArrayBuffer(12);
  const rounds = 40;
  const workers = [0, 1, 2].map(
    () =>
      new Worker(workerEntry(import.meta.url, '../support/device-lock-worker'), {
        workerData: { lock, stats, rounds, holdMs: 2, useLock },
      }),
  );
  await Promise.all(workers.map((w) => new Promise((resolve, reject) => w.on('exit', resolve).on('error', reject))));
  const s = new Int32Array(stats);
  assert.equal(new Int32Array(lock)[0], 0, 'the lock is free at the end');
  return { most: s[1]!, entered: s[2]! };
}

void test('withDeviceLock lets one thread of three into the section at a time (and without it they overlap)', async () => {
  const locked = await contend(true);
  assert.deepEqual(locked, { most: 1, entered: 120 });
  const unlocked = await contend(false);
  assert.equal(unlocked.entered, 120);
  assert.ok(unlocked.most > 1, 'the harness sees overlap when nothing serialises the threads');
});

void test('withDeviceLock frees the lock when the section throws and refuses nesting; releaseIfHeldBy frees only its owner', async () => {
  const lock = new SharedArrayBuffer(4);
  const cell = new Int32Array(lock);
  await assert.rejects(
    withDeviceLock(lock, 5, () => {
      assert.equal(cell[0], 5, 'held under the owner id inside the section');
      return Promise.reject(new Error('run failed'));
    }),
    /run failed/,
  );
  assert.equal(cell[0], 0);
  // A nested call from the holder fails at once instead of waiting on itself forever.
  await withDeviceLock(lock, 5, async () => {
    await assert.rejects(
      withDeviceLock(lock, 5, () => Promise.resolve()),
      /already held by this thread \(owner 5\); it is not reentrant/,
    );
    assert.equal(cell[0], 5, 'the outer hold is kept');
  });
  assert.equal(cell[0], 0);
  Atomics.store(cell, 0, 7);
  assert.equal(releaseIfHeldBy(lock, 3), false);
  assert.equal(cell[0], 7, 'another owner does not free it');
  assert.equal(releaseIfHeldBy(lock, 7), true);
  assert.equal(cell[0], 0);
});
