// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fft2, type ImageShape } from '../../common/fft.ts';
import { computeFourierStats, computeNoiseStats, sampleNoise, withFourierMean, type FourierStats } from '../../common/noise.ts';
import { parseNoiseStats, serializeNoiseStats } from '../../common/noise-stats-file.ts';
import { Rng } from '../../common/rng.ts';

/** Images with structure in frequency space: a random-phase low-frequency wave plus pixel noise. */
function syntheticImages(count: number, [channels, h, w]: ImageShape, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(count * channels * h * w);
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < channels; c++) {
      const phase = rng.uniform() * 2 * Math.PI;
      const amp = 0.3 + 0.2 * rng.uniform();
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const wave = amp * Math.cos((2 * Math.PI * x) / w + phase) + 0.2 * (y / h) - 0.1 * c;
          out[((i * channels + c) * h + y) * w + x] = Math.tanh(wave + 0.1 * rng.normal());
        }
      }
    }
  }
  return out;
}

function isSelfConjugate(u: number, v: number, h: number, w: number): boolean {
  return (2 * u) % h === 0 && (2 * v) % w === 0;
}

/** Per-frequency sample mean and std of Re and Im of fft2 over count images. */
function spectrumMoments(images: Float32Array, count: number, shape: ImageShape) {
  const size = shape[0] * shape[1] * shape[2];
  const acc = { re: [new Float64Array(size), new Float64Array(size)], im: [new Float64Array(size), new Float64Array(size)] };
  for (let i = 0; i < count; i++) {
    const f = fft2(images.subarray(i * size, (i + 1) * size), shape);
    for (let k = 0; k < size; k++) {
      acc.re[0]![k]! += f.re[k]!;
      acc.re[1]![k]! += f.re[k]! ** 2;
      acc.im[0]![k]! += f.im[k]!;
      acc.im[1]![k]! += f.im[k]! ** 2;
    }
  }
  const finish = ([s, s2]: Float64Array[]) => {
    const mean = s!.map((v) => v / count);
    const std = s2!.map((v, k) => Math.sqrt(Math.max(0, v / count - mean[k]! ** 2)));
    return { mean, std };
  };
  return { re: finish(acc.re), im: finish(acc.im) };
}

void test('computeFourierStats gives the per-frequency mean and unbiased std of fft2', () => {
  const shape: ImageShape = [1, 4, 6];
  const images = syntheticImages(5, shape, 1);
  const stats = computeFourierStats(images, 5, shape);
  const spectra = [0, 1, 2, 3, 4].map((i) => fft2(images.subarray(i * 24, (i + 1) * 24), shape));
  for (const k of [0, 1, 7, 23]) {
    const values = spectra.map((f) => f.re[k]!);
    const mean = values.reduce((a, b) => a + b) / 5;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / 4);
    assert.ok(Math.abs(stats.meanRe[k]! - mean) < 1e-5 && Math.abs(stats.stdRe[k]! - std) < 1e-5, `frequency ${k}`);
  }
  assert.equal(stats.count, 5);
  assert.equal(stats.stdIm[0], 0, 'the DC term of a real image has no imaginary part');
});

void test('fourier noise reproduces the statistics: same means, std/√2 off the self-conjugate frequencies', () => {
  const shape: ImageShape = [2, 8, 6];
  const [, h, w] = shape;
  const stats = computeFourierStats(syntheticImages(400, shape, 2), 400, shape);
  const count = 3000;
  const noise = sampleNoise({ kind: 'fourier' }, stats, shape, new Rng(3), count);
  const got = spectrumMoments(noise, count, shape);
  const z = 5.5; // per-frequency bound; 96×4 checks stay below a 1e-4 false-alarm rate
  for (let c = 0; c < shape[0]; c++) {
    for (let u = 0; u < h; u++) {
      for (let v = 0; v < w; v++) {
        const k = (c * h + u) * w + v;
        const selfConj = isSelfConjugate(u, v, h, w);
        const wantStdRe = selfConj ? stats.stdRe[k]! : stats.stdRe[k]! / Math.SQRT2;
        const wantStdIm = selfConj ? 0 : stats.stdIm[k]! / Math.SQRT2;
        const wantMeanIm = selfConj ? 0 : stats.meanIm[k]!;
        const where = `channel ${c}, frequency (${u}, ${v})`;
        assert.ok(Math.abs(got.re.mean[k]! - stats.meanRe[k]!) <= (z * wantStdRe) / Math.sqrt(count) + 1e-6, `Re mean at ${where}`);
        assert.ok(Math.abs(got.im.mean[k]! - wantMeanIm) <= (z * wantStdIm) / Math.sqrt(count) + 1e-6, `Im mean at ${where}`);
        assert.ok(Math.abs(got.re.std[k]! - wantStdRe) <= (z * wantStdRe) / Math.sqrt(2 * count) + 1e-6, `Re std at ${where}`);
        assert.ok(Math.abs(got.im.std[k]! - wantStdIm) <= (z * wantStdIm) / Math.sqrt(2 * count) + 1e-6, `Im std at ${where}`);
      }
    }
  }
});

