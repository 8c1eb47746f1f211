// SPDX-License-Identifier: MIT
import assert from 'node:assert/strict';

/** max_i |a_i − b_i| of two equally long arrays (asserts the lengths agree). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'arrays of different lengths');
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}
