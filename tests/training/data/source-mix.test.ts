// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../common/rng.ts';
import { gaussianBlur } from '../../../common/corruptions.ts';
import {
  SOURCE_FAMILIES,
  affine,
  corruptSource,
  BLUR_SIGMA_MIN,
  BLUR_SIGMA_MAX,
  sourceFamilyDraws,
  BRIDGE_ALPHA,
  bridgeSources,
  mixSources,
  calibrationBatches,
  isMixtureBatch,
  sourceRows,
  tightRowWeights,
  PLAIN_DRAW,
  mixtureDrawOf,
} from '../../../training/data/source-mix.ts';
import type { BatchSource } from '../../../training/data/batches.ts';

const shape = [1, 28, 28] as const;

function digitLike(): Float32Array {
  const x = new Float32Array(784).fill(-1);
  for (let y = 8; y < 20; y++) for (let c = 12; c < 16; c++) x[y * 28 + c] = 1;
  return x;
}

void test('every family returns an image of the same size; only clean leaves it unchanged', () => {
  const x = digitLike();
  for (const family of SOURCE_FAMILIES) {
    const out = corruptSource(family, x, [...shape], new Rng(1));
    assert.equal(out.length, x.length, family);
    assert.ok(out.every(Number.isFinite), family);
    if (family === 'clean') assert.deepEqual(out, x);
    else assert.notDeepEqual(out, x, family);
  }
  assert.equal(x[0], -1, 'the input is never modified');
});

void test('affine with scale 1 and no shift is the identity; a shift moves the stroke', () => {
  const x = digitLike();
  assert.deepEqual(affine(x, [...shape], 1, 0, 0), x);
  const moved = affine(x, [...shape], 1, 3, 0);
  assert.equal(moved[10 * 28 + 12], -1);
  assert.equal(moved[10 * 28 + 15], 1);
});

void test('mixSources replaces round(p·batch) leading rows with corrupted source images, deterministically', () => {
  const source: BatchSource = {
    n: 3,
    shape: [...shape],
    gather: (idx, out) => {
      for (let i = 0; i < idx.length; i++) out.set(digitLike(), i * 784);
    },
  };
  const z = new Float32Array(8 * 784).fill(7);
  mixSources(z, 0.5, 8, source, new Rng(2));
  assert.equal(sourceRows(0.5, 8), 4);
  for (let i = 0; i < 8; i++) {
    const row = z.subarray(i * 784, (i + 1) * 784);
    if (i < 4)
      assert.ok(
        row.some((v) => v !== 7),
        `row ${i} replaced`,
      );
    else
      assert.ok(
        row.every((v) => v === 7),
        `row ${i} kept`,
      );
  }
  const again = new Float32Array(8 * 784).fill(7);
  mixSources(again, 0.5, 8, source, new Rng(2));
  assert.deepEqual(again, z);
  const untouched = new Float32Array(784 * 2).fill(7);
  mixSources(untouched, 0, 2, source, new Rng(2));
  assert.ok(untouched.every((v) => v === 7));
});

void test('the blur family draws σ from [0.6, blurMax]: at blurMax 0.6 it is exactly a σ = 0.6 blur', () => {
  const x = digitLike();
  const exact = corruptSource('blur', x, [...shape], new Rng(3), BLUR_SIGMA_MIN);
  const want = gaussianBlur(Float64Array.from(x), 28, 28, 2 * Math.ceil(3 * BLUR_SIGMA_MIN) + 1, BLUR_SIGMA_MIN);
  for (let i = 0; i < 784; i++) assert.ok(Math.abs(exact[i]! - want[i]!) < 1e-6, `pixel ${i}`);
  const wide = corruptSource('blur', x, [...shape], new Rng(3), 3);
  assert.notDeepEqual(wide, corruptSource('blur', x, [...shape], new Rng(3)), 'a larger blurMax draws another σ from the same stream');
});

