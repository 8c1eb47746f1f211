// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../common/rng.ts';
import { userStyle } from '../../common/user-style.ts';

/** An MNIST-form "7" (light strokes on −1), 28×28. */
const digit = new Float32Array(28 * 28).fill(-1);
for (let x = 8; x < 20; x++) for (let y = 5; y < 8; y++) digit[y * 28 + x] = 1;
for (let y = 8; y < 24; y++) for (let x = 16; x < 19; x++) digit[y * 28 + x - Math.floor((y - 8) / 3)] = 1;

void test('photo: the light-canvas page of the same draw, lit unevenly and with sensor noise, deterministic per seed', () => {
  for (const seed of [1, 2, 3, 4]) {
    const canvas = userStyle('light-canvas', digit, [1, 28, 28], new Rng(seed));
    const photo = userStyle('photo', digit, [1, 28, 28], new Rng(seed));
    assert.deepEqual(photo, userStyle('photo', digit, [1, 28, 28], new Rng(seed)), 'same seed, same photo');
    assert.deepEqual(photo.shape, canvas.shape, 'same canvas');
    assert.ok(
      photo.image.every((v) => v >= -1 && v <= 1),
      'values stay in [-1, 1]',
    );
    // On the paper, photo / canvas brightness is the light (1 − falloff·t, falloff ≥ 0.15) plus noise.
    const [, height, width] = canvas.shape;
    const paper = Math.max(...canvas.image);
    const light: number[] = [];
    for (let p = 0; p < height * width; p++) {
      if (canvas.image[p] === paper) light.push((photo.image[p]! + 1) / (paper + 1));
    }
    light.sort((a, b) => a - b);
    const spread = light[Math.floor(0.95 * light.length)]! - light[Math.floor(0.05 * light.length)]!;
    assert.ok(spread > 0.1, `seed ${seed}: the light varies across the page (5–95 % spread ${spread.toFixed(3)})`);
    const step = photo.image.slice(1, width).map((v, x) => Math.abs(v - photo.image[x]!));
    assert.ok(
      step.some((d) => d > 0),
      `seed ${seed}: neighbouring paper pixels differ (noise)`,
    );
  }
});

void test('page-on-desk: the photographed page with a paper margin, lying on a darker desk that frames it', () => {
  for (const seed of [1, 2, 3]) {
    const canvas = userStyle('light-canvas', digit, [1, 28, 28], new Rng(seed));
    const desk = userStyle('page-on-desk', digit, [1, 28, 28], new Rng(seed));
    const [, side, width] = desk.shape;
    assert.equal(side, width, 'a square frame');
    const pageSide = Math.round(canvas.shape[1] * 1.24);
    assert.ok(side > pageSide && side <= Math.ceil(pageSide / 0.55), `seed ${seed}: frame ${side} around a ${pageSide}-px page`);
    assert.ok(
      desk.image.every((v) => v >= -1 && v <= 1),
      'values stay in [-1, 1]',
    );
    // The desk shows along the frame's border: its median is dark, the page's paper light.
    const ring = [...desk.image.subarray(0, side), ...desk.image.subarray((side - 1) * side)].sort((a, b) => a - b);
    assert.ok(ring[ring.length >> 1]! < -0.3, `seed ${seed}: dark desk on the border (${ring[ring.length >> 1]})`);
    assert.ok(Math.max(...desk.image) > 0.3, `seed ${seed}: light paper`);
  }
});