void test('the same seed gives the same noise, another seed different noise', () => {
  const shape: ImageShape = [1, 6, 6];
  const stats = computeFourierStats(syntheticImages(20, shape, 4), 20, shape);
  for (const kind of ['gaussian', 'fourier'] as const) {
    const a = sampleNoise({ kind }, stats, shape, new Rng(7), 3);
    const b = sampleNoise({ kind }, stats, shape, new Rng(7), 3);
    const c = sampleNoise({ kind }, stats, shape, new Rng(8), 3);
    assert.equal(a.length, 3 * 36);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  }
});

void test('fourier noise drawn two images per transform equals the images drawn one at a time', () => {
  const shape: ImageShape = [2, 6, 10];
  const stats = computeFourierStats(syntheticImages(20, shape, 8), 20, shape);
  for (const hermitian of [false, true]) {
    const batch = sampleNoise({ kind: 'fourier', hermitian }, stats, shape, new Rng(5), 5);
    const rng = new Rng(5);
    for (let i = 0; i < 5; i++) {
      const one = sampleNoise({ kind: 'fourier', hermitian }, stats, shape, rng, 1);
      const got = batch.subarray(i * 120, (i + 1) * 120);
      assert.ok(
        got.every((v, k) => Math.abs(v - one[k]!) <= 1e-6 * Math.max(1, Math.abs(v))),
        `image ${i}, hermitian ${hermitian}`,
      );
    }
  }
});

void test('withFourierMean scales the mean spectrum except each channel’s DC; the noise mean follows', () => {
  const shape: ImageShape = [2, 4, 6];
  const stats = computeFourierStats(syntheticImages(30, shape, 9), 30, shape);
  assert.equal(withFourierMean(stats, 1), stats);
  const half = withFourierMean(stats, 0.5);
  for (let k = 0; k < 48; k++) {
    const dc = k % 24 === 0;
    assert.equal(half.meanRe[k], Math.fround(dc ? stats.meanRe[k]! : stats.meanRe[k]! * 0.5), `Re ${k}`);
    assert.equal(half.meanIm[k], Math.fround(dc ? stats.meanIm[k]! : stats.meanIm[k]! * 0.5), `Im ${k}`);
  }
  assert.deepEqual([half.stdRe, half.stdIm], [stats.stdRe, stats.stdIm]);
  assert.deepEqual(computeNoiseStats('fourier', syntheticImages(30, shape, 9), 30, shape, { fourierMean: 0.5 }), half);
  // With m = 0 every draw's mean over many images is the per-channel mean level (a flat image).
  const flat = withFourierMean(stats, 0);
  const z = sampleNoise({ kind: 'fourier' }, flat, shape, new Rng(2), 4000);
  for (let c = 0; c < 2; c++) {
    const level = flat.meanRe[c * 24]! / 24;
    for (const k of [0, 7, 23]) {
      let sum = 0;
      for (let i = 0; i < 4000; i++) sum += z[i * 48 + c * 24 + k]!;
      assert.ok(Math.abs(sum / 4000 - level) < 0.05, `channel ${c}, pixel ${k}: ${sum / 4000} vs ${level}`);
    }
  }
});

void test('gaussian noise is N(0, 1) and needs no statistics', () => {
  const noise = sampleNoise({ kind: 'gaussian' }, null, [3, 8, 8], new Rng(9), 200);
  const mean = noise.reduce((a, b) => a + b, 0) / noise.length;
  const variance = noise.reduce((a, b) => a + (b - mean) ** 2, 0) / noise.length;
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05, `mean ${mean}, variance ${variance}`);
});

void test('fourier noise without statistics, or with statistics of another shape, is refused', () => {
  const stats = computeFourierStats(syntheticImages(4, [1, 4, 4], 5), 4, [1, 4, 4]);
  assert.throws(() => sampleNoise({ kind: 'fourier' }, null, [1, 4, 4], new Rng(1), 1), /statistics/);
  assert.throws(() => sampleNoise({ kind: 'fourier' }, stats, [1, 5, 4], new Rng(1), 1), /\[1, 4, 4\]/);
  assert.throws(() => computeFourierStats(new Float32Array(16), 2, [1, 4, 4]), /asked for 2/);
});

void test('serialized statistics parse back bit for bit', () => {
  const shape: ImageShape = [3, 5, 7];
  const stats = computeFourierStats(syntheticImages(10, shape, 6), 10, shape);
  const bytes = serializeNoiseStats(stats);
  assert.equal(bytes.length % 4, 0);
  const back = parseNoiseStats(new Uint8Array(bytes)) as FourierStats;
  assert.equal(back.kind, 'fourier');
  assert.deepEqual(back.shape, [3, 5, 7]);
  assert.equal(back.count, 10);
  for (const key of ['meanRe', 'stdRe', 'meanIm', 'stdIm'] as const) assert.deepEqual(back[key], stats[key]);
});

