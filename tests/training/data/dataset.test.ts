// SPDX-License-Identifier: MIT
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadDataset } from '../../../training/data/dataset.ts';
import { loadMnist } from '../../../training/data/mnist.ts';

let root = '';

async function solid(path: string, value: number): Promise<void> {
  await sharp({ create: { width: 10, height: 10, channels: 3, background: { r: value, g: value, b: value } } })
    .png()
    .toFile(path);
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'dataset-'));
  await mkdir(join(root, 'plain'));
  await solid(join(root, 'plain', '1.png'), 0);
  await solid(join(root, 'plain', '2.png'), 255);
  await mkdir(join(root, 'split', 'train'), { recursive: true });
  await mkdir(join(root, 'split', 'test'), { recursive: true });
  await solid(join(root, 'split', 'train', 'a.png'), 51);
  await solid(join(root, 'split', 'train', 'b.png'), 102);
  await solid(join(root, 'split', 'test', 'c.png'), 204);
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

void test('an MNIST dataset with a limit serves the first images of the split', async () => {
  const dataset = await loadDataset({ kind: 'mnist', limit: 100 }, 'test');
  assert.equal(dataset.n, 100);
  assert.equal(dataset.name, 'mnist/test');
  assert.equal(dataset.labels?.[0], 7);
  const out = new Float32Array(2 * 784);
  dataset.gather([3, 0], out);
  const all = loadMnist('test').images;
  assert.deepEqual(out.subarray(0, 784), all.subarray(3 * 784, 4 * 784));
  assert.deepEqual(out.subarray(784), all.subarray(0, 784));
  assert.equal(dataset.slice(90, 200).length, 10 * 784, 'slice stops at n');
  assert.throws(() => {
    dataset.gather([100], out);
  }, /out of range/);
  // The pixels live in shared memory (a worker thread reads them without a copy) and are the
  // loader's own array, not a second copy of the split.
  assert.ok(dataset.images.data.buffer instanceof SharedArrayBuffer);
  assert.equal(dataset.images.data.buffer, all.buffer);
  assert.equal(dataset.images.n, 100);
});

void test('MNIST kinds refuse other sizes and channel counts', async () => {
  await assert.rejects(loadDataset({ kind: 'fashion-mnist', size: 32 }, 'train'), /1×28×28/);
  await assert.rejects(loadDataset({ kind: 'mnist', channels: 3 }, 'train'), /1×28×28/);
  await assert.rejects(loadDataset({ kind: 'mnist', limit: 0 }, 'train'), /positive integer/);
});

void test('a folder dataset converts bytes to [-1, 1] and defaults to RGB', async () => {
  const dataset = await loadDataset({ kind: 'folder', path: join(root, 'plain'), size: 4 }, 'train');
  assert.deepEqual(dataset.shape, [3, 4, 4]);
  assert.equal(dataset.labels, null);
  const images = dataset.slice(0, 2);
  assert.ok(images.subarray(0, 48).every((v) => v === -1));
  assert.ok(images.subarray(48).every((v) => v === 1));
  const out = new Float32Array(48);
  dataset.gather([1], out);
  assert.deepEqual(out, images.subarray(48));
  assert.ok(dataset.images.data instanceof Uint8Array && dataset.images.data.buffer instanceof SharedArrayBuffer, 'bytes, shared');
  assert.throws(() => dataset.slice(2, 1), /invalid image range/);
  assert.throws(() => {
    dataset.gather([0, 1], out);
  }, /output holds 48 values, need 96/);
});

void test('a folder with train/ and test/ subfolders uses the one of the split', async () => {
  const train = await loadDataset({ kind: 'folder', path: join(root, 'split'), size: 2, channels: 1 }, 'train');
  const testSplit = await loadDataset({ kind: 'folder', path: join(root, 'split'), size: 2, channels: 1 }, 'test');
  assert.equal(train.n, 2);
  assert.equal(testSplit.n, 1);
  assert.ok(Math.abs(testSplit.slice(0, 1)[0]! - (204 / 127.5 - 1)) < 1e-6);
  await assert.rejects(loadDataset({ kind: 'folder' }, 'train'), /needs a path/);
});
