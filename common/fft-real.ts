// SPDX-License-Identifier: MIT
/**
 * @file Inverse 2-D DFTs whose output is real, for the Fourier source noise (common/noise.ts): the
 * sampler keeps Re(ifft2 X) of a spectrum X that is not Hermitian, and Re(ifft2 X) = ifft2(herm X)
 * with herm X[k] = (X[k] + conj X[−k]) / 2. A Hermitian spectrum's inverse is real, which leaves
 * half of a complex transform unused: one image fills it by pairing its rows (ifft2RealInto), two
 * images by sharing one complex transform (ifft2PairRealInto). The 1-D transforms are fft.ts's.
 */
import { assertImageLength, line, lineBuffers, planFor, transform2d, type ComplexImage, type ImageShape } from './fft.ts';

/**
 * Writes Re(ifft2(re + i·im)) of a C×H×W spectrum into out[offset …] as float32, the part the noise
 * sampler keeps. re and im are overwritten (callers pass scratch buffers).
 *
 * Re(ifft2 X) = ifft2(herm X) with herm X[k] = (X[k] + conj X[−k]) / 2, a Hermitian spectrum, and
 * half of that transform is redundant. Per channel: (1) the inverse DFT along y of herm X for the
 * columns kx = 0 … ⌊W/2⌋ only, G[y, kx]; the other columns follow from G[y, −kx] = conj G[y, kx].
 * (2) Each row of G is Hermitian in kx, so its inverse DFT is real, and two rows y₁, y₂ share one
 * complex transform: ifft(G[y₁] + i·G[y₂]) carries row y₁ in its real part and y₂ in its imaginary
 * part. That is ⌊W/2⌋ + 1 + ⌈H/2⌉ one-dimensional transforms instead of H + W (29 instead of 56
 * for 28×28). The values equal the full complex inverse's real part up to rounding (float32
 * outputs within an ulp or two; tests/common/fft.test.ts).
 */
export function ifft2RealInto(re: Float64Array, im: Float64Array, shape: ImageShape, out: Float32Array, offset = 0): void {
  assertImageLength(re.length, shape);
  assertImageLength(im.length, shape);
  if (!Number.isInteger(offset) || offset < 0 || offset + re.length > out.length) {
    throw new RangeError(`ifft2RealInto: ${re.length} values do not fit in ${out.length} at offset ${offset}`);
  }
  const [channels, height, width] = shape;
  const rowPlan = planFor(width);
  const colPlan = planFor(height);
  const buffers = lineBuffers(Math.max(width, height));
  const halfW = Math.floor(width / 2);
  const scale = 1 / (height * width);
  for (let c = 0; c < channels; c++) {
    const base = c * height * width;
    hermitianHalf(re, im, base, height, width, halfW);
    for (let kx = 0; kx <= halfW; kx++) line(colPlan, re, im, base + kx, width, 1, buffers);
    for (let y = 0; y < height; y++) {
      const row = base + y * width;
      for (let kx = halfW + 1; kx < width; kx++) {
        re[row + kx] = re[row + width - kx]!;
        im[row + kx] = -im[row + width - kx]!;
      }
    }
    for (let y = 0; y < height; y += 2) {
      const r1 = base + y * width;
      if (y + 1 < height) {
        // Row y + 1 rides in the imaginary part: (a + ib) + i(c + id) = (a − d) + i(b + c).
        const r2 = r1 + width;
        for (let kx = 0; kx < width; kx++) {
          const a = re[r1 + kx]!;
          const b = im[r1 + kx]!;
          re[r1 + kx] = a - im[r2 + kx]!;
          im[r1 + kx] = b + re[r2 + kx]!;
        }
        line(rowPlan, re, im, r1, 1, 1, buffers);
        for (let x = 0; x < width; x++) {
          out[offset + r1 + x] = re[r1 + x]! * scale;
          out[offset + r2 + x] = im[r1 + x]! * scale;
        }
      } else {
        line(rowPlan, re, im, r1, 1, 1, buffers);
        for (let x = 0; x < width; x++) out[offset + r1 + x] = re[r1 + x]! * scale;
      }
    }
  }
}

