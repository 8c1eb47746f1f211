// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { computeFourierStats, sampleNoise, type NoiseSpec } from '../../common/noise.ts';
import { Rng } from '../../common/rng.ts';
import { drawNoise, materialiseInput } from '../../server/inference/job-input.ts';
import { startRealApp } from './helpers.ts';

const SHAPE = [1, 8, 8] as const;
const SIZE = 64;
const stats = computeFourierStats(new Rng(1).fillUniform(new Float32Array(16 * SIZE), -1, 1), 16, SHAPE);

void test('a noise draw is exactly sampleNoise of its seed, for both noise kinds and Hermitian spectra', () => {
  for (const spec of [{ kind: 'gaussian' }, { kind: 'fourier' }, { kind: 'fourier', hermitian: true }] satisfies NoiseSpec[]) {
    const drawn = drawNoise({ spec, shape: SHAPE, seed: 7, count: 3 }, stats);
    assert.deepEqual(drawn, sampleNoise(spec, stats, SHAPE, new Rng(7), 3), spec.kind);
  }
});

void test('a path draw runs from the first image of one seed to that of the other in equal steps', () => {
  const spec: NoiseSpec = { kind: 'fourier' };
  const path = drawNoise({ spec, shape: SHAPE, seed: 1, to: 2, count: 5 }, stats);
  const from = sampleNoise(spec, stats, SHAPE, new Rng(1), 1);
  const to = sampleNoise(spec, stats, SHAPE, new Rng(2), 1);
  assert.deepEqual(path.subarray(0, SIZE), from);
  assert.deepEqual(path.subarray(4 * SIZE), to);
  for (let j = 0; j < SIZE; j++) assert.equal(path[2 * SIZE + j], Math.fround(0.5 * from[j]! + 0.5 * to[j]!));
});

void test('parts are laid end to end in order: images as sent, draws where they stand', () => {
  const images = new Float32Array(2 * SIZE).fill(0.25);
  const spec: NoiseSpec = { kind: 'gaussian' };
  const out = materialiseInput([images, { spec, shape: SHAPE, seed: 3, count: 1 }, images.subarray(0, SIZE)], null);
  assert.equal(out.length, 4 * SIZE);
  assert.deepEqual(out.subarray(0, 2 * SIZE), images);
  assert.deepEqual(out.subarray(2 * SIZE, 3 * SIZE), sampleNoise(spec, null, SHAPE, new Rng(3), 1));
  assert.ok(out.subarray(3 * SIZE).every((v) => v === 0.25));
  assert.throws(
    () => materialiseInput([{ spec: { kind: 'fourier' }, shape: SHAPE, seed: 1, count: 1 }], null),
    /fourier noise needs fourier statistics/,
  );
});

void test("/generate's worker draws the seed's noise: δ(z) = RMS(f(z) − z) of that very z", async () => {
  const server = await startRealApp({ noise: 'gaussian' });
  try {
    const res = await request(server.handle.app).post('/generate').set('Accept', 'application/json').send({ seed: 11, count: 2 });
    assert.equal(res.status, 200);
    const z = sampleNoise({ kind: 'gaussian' }, null, SHAPE, new Rng(11), 2);
    const images = (res.body as { images: { residual: number }[] }).images;
    images.forEach((image, n) => {
      let sum = 0;
      for (let i = n * SIZE; i < (n + 1) * SIZE; i++) sum += (Math.fround(Math.tanh(0.8 * z[i]! + 0.1)) - z[i]!) ** 2;
      assert.ok(Math.abs(image.residual - Math.sqrt(sum / SIZE)) < 1e-5, `image ${n}: ${image.residual} vs ${Math.sqrt(sum / SIZE)}`);
    });
  } finally {
    await server.close();
  }
});
