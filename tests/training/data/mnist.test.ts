// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFashionMnist, loadMnist, parseIdxImages, parseIdxLabels } from '../../../training/data/mnist.ts';
import { DatasetError } from '../../../training/data/errors.ts';

function range(values: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return [lo, hi];
}

void test('MNIST loads 60,000 train and 10,000 test digits as 1×28×28 in [-1, 1]', () => {
  const train = loadMnist('train');
  const testSplit = loadMnist('test');
  assert.equal(train.n, 60000);
  assert.equal(testSplit.n, 10000);
  assert.deepEqual(train.shape, [1, 28, 28]);
  assert.equal(train.images.length, 60000 * 784);
  assert.equal(train.labels.length, 60000);
  // The first training digit is a 5 and the first test digit a 7 (the canonical IDX order).
  assert.equal(train.labels[0], 5);
  assert.equal(testSplit.labels[0], 7);
  assert.deepEqual(range(train.images.subarray(0, 100 * 784)), [-1, 1]);
  assert.equal(train.images[0], -1, 'the corner pixel is background');
  const first = train.images.subarray(0, 784);
  const ink = first.filter((v) => v > 0).length;
  assert.ok(ink > 80 && ink < 250, `a digit covers part of the image (${ink} pixels)`);
});

void test('MNIST is parsed once and then served from memory', () => {
  const first = loadMnist('train');
  const again = loadMnist('train');
  // Served from memory: the very same object (and pixel buffer) comes back, nothing is re-parsed.
  assert.equal(again, first);
  assert.equal(again.images, first.images);
  assert.equal(again, loadMnist('train'));
});

void test('Fashion-MNIST: 60,000 / 10,000 images, class-interleaved labels, values in [-1, 1]', () => {
  const start = performance.now();
  const train = loadFashionMnist('train');
  const testSplit = loadFashionMnist('test');
  console.log(`fashion-mnist parse: ${(performance.now() - start).toFixed(0)} ms`);
  assert.equal(train.n, 60000);
  assert.equal(testSplit.n, 10000);
  assert.deepEqual([...train.labels.subarray(0, 12)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  const counts = new Array<number>(10).fill(0);
  for (const label of testSplit.labels) counts[label]! += 1;
  assert.deepEqual(counts, new Array<number>(10).fill(1000));
  assert.deepEqual(range(train.images.subarray(0, 1000 * 784)), [-1, 1]);
});

void test('IDX parsing rejects wrong magic numbers and truncated files', () => {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0x803, 0);
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(2, 8);
  header.writeUInt32BE(2, 12);
  const images = parseIdxImages(Buffer.concat([header, Buffer.from([0, 1, 2, 3, 4, 5, 6, 255])]));
  assert.equal(images.n, 2);
  assert.deepEqual([...images.pixels], [0, 1, 2, 3, 4, 5, 6, 255]);
  assert.throws(() => parseIdxImages(Buffer.concat([header, Buffer.alloc(7)])), DatasetError);
  assert.throws(() => parseIdxImages(Buffer.alloc(16)), /bad magic/);
  const labels = Buffer.from([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]);
  assert.deepEqual([...parseIdxLabels(labels)], [7, 8, 9]);
  assert.throws(() => parseIdxLabels(labels.subarray(0, 10)), /promises 11/);
});
