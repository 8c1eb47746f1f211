// SPDX-License-Identifier: MIT
/**
 * @file Worker for tests/server/device-lock.test.ts: `rounds` critical sections, each holding the
 * section for `holdMs`, counting in shared memory how many threads are inside at once.
 */
import { threadId, workerData } from 'node:worker_threads';
import { withDeviceLock } from '../../server/inference/device-lock.ts';

interface Job {
  readonly lock: SharedArrayBuffer;
  /** [inside now, most inside at once, sections entered] */
  readonly stats: SharedArrayBuffer;
  readonly rounds: number;
  readonly holdMs: number;
  readonly useLock: boolean;
}

const job = workerData as Job;
const stats = new Int32Array(job.stats);
const sleeper = new Int32Array(new SharedArrayBuffer(4));

async function section(): Promise<void> {
  const inside = Atomics.add(stats, 0, 1) + 1;
  for (let seen = Atomics.load(stats, 1); inside > seen; seen = Atomics.load(stats, 1)) {
    if (Atomics.compareExchange(stats, 1, seen, inside) === seen) break;
  }
  Atomics.add(stats, 2, 1);
  Atomics.wait(sleeper, 0, 0, job.holdMs);
  await Promise.resolve();
  Atomics.sub(stats, 0, 1);
}

for (let i = 0; i < job.rounds; i++) {
  if (job.useLock) await withDeviceLock(job.lock, threadId + 1, section);
  else await section();
  Atomics.wait(sleeper, 0, 0, 0.2);
}
