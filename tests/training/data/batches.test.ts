// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EpochBatcher, type BatchSource } from '../../../training/data/batches.ts';
import { loadDataset } from '../../../training/data/dataset.ts';

/** n one-pixel images whose value is their index, so a batch shows which images it holds. */
function indexSource(n: number): BatchSource {
  return {
    n,
    shape: [1, 1, 1],
    gather(indices, out) {
      for (let k = 0; k < indices.length; k++) out[k] = indices[k]!;
    },
  };
}

function take(batcher: EpochBatcher, count: number): number[][] {
  return Array.from({ length: count }, () => [...batcher.next().images]);
}

void test('each epoch visits a permutation in full batches and drops the remainder', () => {
  const batcher = new EpochBatcher(indexSource(10), { batchSize: 3, seed: 1 });
  assert.equal(batcher.batchesPerEpoch, 3);
  const epochs = [take(batcher, 3).flat(), take(batcher, 3).flat()];
  for (const seen of epochs) {
    assert.equal(seen.length, 9);
    assert.equal(new Set(seen).size, 9, 'no image twice within an epoch');
    assert.ok(seen.every((i) => i >= 0 && i < 10));
  }
  assert.notDeepEqual(epochs[0], epochs[1], 'every epoch is reshuffled');
  const batch = batcher.next();
  assert.equal(batch.epoch, 2);
  assert.equal(batch.batchInEpoch, 0);
  assert.deepEqual([...batch.indices], [...batch.images]);
});

void test('the same seed gives the same batches, another seed others', () => {
  const a = take(new EpochBatcher(indexSource(50), { batchSize: 8, seed: 7 }), 12);
  const b = take(new EpochBatcher(indexSource(50), { batchSize: 8, seed: 7 }), 12);
  const c = take(new EpochBatcher(indexSource(50), { batchSize: 8, seed: 8 }), 12);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

void test('resuming from state() continues exactly where the run stopped, also at an epoch boundary', () => {
  for (const stopAfter of [2, 6, 7, 13]) {
    const reference = take(new EpochBatcher(indexSource(20), { batchSize: 3, seed: 3 }), 20);
    const first = new EpochBatcher(indexSource(20), { batchSize: 3, seed: 3 });
    const head = take(first, stopAfter);
    const saved = JSON.parse(JSON.stringify(first.state())) as ReturnType<EpochBatcher['state']>;
    const resumed = new EpochBatcher(indexSource(20), { batchSize: 3, seed: 999 }, saved);
    assert.deepEqual([...head, ...take(resumed, 20 - stopAfter)], reference, `stopped after ${stopAfter}`);
  }
});

void test('refuses bad batch sizes and states from another dataset', () => {
  assert.throws(() => new EpochBatcher(indexSource(4), { batchSize: 5, seed: 1 }), /fewer than one batch of 5/);
  assert.throws(() => new EpochBatcher(indexSource(4), { batchSize: 0, seed: 1 }), /positive integer/);
  const state = new EpochBatcher(indexSource(10), { batchSize: 2, seed: 1 }).state();
  assert.throws(() => new EpochBatcher(indexSource(12), { batchSize: 2, seed: 1 }, state), /n=10, batch 2 with n=12/);
});

void test('batches of an MNIST slice hold the dataset images', async () => {
  const dataset = await loadDataset({ kind: 'mnist', limit: 300 }, 'train');
  const batcher = new EpochBatcher(dataset, { batchSize: 64, seed: 5 });
  const batch = batcher.next();
  assert.equal(batch.images.length, 64 * 784);
  const first = batch.indices[0]!;
  assert.ok(first < 300);
  assert.deepEqual(batch.images.subarray(0, 784), dataset.slice(first, first + 1));
});