/**
 * herm X = (X[k] + conj X[−k]) / 2 in place for the columns kx ≤ halfW of one H×W channel at base
 * (all the column pass reads). Pairs (k, −k) that both lie in those columns are updated together,
 * so every value is computed from the original X; kx = 0 and, for even W, kx = W/2 are their own
 * mirror columns.
 */
function hermitianHalf(re: Float64Array, im: Float64Array, base: number, height: number, width: number, halfW: number): void {
  for (let kx = 0; kx <= halfW; kx++) {
    const mx = (width - kx) % width;
    for (let ky = 0; ky < height; ky++) {
      const my = (height - ky) % height;
      const k = base + ky * width + kx;
      const m = base + my * width + mx;
      if (mx <= halfW && m < k) continue; // updated with its partner below
      const kRe = re[k]!;
      const kIm = im[k]!;
      const mRe = re[m]!;
      const mIm = im[m]!;
      re[k] = 0.5 * (kRe + mRe);
      im[k] = 0.5 * (kIm - mIm);
      if (mx <= halfW && m !== k) {
        re[m] = 0.5 * (mRe + kRe);
        im[m] = 0.5 * (mIm - kIm);
      }
    }
  }
}

/** Index of −k (per channel, modulo H and W) for every element k of a C×H×W spectrum. */
export function mirrorIndex([c, h, w]: ImageShape): Uint32Array {
  const out = new Uint32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) out[(ch * h + y) * w + x] = (ch * h + ((h - y) % h)) * w + ((w - x) % w);
    }
  }
  return out;
}

/**
 * Re(ifft2(X₁)) and Re(ifft2(X₂)) of two C×H×W spectra for the price of one complex transform.
 * Re(ifft2(X)) = ifft2(herm X) with herm X[k] = (X[k] + conj X[−k]) / 2, and ifft2 of a Hermitian
 * spectrum is real; ifft2 is linear, so ifft2(herm X₁ + i·herm X₂) carries Re(ifft2 X₁) in its real
 * part and Re(ifft2 X₂) in its imaginary part. The results equal two ifft2RealInto calls up to
 * rounding (a different sum order: float32 outputs agree within an ulp or two). `mirror` is
 * mirrorIndex(shape); the four inputs are only read.
 */
export function ifft2PairRealInto(
  x1: ComplexImage,
  x2: ComplexImage,
  shape: ImageShape,
  mirror: Uint32Array,
  out: Float32Array,
  offset1: number,
  offset2: number,
): void {
  const size = x1.re.length;
  for (const x of [x1, x2]) {
    assertImageLength(x.re.length, shape);
    assertImageLength(x.im.length, shape);
  }
  for (const offset of [offset1, offset2]) {
    if (!Number.isInteger(offset) || offset < 0 || offset + size > out.length) {
      throw new RangeError(`ifft2PairRealInto: ${size} values do not fit in ${out.length} at offset ${offset}`);
    }
  }
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let k = 0; k < size; k++) {
    const m = mirror[k]!;
    // herm X₁ = (a, b), herm X₂ = (c, d); packed: (a − d) + i·(b + c).
    const a = 0.5 * (x1.re[k]! + x1.re[m]!);
    const b = 0.5 * (x1.im[k]! - x1.im[m]!);
    const c = 0.5 * (x2.re[k]! + x2.re[m]!);
    const d = 0.5 * (x2.im[k]! - x2.im[m]!);
    re[k] = a - d;
    im[k] = b + c;
  }
  transform2d(re, im, shape, 1);
  const scale = 1 / (shape[1] * shape[2]);
  for (let k = 0; k < size; k++) {
    out[offset1 + k] = re[k]! * scale;
    out[offset2 + k] = im[k]! * scale;
  }
}
