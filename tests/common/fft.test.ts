// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fft2, fft2Complex, ifft2, type ImageShape } from '../../common/fft.ts';
import { ifft2PairRealInto, ifft2RealInto, mirrorIndex } from '../../common/fft-real.ts';
import { Rng } from '../../common/rng.ts';
import { maxAbsDiff } from '../support/max-abs-diff.ts';

/** Textbook 2-D DFT straight from the definition, per channel. */
function naiveDft2(re: ArrayLike<number>, im: ArrayLike<number>, [channels, h, w]: ImageShape, sign: number) {
  const outRe = new Float64Array(channels * h * w);
  const outIm = new Float64Array(channels * h * w);
  for (let c = 0; c < channels; c++) {
    for (let u = 0; u < h; u++) {
      for (let v = 0; v < w; v++) {
        let sr = 0;
        let si = 0;
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const theta = sign * 2 * Math.PI * ((u * y) / h + (v * x) / w);
            const a = re[c * h * w + y * w + x]!;
            const b = im[c * h * w + y * w + x]!;
            sr += a * Math.cos(theta) - b * Math.sin(theta);
            si += a * Math.sin(theta) + b * Math.cos(theta);
          }
        }
        outRe[c * h * w + u * w + v] = sr;
        outIm[c * h * w + u * w + v] = si;
      }
    }
  }
  return { re: outRe, im: outIm };
}

function randomImage(shape: ImageShape, seed: number): Float32Array {
  return new Rng(seed).fillUniform(new Float32Array(shape[0] * shape[1] * shape[2]), -1, 1);
}

const SHAPES: ImageShape[] = [
  [1, 28, 28],
  [3, 8, 8],
  [2, 6, 10],
  [1, 1, 5],
  [1, 16, 3],
];

for (const shape of SHAPES) {
  void test(`fft2 matches the naive DFT for [${shape.join(', ')}]`, () => {
    const x = randomImage(shape, 1);
    const got = fft2(x, shape);
    const want = naiveDft2(x, new Float64Array(x.length), shape, -1);
    assert.ok(maxAbsDiff(got.re, want.re) < 1e-9);
    assert.ok(maxAbsDiff(got.im, want.im) < 1e-9);
  });

  void test(`ifft2(fft2(x)) returns x for [${shape.join(', ')}]`, () => {
    const x = randomImage(shape, 2);
    const back = ifft2(fft2(x, shape), shape);
    assert.ok(maxAbsDiff(back.re, x) < 1e-6);
    assert.ok(maxAbsDiff(back.im, new Float64Array(x.length)) < 1e-12);
  });
}

void test('complex forward and inverse match the naive DFT with a 1/(HW) inverse scale', () => {
  const shape: ImageShape = [1, 12, 8];
  const input = { re: Float64Array.from(randomImage(shape, 3)), im: Float64Array.from(randomImage(shape, 4)) };
  const forward = fft2Complex(input, shape);
  const wantForward = naiveDft2(input.re, input.im, shape, -1);
  assert.ok(maxAbsDiff(forward.re, wantForward.re) < 1e-9 && maxAbsDiff(forward.im, wantForward.im) < 1e-9);
  const inverse = ifft2(input, shape);
  const wantInverse = naiveDft2(input.re, input.im, shape, 1);
  const scale = 1 / (12 * 8);
  assert.ok(
    maxAbsDiff(
      inverse.re,
      wantInverse.re.map((v) => v * scale),
    ) < 1e-12,
  );
  assert.ok(
    maxAbsDiff(
      inverse.im,
      wantInverse.im.map((v) => v * scale),
    ) < 1e-12,
  );
  assert.deepEqual(input.re, Float64Array.from(randomImage(shape, 3)), 'input is not modified');
});

void test('fft2 of a 64×64 image (radix-2 path) matches the naive DFT at sampled frequencies', () => {
  const shape: ImageShape = [1, 64, 64];
  const x = randomImage(shape, 5);
  const got = fft2(x, shape);
  for (const [u, v] of [
    [0, 0],
    [1, 3],
    [17, 40],
    [63, 63],
    [32, 32],
  ] as const) {
    let sr = 0;
    let si = 0;
    for (let y = 0; y < 64; y++) {
      for (let xx = 0; xx < 64; xx++) {
        const theta = -2 * Math.PI * ((u * y + v * xx) / 64);
        sr += x[y * 64 + xx]! * Math.cos(theta);
        si += x[y * 64 + xx]! * Math.sin(theta);
      }
    }
    assert.ok(Math.abs(got.re[u * 64 + v]! - sr) < 1e-9 && Math.abs(got.im[u * 64 + v]! - si) < 1e-9, `frequency (${u}, ${v})`);
  }
});

