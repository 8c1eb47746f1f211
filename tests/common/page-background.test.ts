// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateBackground, FLAT_TOLERANCE } from '../../common/page-background.ts';
import { Rng } from '../../common/rng.ts';

const H = 90;
const W = 120;

/** A page of brightness light(x, y)·paper with a dark ring of `ink` (reflectance) centred on it, plus noise σ. */
function photographed(
  light: (x: number, y: number) => number,
  options: { paper?: number; ink?: number; sigma?: number; seed?: number } = {},
) {
  const { paper = 0.9, ink = 0.15, sigma = 0, seed = 1 } = options;
  const rng = new Rng(seed);
  const gray = new Float32Array(H * W);
  const truth = new Float32Array(H * W);
  const stroke = new Uint8Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const r = Math.hypot(x - W / 2, y - H / 2);
      const p = y * W + x;
      stroke[p] = r > 18 && r < 26 ? 1 : 0;
      truth[p] = paper * light(x, y);
      gray[p] = (stroke[p] === 1 ? ink : paper) * light(x, y) + sigma * rng.normal();
    }
  }
  return { gray, truth, stroke };
}

void test('an evenly lit, noiseless page is flat: the border level itself and no noise', () => {
  const { gray } = photographed(() => 1);
  assert.deepEqual(estimateBackground(gray, H, W, true, 0.9), { level: 0.9, noise: 0 });
  const dark = gray.map((v) => 1 - v);
  assert.deepEqual(estimateBackground(dark, H, W, false, 0.1), { level: 0.1, noise: 0 });
});

void test('a page lit unevenly gets its lighting back under the strokes too, within a grey level', () => {
  const light = (x: number, y: number): number => 1 - 0.45 * (0.6 * (x / (W - 1)) + 0.4 * (y / (H - 1)));
  const { gray, truth, stroke } = photographed(light);
  const { level, noise } = estimateBackground(gray, H, W, true, 0.7);
  assert.ok(level instanceof Float32Array, 'a surface, not one level');
  assert.equal(noise, 0);
  let worst = 0;
  let worstUnderStroke = 0;
  for (let p = 0; p < H * W; p++) {
    const error = Math.abs(level[p]! - truth[p]!);
    if (stroke[p] === 1) worstUnderStroke = Math.max(worstUnderStroke, error);
    else worst = Math.max(worst, error);
  }
  assert.ok(worst < 1 / 255, `paper: worst error ${worst}`);
  assert.ok(worstUnderStroke < 1 / 255, `under the strokes: worst error ${worstUnderStroke}`);
});

void test('sensor noise is measured (σ within 15 %) and does not move the fitted lighting', () => {
  const light = (x: number, y: number): number => 1 - (0.3 * ((x - W / 2) ** 2 + (y - H / 2) ** 2)) / ((W / 2) ** 2 + (H / 2) ** 2);
  for (const sigma of [0.01, 0.03]) {
    const { gray, truth } = photographed(light, { sigma, seed: 7 });
    const { level, noise } = estimateBackground(gray, H, W, true, 0.75);
    assert.ok(Math.abs(noise - sigma) < 0.15 * sigma, `σ ${sigma}: measured ${noise}`);
    assert.ok(level instanceof Float32Array);
    let worst = 0;
    for (let p = 0; p < H * W; p++) worst = Math.max(worst, Math.abs(level[p]! - truth[p]!));
    assert.ok(worst < 0.02, `σ ${sigma}: worst surface error ${worst}`);
  }
});

void test('a large dark region does not bend the fit: a page with a thick band stays flat', () => {
  const gray = new Float32Array(40 * 100).fill(1);
  for (let y = 15; y < 25; y++) for (let x = 10; x < 90; x++) gray[y * 100 + x] = 0;
  assert.deepEqual(estimateBackground(gray, 40, 100, true, 1), { level: 1, noise: 0 });
});

void test('a lighting change under the flat tolerance, and pages too small to fit, fall back to the border level', () => {
  const faint = photographed((x) => 1 - (0.5 * FLAT_TOLERANCE * x) / (W - 1)).gray;
  assert.deepEqual(estimateBackground(faint, H, W, true, 0.9), { level: 0.9, noise: 0 });
  const row = Float32Array.from({ length: 30 }, (_, x) => 1 - x / 60);
  assert.deepEqual(estimateBackground(row, 1, 30, true, 0.8), { level: 0.8, noise: 0 }, 'one row: no surface in y');
});

void test('a digital image whose content covers most of the page stays flat: its border sits at one stored level', () => {
  // A dark garment filling 24×26 of a 28×28 black page, shaded from 0.02 on its left to 0.18 on its
  // right: within the first rounds' reach of the page's level, so a fit would lean on it.
  const gray = new Float32Array(28 * 28);
  for (let y = 1; y < 27; y++) for (let x = 2; x < 26; x++) gray[y * 28 + x] = 0.02 + (0.16 * (x - 2)) / 23 + ((x * 7 + y * 13) % 5) / 200;
  assert.deepEqual(estimateBackground(gray, 28, 28, false, 0), { level: 0, noise: 0 });
  assert.deepEqual(
    estimateBackground(
      gray.map((v) => 1 - v),
      28,
      28,
      true,
      1,
    ),
    { level: 1, noise: 0 },
  );
});