void test('the file formats are stable: the bundled Fourier and Fourier-mixture statistics re-serialise to the same bytes', async () => {
  for (const [model, kind] of [
    ['fashion-mnist', 'fourier'],
    ['mnist', 'fourier-mixture'],
  ] as const) {
    const bytes = await readFile(new URL(`../../models/${model}/noise-stats.bin`, import.meta.url));
    const stats = parseNoiseStats(bytes);
    assert.equal(stats.kind, kind, model);
    assert.deepEqual(serializeNoiseStats(stats), bytes, model);
  }
});

void test('malformed statistics files are rejected with a reason', () => {
  const bytes = serializeNoiseStats(computeFourierStats(syntheticImages(3, [1, 2, 2], 7), 3, [1, 2, 2]));
  assert.throws(() => parseNoiseStats(Buffer.from('not a stats file')), /bad magic/);
  assert.throws(() => parseNoiseStats(bytes.subarray(0, bytes.length - 4)), /expected/);
  const badHeader = Buffer.from(bytes);
  badHeader.write('X', 12, 'ascii');
  assert.throws(() => parseNoiseStats(badHeader), /header/);
});

void test('Hermitian fourier noise has the full per-frequency variance of the statistics', () => {
  const shape: ImageShape = [2, 8, 6];
  const [, h, w] = shape;
  const stats = computeFourierStats(syntheticImages(400, shape, 2), 400, shape);
  const count = 3000;
  const noise = sampleNoise({ kind: 'fourier', hermitian: true }, stats, shape, new Rng(3), count);
  const got = spectrumMoments(noise, count, shape);
  const z = 5.5;
  let offSelfConjugate = 0;
  for (let c = 0; c < shape[0]; c++) {
    for (let u = 0; u < h; u++) {
      for (let v = 0; v < w; v++) {
        const k = (c * h + u) * w + v;
        const selfConj = isSelfConjugate(u, v, h, w);
        const wantStdIm = selfConj ? 0 : stats.stdIm[k]!;
        const wantMeanIm = selfConj ? 0 : stats.meanIm[k]!;
        const where = `channel ${c}, frequency (${u}, ${v})`;
        assert.ok(Math.abs(got.re.mean[k]! - stats.meanRe[k]!) <= (z * stats.stdRe[k]!) / Math.sqrt(count) + 1e-6, `Re mean at ${where}`);
        assert.ok(Math.abs(got.im.mean[k]! - wantMeanIm) <= (z * wantStdIm) / Math.sqrt(count) + 1e-5, `Im mean at ${where}`);
        assert.ok(Math.abs(got.re.std[k]! - stats.stdRe[k]!) <= (z * stats.stdRe[k]!) / Math.sqrt(2 * count) + 1e-6, `Re std at ${where}`);
        assert.ok(Math.abs(got.im.std[k]! - wantStdIm) <= (z * wantStdIm) / Math.sqrt(2 * count) + 1e-5, `Im std at ${where}`);
        if (!selfConj && stats.stdRe[k]! > 1e-3) offSelfConjugate += 1;
      }
    }
  }
  assert.ok(offSelfConjugate > 40, 'the check covered the non-self-conjugate frequencies');
  // The default recipe at the same frequencies has std/√2: the two samplers really differ.
  const plain = spectrumMoments(sampleNoise({ kind: 'fourier' }, stats, shape, new Rng(3), count), count, shape);
  assert.ok(plain.re.std[1]! < 0.8 * got.re.std[1]!, `${plain.re.std[1]} vs ${got.re.std[1]}`);
});

void test('Fourier noise for a seed is pinned: pairs bit for bit (training batches), single images to rounding', () => {
  // Values produced before the sampler's speed-ups (int32 rng state, twiddle matrices, the
  // half-spectrum single-image inverse): a training run's noise must not move, so resumed and
  // re-run trainings stay exact; a single image may differ in the last bits only.
  const rng = new Rng(21);
  const images = new Float32Array(50 * 784);
  for (let i = 0; i < images.length; i++) images[i] = rng.uniform() * 2 - 1;
  const stats = computeFourierStats(images, 50, [1, 28, 28]);
  const pinned = {
    plain: [0.0670168399810791, 0.17198196053504944, 0.7519009113311768, 0.48017218708992004],
    hermitian: [0.0740240216255188, 0.24692262709140778, 1.0383564233779907, 0.6417551636695862],
  };
  for (const [name, values] of Object.entries(pinned)) {
    const hermitian = name === 'hermitian';
    const pair = sampleNoise({ kind: 'fourier', hermitian }, stats, [1, 28, 28], new Rng(99), 2);
    assert.deepEqual([pair[0], pair[100], pair[783], pair[1567]], values, `${name}, two images`);
    const single = sampleNoise({ kind: 'fourier', hermitian }, stats, [1, 28, 28], new Rng(99), 1);
    [single[0]!, single[100]!, single[783]!].forEach((v, i) => {
      assert.ok(Math.abs(v - values[i]!) <= 1e-6, `${name}, one image, value ${i}: ${v} vs ${values[i]}`);
    });
  }
});