void test('ifft2RealInto writes Re(ifft2) as float32 at an offset, for split even (28×28, 2×6×10), radix-2 (3×8×8) and odd sides', () => {
  for (const shape of [
    [1, 28, 28],
    [2, 6, 10],
    [3, 8, 8],
    [2, 7, 5],
    [1, 5, 6],
    [1, 6, 7],
    [1, 1, 4],
    [1, 3, 1],
    [1, 1, 1],
  ] as ImageShape[]) {
    const size = shape[0] * shape[1] * shape[2];
    const spectrum = { re: Float64Array.from(randomImage(shape, 11)), im: Float64Array.from(randomImage(shape, 12)) };
    const expected = naiveDft2(spectrum.re, spectrum.im, shape, 1).re.map((v) => v / (shape[1] * shape[2]));
    const out = new Float32Array(size + 7).fill(9);
    ifft2RealInto(Float64Array.from(spectrum.re), Float64Array.from(spectrum.im), shape, out, 5);
    assert.ok(maxAbsDiff(out.subarray(5, 5 + size), Float32Array.from(expected)) < 1e-6, `[${shape.join(', ')}]`);
    assert.deepEqual([...out.subarray(0, 5), ...out.subarray(5 + size)], [9, 9, 9, 9, 9, 9, 9], 'writes only its slot');
    // The same values as the general inverse, which keeps the imaginary part too.
    assert.ok(maxAbsDiff(Float32Array.from(ifft2(spectrum, shape).re), out.subarray(5, 5 + size)) < 1e-6);
  }
  assert.throws(() => {
    ifft2RealInto(new Float64Array(784), new Float64Array(784), [1, 28, 28], new Float32Array(784), 1);
  }, /do not fit/);
});

void test('ifft2PairRealInto gives Re(ifft2) of two arbitrary (non-Hermitian) spectra with one transform', () => {
  for (const shape of [
    [1, 28, 28],
    [2, 7, 5],
    [3, 8, 8],
  ] as ImageShape[]) {
    const size = shape[0] * shape[1] * shape[2];
    const x1 = { re: Float64Array.from(randomImage(shape, 21)), im: Float64Array.from(randomImage(shape, 22)) };
    const x2 = { re: Float64Array.from(randomImage(shape, 23)), im: Float64Array.from(randomImage(shape, 24)) };
    const copies = [x1, x2].map((x) => ({ re: Float64Array.from(x.re), im: Float64Array.from(x.im) }));
    const out = new Float32Array(2 * size + 3).fill(9);
    // Second image first, to show the two slots are independent.
    ifft2PairRealInto(x1, x2, shape, mirrorIndex(shape), out, size + 3, 0);
    const scale = 1 / (shape[1] * shape[2]);
    const want = [x1, x2].map((x) => Float32Array.from(naiveDft2(x.re, x.im, shape, 1).re.map((v) => v * scale)));
    assert.ok(maxAbsDiff(out.subarray(size + 3), want[0]!) < 1e-6, `first, [${shape.join(', ')}]`);
    assert.ok(maxAbsDiff(out.subarray(0, size), want[1]!) < 1e-6, `second, [${shape.join(', ')}]`);
    assert.deepEqual([...out.subarray(size, size + 3)], [9, 9, 9], 'writes only its slots');
    assert.deepEqual([x1, x2], copies, 'the inputs are only read');
  }
  const x = { re: new Float64Array(4), im: new Float64Array(4) };
  assert.throws(() => {
    ifft2PairRealInto(x, x, [1, 2, 2], mirrorIndex([1, 2, 2]), new Float32Array(6), 0, 3);
  }, /do not fit/);
});

void test('mirrorIndex maps (y, x) to (−y mod H, −x mod W) in the same channel', () => {
  assert.deepEqual([...mirrorIndex([1, 2, 3])], [0, 2, 1, 3, 5, 4]);
  assert.deepEqual([...mirrorIndex([2, 1, 2])], [0, 1, 2, 3]);
});

void test('rejects data whose length does not match the shape', () => {
  assert.throws(() => fft2(new Float32Array(10), [1, 3, 3]), /9/);
  assert.throws(() => fft2(new Float32Array(0), [1, 0, 3]), /positive integers/);
});

void test('28×28 and 3×64×64 transforms: repeated transforms of the serving shapes round-trip exactly', (t) => {
  // Speed is not asserted here (wall-clock limits fail on a loaded machine); the time per image is
  // reported as a diagnostic. What must hold at the shapes the server uses: 50 repeated forward
  // transforms give identical results and each inverts back to the image.
  for (const shape of [
    [1, 28, 28],
    [3, 64, 64],
  ] as ImageShape[]) {
    const x = randomImage(shape, 6);
    const reference = fft2(x, shape);
    const runs = 50;
    const start = performance.now();
    for (let i = 0; i < runs; i++) assert.deepEqual(fft2(x, shape), reference);
    t.diagnostic(`fft2 [${shape.join(', ')}]: ${((performance.now() - start) / runs).toFixed(3)} ms per image`);
    const back = ifft2(reference, shape);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(back.re[i]! - x[i]!));
    assert.ok(worst < 1e-4, `round trip error ${worst}`);
  }
});
