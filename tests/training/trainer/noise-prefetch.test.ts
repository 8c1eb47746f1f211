// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeFourierStats, sampleNoise } from '../../../common/noise.ts';
import { Rng } from '../../../common/rng.ts';
import { NoisePrefetcher } from '../../../training/trainer/noise-prefetch.ts';
import { noiseRng, sourceRng } from '../../../training/trainer/noise-stream.ts';
import { imageSource, toShared, type SharedImages } from '../../../training/data/shared-images.ts';
import { PLAIN_DRAW, bridgeSources, mixSources, sourceFamilyDraws } from '../../../training/data/source-mix.ts';
import { Progress } from '../../../training/trainer/progress.ts';

void test('noise drawn ahead by the worker equals noise drawn on the main thread, step by step', async () => {
  const shape = [1, 6, 6] as const;
  const images = new Rng(1).fillUniform(new Float32Array(30 * 36), -1, 1);
  const stats = computeFourierStats(images, 30, [...shape]);
  for (const spec of [{ kind: 'fourier' as const }, { kind: 'fourier' as const, hermitian: true }, { kind: 'gaussian' as const }]) {
    const prefetcher = new NoisePrefetcher({ spec, stats, shape: [...shape], seed: 9, batch: 3, mix: null });
    try {
      // In order, then a jump (as after a resume), then in order again.
      for (const step of [1, 2, 3, 10, 11]) {
        const want = sampleNoise(spec, stats, [...shape], noiseRng(9, step), 3);
        assert.deepEqual(await prefetcher.take(step), want, `${spec.kind} step ${step}`);
      }
    } finally {
      await prefetcher.close();
    }
  }
});

void test('mixture-source rows drawn by the worker from shared memory equal those drawn on the main thread', async () => {
  const shape = [1, 6, 6] as const;
  const floats = new Rng(2).fillUniform(new Float32Array(20 * 36), -1, 1);
  const bytes = Uint8Array.from(floats, (v) => Math.round((v + 1) * 127.5));
  for (const data of [toShared(floats), toShared(bytes)]) {
    const images: SharedImages = { data, n: 20, shape: [...shape] };
    assert.ok(images.data.buffer instanceof SharedArrayBuffer);
    for (const clip of [false, true]) {
      const mix = { p: 0.5, draw: { ...PLAIN_DRAW, clip }, bridge: 0, images };
      const prefetcher = new NoisePrefetcher({ spec: { kind: 'gaussian' }, stats: null, shape: [...shape], seed: 4, batch: 4, mix });
      try {
        for (const step of [1, 2, 7]) {
          const want = sampleNoise({ kind: 'gaussian' }, null, [...shape], noiseRng(4, step), 4);
          mixSources(want, 0.5, 4, imageSource(images), sourceRng(4, step), mix.draw);
          const got = await prefetcher.take(step);
          assert.deepEqual(got, want, `${data.constructor.name} clip ${clip} step ${step}`);
          // Two of the four rows are sources: inside [-1, 1] when clipped, and not the plain noise.
          const noiseOnly = sampleNoise({ kind: 'gaussian' }, null, [...shape], noiseRng(4, step), 4);
          assert.notDeepEqual(got.subarray(0, 72), noiseOnly.subarray(0, 72));
          assert.deepEqual(got.subarray(72), noiseOnly.subarray(72));
          if (clip) assert.ok(got.subarray(0, 72).every((v) => v >= -1 && v <= 1));
        }
      } finally {
        await prefetcher.close();
      }
    }
  }
});

void test('bridge rows (and the blur range and family weights) drawn by the worker equal those drawn on the main thread, after the mixture rows', async () => {
  const shape = [1, 6, 6] as const;
  const floats = new Rng(3).fillUniform(new Float32Array(20 * 36), -1, 1);
  const images: SharedImages = { data: toShared(floats), n: 20, shape: [...shape] };
  const families = sourceFamilyDraws({ impulse: 3, clean: 0 });
  const draw = { families, blurMax: 3, clip: true };
  const mix = { p: 0.25, draw, bridge: 0.5, images };
  const prefetcher = new NoisePrefetcher({ spec: { kind: 'gaussian' }, stats: null, shape: [...shape], seed: 5, batch: 8, mix });
  try {
    for (const step of [1, 4]) {
      const want = sampleNoise({ kind: 'gaussian' }, null, [...shape], noiseRng(5, step), 8);
      const rng = sourceRng(5, step);
      mixSources(want, 0.25, 8, imageSource(images), rng, draw);
      bridgeSources(want, 0.25, 0.5, 8, imageSource(images), rng);
      const got = await prefetcher.take(step);
      assert.deepEqual(got, want, `step ${step}`);
      const noiseOnly = sampleNoise({ kind: 'gaussian' }, null, [...shape], noiseRng(5, step), 8);
      assert.notDeepEqual(got.subarray(2 * 36, 6 * 36), noiseOnly.subarray(2 * 36, 6 * 36), 'rows 2–5 are bridge rows');
      assert.deepEqual(got.subarray(6 * 36), noiseOnly.subarray(6 * 36), 'rows 6–7 stay noise');
    }
  } finally {
    await prefetcher.close();
  }
});

void test('a noise worker that cannot draw (no Fourier statistics) rejects instead of hanging', async () => {
  const prefetcher = new NoisePrefetcher({ spec: { kind: 'fourier' }, stats: null, shape: [1, 4, 4], seed: 1, batch: 2, mix: null });
  try {
    await assert.rejects(prefetcher.take(1));
  } finally {
    await prefetcher.close();
  }
});

void test('the progress line shows the share of time outside session.run when given', () => {
  const lines: string[] = [];
  let now = 0;
  const progress = new Progress({
    total: 4,
    startStep: 0,
    every: 2,
    stream: { write: (t: string) => lines.push(t), isTTY: false },
    now: () => (now += 100),
  });
  progress.update(1, 0, { 'loss.total': 1 }, 0.05);
  progress.update(2, 0, { 'loss.total': 1 }, 0.05);
  assert.match(lines[0]!, /10\.00 it\/s host 5\.0% ETA/);
});
