// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  blur,
  CORRUPTIONS,
  corrupt,
  gaussianBlur,
  gaussianKernel,
  gaussianNoise,
  impulseNoise,
  isCorruptionKind,
  MASK_VALUE,
  occlusion,
  SKETCH_SIGMA,
} from '../../common/corruptions.ts';
import type { ImageShape } from '../../common/fft.ts';
import { Rng } from '../../common/rng.ts';

function randomImage(shape: ImageShape, seed: number): Float32Array {
  return new Rng(seed).fillUniform(new Float32Array(shape[0] * shape[1] * shape[2]), -1, 1);
}

void test('CORRUPTIONS lists the four Fig. 5 corruptions', () => {
  assert.deepEqual([...CORRUPTIONS], ['noise', 'mask', 'sketch', 'grayscale']);
  assert.ok(isCorruptionKind('sketch') && !isCorruptionKind('blur'));
  assert.equal(SKETCH_SIGMA, 3.5);
});

void test('grayscale replicates the channel mean and is the identity for one channel', () => {
  // 3×1×2: pixel 0 = (1, 0, -1) → 0; pixel 1 = (0.5, 0.5, -0.4) → 0.2
  const x = Float32Array.from([1, 0.5, 0, 0.5, -1, -0.4]);
  const g = corrupt('grayscale', x, [3, 1, 2], new Rng(1));
  const want = [0, 0.2, 0, 0.2, 0, 0.2];
  want.forEach((v, i) => {
    assert.ok(Math.abs(g[i]! - v) < 1e-6, `value ${i}: ${g[i]}`);
  });
  const mono = randomImage([1, 4, 4], 2);
  const same = corrupt('grayscale', mono, [1, 4, 4], new Rng(1));
  assert.deepEqual(same, mono);
  assert.notEqual(same, mono, 'returns a new array');
});

void test('noise adds N(0, 0.15²) and is reproducible from the seed', () => {
  const shape: ImageShape = [3, 32, 32];
  const x = randomImage(shape, 3);
  const y = corrupt('noise', x, shape, new Rng(4));
  const diff = y.map((v, i) => v - x[i]!);
  const mean = diff.reduce((a, b) => a + b, 0) / diff.length;
  const std = Math.sqrt(diff.reduce((a, b) => a + (b - mean) ** 2, 0) / diff.length);
  assert.ok(Math.abs(mean) < 0.01 && Math.abs(std - 0.15) < 0.008, `mean ${mean}, std ${std}`);
  assert.deepEqual(corrupt('noise', x, shape, new Rng(4)), y);
});

void test('mask sets one square of side min(H, W)/2 to -1 in every channel, reproducibly', () => {
  const shape: ImageShape = [3, 28, 28];
  const x = new Float32Array(3 * 28 * 28).fill(0.5);
  const seen = new Set<string>();
  for (let seed = 0; seed < 20; seed++) {
    const y = corrupt('mask', x, shape, new Rng(seed));
    const masked: number[] = [];
    y.forEach((v, i) => {
      if (v === MASK_VALUE) masked.push(i);
      else assert.equal(v, 0.5);
    });
    assert.equal(masked.length, 3 * 14 * 14);
    const rows = masked.filter((i) => i < 784).map((i) => Math.floor(i / 28));
    const cols = masked.filter((i) => i < 784).map((i) => i % 28);
    assert.equal(Math.max(...rows) - Math.min(...rows), 13);
    assert.equal(Math.max(...cols) - Math.min(...cols), 13);
    seen.add(`${Math.min(...rows)},${Math.min(...cols)}`);
    assert.deepEqual(corrupt('mask', x, shape, new Rng(seed)), y);
  }
  assert.ok(seen.size > 10, 'the square moves with the seed');
});

void test('sketch of a constant image is 0, of the black image -1, and bounded in [-1, 1]', () => {
  const shape: ImageShape = [3, 16, 16];
  for (const value of [0.7, 0, -0.5]) {
    const s = corrupt('sketch', new Float32Array(3 * 256).fill(value), shape, new Rng(1));
    assert.ok(
      s.every((v) => Math.abs(v) < 1e-6),
      `constant ${value}`,
    );
  }
  const black = corrupt('sketch', new Float32Array(3 * 256).fill(-1), shape, new Rng(1));
  assert.ok(black.every((v) => v === -1));
  const edges = corrupt('sketch', randomImage(shape, 5), shape, new Rng(1));
  assert.ok(edges.every((v) => v >= -1 && v <= 1));
  assert.ok(
    edges.some((v) => Math.abs(v) > 0.05),
    'a textured image is not flat',
  );
});