void test('bridgeSources fades a source image into each bridge row: (1 − α)·x + α·z with α in [0.5, 0.95]', () => {
  const x = digitLike();
  const source: BatchSource = {
    n: 1,
    shape: [...shape],
    gather: (idx, out) => {
      for (let i = 0; i < idx.length; i++) out.set(x, i * 784);
    },
  };
  const noise = new Rng(4).fillNormal(new Float32Array(8 * 784));
  const z = Float32Array.from(noise);
  bridgeSources(z, 0.25, 0.5, 8, source, new Rng(5));
  for (let i = 0; i < 8; i++) {
    const row = z.subarray(i * 784, (i + 1) * 784);
    const before = noise.subarray(i * 784, (i + 1) * 784);
    if (i < 2 || i >= 6) {
      assert.deepEqual(row, before, `row ${i} is not a bridge row`);
      continue;
    }
    // α from the pixel where x and z differ most, then every pixel must fit that α.
    let k = 0;
    for (let j = 1; j < 784; j++) if (Math.abs(before[j]! - x[j]!) > Math.abs(before[k]! - x[k]!)) k = j;
    const alpha = (row[k]! - x[k]!) / (before[k]! - x[k]!);
    assert.ok(alpha >= BRIDGE_ALPHA[0] - 1e-5 && alpha <= BRIDGE_ALPHA[1] + 1e-5, `row ${i}: α = ${alpha}`);
    for (let j = 0; j < 784; j++) assert.ok(Math.abs(row[j]! - ((1 - alpha) * x[j]! + alpha * before[j]!)) < 1e-4, `row ${i} pixel ${j}`);
  }
  const rng = new Rng(6);
  const state = JSON.stringify(rng.state());
  bridgeSources(z, 0.25, 0, 8, source, rng);
  assert.equal(JSON.stringify(rng.state()), state, 'q = 0 draws nothing, so runs without bridges are unchanged');
  assert.throws(() => {
    bridgeSources(z, 0.75, 0.5, 8, source, new Rng(1));
  }, /do not fit a batch of 8/);
});

void test('tightRowWeights: the mixture rows (the leading round(p·batch)) get sourceTight, the noise rows 1', () => {
  assert.deepEqual(tightRowWeights(0.5, 0, 4), [0, 0, 1, 1]);
  assert.deepEqual(tightRowWeights(0.25, 0.5, 8), [0.5, 0.5, 1, 1, 1, 1, 1, 1]);
  assert.equal(tightRowWeights(0.5, 1, 4), null, 'all ones: no weighting in the graph');
  assert.equal(tightRowWeights(0, 0, 4), null, 'no mixture rows');
});

void test('mixSources with clip keeps every mixture sample inside [-1, 1]; without, Gaussian noise leaves it', () => {
  const images = new Float32Array(16 * 784).map((_, i) => (i % 3 === 0 ? 1 : -1));
  const source: BatchSource = {
    n: 16,
    shape: [...shape],
    gather: (idx, out) => {
      for (let r = 0; r < idx.length; r++) out.set(images.subarray(idx[r]! * 784, (idx[r]! + 1) * 784), r * 784);
    },
  };
  const range = (clip: boolean): [number, number] => {
    const z = new Float32Array(64 * 784);
    mixSources(z, 1, 64, source, new Rng(5), { ...PLAIN_DRAW, clip });
    return [z.reduce((m, v) => Math.min(m, v), Infinity), z.reduce((m, v) => Math.max(m, v), -Infinity)];
  };
  const [lo, hi] = range(false);
  assert.ok(lo < -1 && hi > 1, `unclipped noise leaves the range: [${lo}, ${hi}]`);
  assert.deepEqual(range(true), [-1, 1]);
});

void test('calibrationBatches: serving alternates clean source images and clipped mixture samples; clean has only the former; both by seed', () => {
  const images = new Float32Array(16 * 784).map((_, i) => (Math.floor(i / 784) % 2 === 0 ? -1 : 1) * (i % 7 === 0 ? 0.5 : 1));
  const source: BatchSource = {
    n: 16,
    shape: [...shape],
    gather: (idx, out) => {
      for (let r = 0; r < idx.length; r++) out.set(images.subarray(idx[r]! * 784, (idx[r]! + 1) * 784), r * 784);
    },
  };
  const isSourceImage = (img: Float32Array): boolean =>
    Array.from({ length: 16 }, (_, k) => images.subarray(k * 784, (k + 1) * 784)).some((s) => s.every((v, i) => v === img[i]));
  const next = calibrationBatches(source, 32, 9, 'serving');
  const [clean, mixed] = [next(0), next(1)];
  const rows = (z: Float32Array) => Array.from({ length: 32 }, (_, r) => z.subarray(r * 784, (r + 1) * 784));
  assert.ok(rows(clean).every(isSourceImage), 'even batches are unaltered source images');
  assert.ok(rows(mixed).filter(isSourceImage).length < 32, 'odd batches hold corrupted images');
  assert.ok(
    mixed.every((v) => v >= -1 && v <= 1),
    'odd batches are clipped to the image range',
  );
  const again = calibrationBatches(source, 32, 9, 'serving');
  assert.deepEqual([again(0), again(1)], [clean, mixed]);
  assert.notDeepEqual(calibrationBatches(source, 32, 10, 'serving')(0), clean);
  const cleanOnly = calibrationBatches(source, 32, 9, 'clean');
  assert.deepEqual(cleanOnly(0), clean, 'the same stream draws the same first batch');
  assert.ok(rows(cleanOnly(1)).every(isSourceImage), "'clean' never corrupts");
});

