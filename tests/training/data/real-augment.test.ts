// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../common/rng.ts';
import { affine } from '../../../training/data/source-mix.ts';
import { AUGMENT_FAMILIES, augmentImage, augmentRows, crossFilter } from '../../../training/data/real-augment.ts';

const shape = [1, 28, 28] as const;

/** A vertical bar, light (1) on a dark (−1) ground. */
function bar(): Float32Array {
  const x = new Float32Array(784).fill(-1);
  for (let y = 6; y < 22; y++) for (let c = 13; c < 15; c++) x[y * 28 + c] = 1;
  return x;
}

const ink = (x: Float32Array): number => x.reduce((sum, v) => sum + (v + 1) / 2, 0);

void test('crossFilter: dilation spreads one light pixel to its 4 neighbours, erosion removes it', () => {
  const x = new Float32Array(25).fill(-1);
  x[12] = 1;
  const grown = crossFilter(x, [1, 5, 5], true);
  assert.deepEqual(
    [...grown.keys()].filter((i) => grown[i] === 1),
    [7, 11, 12, 13, 17],
  );
  assert.ok(crossFilter(x, [1, 5, 5], false).every((v) => v === -1));
});

void test('thicken adds ink and thin removes it; every family stays in [-1, 1] and leaves its input alone', () => {
  const x = bar();
  const before = ink(x);
  assert.ok(ink(augmentImage('thicken', x, [...shape], new Rng(1))) > before * 1.2);
  assert.ok(ink(augmentImage('thin', x, [...shape], new Rng(1))) < before * 0.8);
  for (const family of AUGMENT_FAMILIES) {
    for (let seed = 0; seed < 20; seed++) {
      const out = augmentImage(family, x, [...shape], new Rng(seed));
      assert.ok(
        out.every((v) => v >= -1 && v <= 1),
        `${family} seed ${seed}`,
      );
      assert.notDeepEqual(out, x, family);
    }
  }
  assert.deepEqual(x, bar(), 'the input is not modified');
});

void test('affine rotation: a quarter turn maps a vertical bar to a horizontal one; angle 0 is the identity', () => {
  const x = bar();
  assert.deepEqual(affine(x, [...shape], 1, 0, 0, 0), x);
  const turned = affine(x, [...shape], 1, 0, 0, Math.PI / 2);
  // Rows 13–14 now carry the stroke across columns 6–21 (up to bilinear edge pixels).
  assert.ok(turned[13 * 28 + 10]! > 0.9 && turned[14 * 28 + 17]! > 0.9);
  assert.ok(turned[8 * 28 + 13]! < -0.9, 'the vertical stroke is gone');
  assert.ok(Math.abs(ink(turned) - ink(x)) < 0.5, 'a quarter turn about the centre keeps the ink');
});

void test('augmentRows changes exactly the first round(p·batch) rows, deterministically for one rng seed', () => {
  const batch = 8;
  const fresh = (): Float32Array => {
    const images = new Float32Array(batch * 784);
    for (let i = 0; i < batch; i++) images.set(bar(), i * 784);
    return images;
  };
  const a = fresh();
  augmentRows(a, 0.5, batch, [...shape], new Rng(3));
  const b = fresh();
  augmentRows(b, 0.5, batch, [...shape], new Rng(3));
  assert.deepEqual(a, b);
  for (let i = 0; i < batch; i++) {
    const row = a.subarray(i * 784, (i + 1) * 784);
    if (i < 4) assert.notDeepEqual(row, bar(), `row ${i} augmented`);
    else assert.deepEqual(row, bar(), `row ${i} untouched`);
  }
  const none = fresh();
  const rng = new Rng(3);
  augmentRows(none, 0, batch, [...shape], rng);
  assert.deepEqual(none, fresh());
  assert.deepEqual(rng.state(), new Rng(3).state(), 'p = 0 draws nothing');
});

void test('augmentRows draws only from the families it is given', () => {
  const images = new Float32Array(4 * 784);
  for (let i = 0; i < 4; i++) images.set(bar(), i * 784);
  augmentRows(images, 1, 4, [...shape], new Rng(5), ['thicken']);
  for (let i = 0; i < 4; i++) assert.ok(ink(images.subarray(i * 784, (i + 1) * 784)) > ink(bar()), `row ${i} is thicker`);
});
