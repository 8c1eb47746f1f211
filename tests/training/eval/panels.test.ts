// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composeCanvas, toByte } from '../../../training/eval/panels.ts';

void test('composeCanvas places each image at its row and column and keys the rows', () => {
  // two 1×2×2 images in row 1, one in row 2 (second section)
  const a = Float32Array.of(-1, -1, -1, -1, 1, 1, 1, 1);
  const b = Float32Array.of(0, 0, 0, 0);
  const c = composeCanvas([[{ label: 'first', images: a }], [{ label: 'second', images: b }]], [1, 2, 2], 3);
  assert.equal(c.width, 3 * 4 + 2);
  assert.equal(c.height, 2 * 4 + 2 + 8);
  assert.deepEqual(c.rowKey, ['1: first', '2: second']);
  const at = (x: number, y: number): number => c.pixels[y * c.width + x]!;
  assert.equal(at(2, 2), 0); // first image, black
  assert.equal(at(6, 3), 255); // second image, white
  assert.equal(at(2, 2 + 4 + 8), 128); // row 2 after the section gap, mid-gray
  assert.equal(at(10, 2), 255); // empty third cell keeps the background
  assert.equal(toByte(Number.NaN), 0);
  assert.equal(toByte(3), 255);
});

void test('composeCanvas interleaves RGB planes', () => {
  const rgb = Float32Array.of(1, -1, -1); // 3×1×1: pure red
  const c = composeCanvas([[{ label: 'red', images: rgb }]], [3, 1, 1], 1);
  assert.equal(c.channels, 3);
  const p = (2 * c.width + 2) * 3;
  assert.deepEqual([...c.pixels.subarray(p, p + 3)], [255, 0, 0]);
});