void test('isMixtureBatch spreads the mixture batches by the clean share; one half alternates from a clean batch', () => {
  const pattern = (q: number): string => Array.from({ length: 8 }, (_, i) => (isMixtureBatch(i, q) ? 'm' : 'c')).join('');
  assert.equal(pattern(0.5), 'cmcmcmcm');
  assert.equal(pattern(0.75), 'cccmcccm');
  assert.equal(pattern(0.625), 'ccmccmcm');
  assert.equal(pattern(1), 'cccccccc');
  assert.equal(pattern(0), 'mmmmmmmm');
  for (const q of [0.6, 0.625, 0.7, 0.8]) {
    const clean = Array.from({ length: 160 }, (_, i) => !isMixtureBatch(i, q)).filter(Boolean).length;
    assert.equal(clean, Math.round(160 * q), `q = ${q}`);
  }
});

void test('sourceFamilyDraws: weights repeat families in their order; all weights 1 is the unweighted list, so default runs draw as before', () => {
  assert.deepEqual(sourceFamilyDraws({}), [...SOURCE_FAMILIES]);
  assert.deepEqual(sourceFamilyDraws({ gaussian: 1, clean: 1 }), [...SOURCE_FAMILIES]);
  assert.deepEqual(sourceFamilyDraws({ impulse: 3, clean: 0, affine: 0 }), [
    'gaussian',
    'impulse',
    'impulse',
    'impulse',
    'occlusion',
    'blur',
  ]);
  const source: BatchSource = {
    n: 3,
    shape: [...shape],
    gather: (idx, out) => {
      for (let i = 0; i < idx.length; i++) out.set(digitLike(), i * 784);
    },
  };
  const plain = new Float32Array(8 * 784);
  const weighted = new Float32Array(8 * 784);
  mixSources(plain, 1, 8, source, new Rng(9));
  mixSources(weighted, 1, 8, source, new Rng(9), mixtureDrawOf({ sourceClip: false }));
  assert.deepEqual(weighted, plain, 'the default weights draw exactly the unweighted families');
  // Only the clean family: every mixture row is the source image itself.
  const clean = new Float32Array(4 * 784);
  mixSources(
    clean,
    1,
    4,
    source,
    new Rng(9),
    mixtureDrawOf({ sourceClip: false, sourceWeights: { gaussian: 0, impulse: 0, occlusion: 0, blur: 0, affine: 0 } }),
  );
  for (let i = 0; i < 4; i++) assert.deepEqual(clean.subarray(i * 784, (i + 1) * 784), digitLike(), `row ${i}`);
  // Only impulse: every row differs from the image only where pixels were set to ±1.
  const impulse = new Float32Array(4 * 784);
  mixSources(
    impulse,
    1,
    4,
    source,
    new Rng(9),
    mixtureDrawOf({ sourceClip: false, sourceWeights: { gaussian: 0, impulse: 2, occlusion: 0, blur: 0, affine: 0, clean: 0 } }),
  );
  const x = digitLike();
  for (let i = 0; i < 4; i++) {
    const row = impulse.subarray(i * 784, (i + 1) * 784);
    assert.ok(
      row.some((v, j) => v !== x[j]),
      `row ${i} corrupted`,
    );
    assert.ok(
      row.every((v, j) => v === x[j] || v === 1 || v === -1),
      `row ${i} impulse only`,
    );
  }
  assert.throws(() => {
    mixSources(impulse, 1, 4, source, new Rng(9), { ...PLAIN_DRAW, families: [] });
  }, /at least one source family/);
});

void test('mixtureDrawOf: a recipe gives its own families, blur range and clipping; a card without the fields the defaults, clipped', () => {
  assert.deepEqual(mixtureDrawOf({ sourceWeights: { impulse: 2, clean: 0 }, sourceBlurMax: 3, sourceClip: false }), {
    families: sourceFamilyDraws({ impulse: 2, clean: 0 }),
    blurMax: 3,
    clip: false,
  });
  for (const old of [undefined, {}])
    assert.deepEqual(mixtureDrawOf(old), { families: [...SOURCE_FAMILIES], blurMax: BLUR_SIGMA_MAX, clip: true });
  assert.deepEqual(PLAIN_DRAW, { families: SOURCE_FAMILIES, blurMax: BLUR_SIGMA_MAX, clip: false });
});
