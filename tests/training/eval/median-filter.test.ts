// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { medianFilter3x3 } from '../../../training/eval/median-filter.ts';

void test('3×3 median removes an isolated impulse, keeps edges, replicates the border, per image and channel', () => {
  // 2 images of 1×4×4: an impulse on flat ground, and a vertical step edge.
  const flat = new Float32Array(16).fill(-1);
  flat[5] = 1;
  const edge = Float32Array.from({ length: 16 }, (_, i) => (i % 4 < 2 ? -1 : 1));
  const out = medianFilter3x3(Float32Array.from([...flat, ...edge]), [1, 4, 4]);
  assert.deepEqual(Array.from(out.subarray(0, 16)), new Array<number>(16).fill(-1));
  assert.deepEqual(Array.from(out.subarray(16)), Array.from(edge));
  // Border replication: a corner value is the median of its clamped window.
  const ramp = Float32Array.from({ length: 9 }, (_, i) => i);
  assert.equal(medianFilter3x3(ramp, [1, 3, 3])[0], 1, 'window 0 0 1 0 0 1 3 3 4 → 1');
  assert.throws(() => medianFilter3x3(new Float32Array(5), [1, 2, 2]), RangeError);
});