void test('sketch brightens a bright pixel on a darker background (ratio to its blurred neighbourhood)', () => {
  const shape: ImageShape = [1, 28, 28];
  const x = new Float32Array(784).fill(-0.5);
  x[14 * 28 + 14] = 0.5;
  const s = corrupt('sketch', x, shape, new Rng(1));
  // g = 1.5 at the dot and 0.5 around it; the blur there is ≈ 0.5 + 1·w₀², w₀ = centre tap.
  const w0 = gaussianKernel(21, 3.5)[10]!;
  const want = 1.5 / (0.5 + w0 * w0) - 1;
  assert.ok(Math.abs(s[14 * 28 + 14]! - Math.min(1, want)) < 1e-5, `${s[14 * 28 + 14]} vs ${want}`);
  assert.ok(Math.abs(s[0]!) < 1e-6, 'beyond the kernel radius the background ratio is 1');
  assert.ok(s[14 * 28 + 4]! < 0 && s[14 * 28 + 4]! > -0.1, 'within the radius the blur is brighter than the background');
});

void test('gaussianBlur preserves constants and the kernel sums to 1 (reflect-101 borders)', () => {
  const taps = gaussianKernel(21, 3.5);
  assert.ok(Math.abs(taps.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.equal(taps[0], taps[20]);
  const plane = new Float64Array(5 * 7).fill(2);
  assert.ok(gaussianBlur(plane, 5, 7, 21, 3.5).every((v) => Math.abs(v - 2) < 1e-12));
});

void test('corrupt rejects an image that does not match the shape', () => {
  assert.throws(() => corrupt('noise', new Float32Array(10), [1, 3, 3], new Rng(1)), /needs 9/);
});

void test('benchmark families: noise strength and clipping, impulse rate, occlusion size, blur', () => {
  const shape: ImageShape = [1, 100, 100];
  const x = new Float32Array(100 * 100).fill(-0.2);
  const noisy = gaussianNoise(x, shape, new Rng(3), { sigma: 0.5 });
  assert.ok(
    noisy.every((v) => v >= -1 && v <= 1),
    'clipped to [-1, 1]',
  );
  const raw = gaussianNoise(x, shape, new Rng(3), { sigma: 0.5, clip: false });
  const std = Math.sqrt(raw.reduce((s, v) => s + (v + 0.2) ** 2, 0) / raw.length);
  assert.ok(Math.abs(std - 0.5) < 0.02, `std ${std}`);
  assert.ok(
    raw.some((v) => v < -1),
    'unclipped noise leaves the range',
  );
  assert.deepEqual(gaussianNoise(x, shape, new Rng(3), { sigma: 0.5 }), noisy, 'seeded');

  const impulsed = impulseNoise(x, shape, new Rng(4), { rate: 0.2 });
  const salt = impulsed.filter((v) => v === 1).length / x.length;
  const pepper = impulsed.filter((v) => v === -1).length / x.length;
  assert.ok(Math.abs(salt - 0.1) < 0.015 && Math.abs(pepper - 0.1) < 0.015, `salt ${salt}, pepper ${pepper}`);
  assert.equal(impulsed.filter((v) => v === Math.fround(-0.2)).length, Math.round(x.length * (1 - salt - pepper)));
  // The salt share splits the same draw: salt = 1 turns every replaced pixel white, salt = 0 black,
  // at the same positions, and the default ½ is the split above.
  const white = impulseNoise(x, shape, new Rng(4), { rate: 0.2, salt: 1 });
  const black = impulseNoise(x, shape, new Rng(4), { rate: 0.2, salt: 0 });
  assert.equal(white.filter((v) => v === 1).length, black.filter((v) => v === -1).length);
  assert.equal(white.filter((v) => v === -1).length + black.filter((v) => v === 1).length, 0);
  assert.equal(white.filter((v) => v === 1).length, impulsed.filter((v) => v !== Math.fround(-0.2)).length);
  assert.deepEqual(impulseNoise(x, shape, new Rng(4), { rate: 0.2, salt: 0.5 }), impulsed);

  const rgb = new Float32Array(3 * 20 * 20).fill(0.5);
  const occluded = occlusion(rgb, [3, 20, 20], new Rng(5), { size: 7 });
  assert.equal(occluded.filter((v) => v === MASK_VALUE).length, 3 * 49, 'a 7×7 patch in every channel');
  assert.equal(occlusion(rgb, [3, 20, 20], new Rng(5), { size: 7, value: 1 }).filter((v) => v === 1).length, 3 * 49);

  const flat = blur(x, shape, new Rng(0), { sigma: 1 });
  assert.ok(
    flat.every((v) => Math.abs(v + 0.2) < 1e-6),
    'a constant image is unchanged',
  );
  const dot = new Float32Array(15 * 15);
  dot[7 * 15 + 7] = 1;
  const spread = blur(dot, [1, 15, 15], new Rng(0), { sigma: 1 });
  assert.ok(Math.abs(spread.reduce((s, v) => s + v, 0) - 1) < 1e-6, 'mass preserved away from the border');
  assert.ok(spread[7 * 15 + 7]! < 0.2 && spread[7 * 15 + 8]! > 0.05, 'spread to the neighbours');
});
