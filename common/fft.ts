// SPDX-License-Identifier: MIT
/**
 * @file 2-D discrete Fourier transform of C×H×W images, channel by channel, for the Fourier source
 * noise (common/noise.ts). Any H and W: power-of-two lengths use an iterative radix-2 FFT, other
 * even lengths (28 for MNIST) split off factors of two down to an odd length, and odd lengths use a
 * direct O(n²) DFT over precomputed twiddles, which at these sizes is cheaper than Bluestein.
 * Complex data is kept as separate real and imaginary Float64Arrays.
 *
 * Conventions match numpy.fft.fft2 / torch.fft.fft2: forward X[u,v] = Σ x[y,x]·e^{-2πi(uy/H + vx/W)},
 * inverse divides by H·W.
 */
import { assertImageLength, type ImageShape } from './image-shape.ts';

export { assertImageLength, assertImageShape, shapeSize, type ImageShape } from './image-shape.ts';

export interface ComplexImage {
  readonly re: Float64Array;
  readonly im: Float64Array;
}

interface Plan {
  readonly n: number;
  /** cos(2πk/n), sin(2πk/n) for k < n. */
  readonly cos: Float64Array;
  readonly sin: Float64Array;
  /** Bit-reversal permutation when n is a power of two, else null (direct DFT). */
  readonly bitReverse: Uint32Array | null;
  /** n without its factors of two: the length of the direct DFTs at the bottom of splitEven. */
  readonly odd: number;
  /** cos(2π·kj/odd) and sin(2π·kj/odd) at [k·odd + j]: the direct DFT's twiddles as matrices. */
  readonly oddCos: Float64Array;
  readonly oddSin: Float64Array;
}

const plans = new Map<number, Plan>();

function planFor(n: number): Plan {
  let plan = plans.get(n);
  if (plan) return plan;
  const cos = new Float64Array(n);
  const sin = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = Math.sin((2 * Math.PI * k) / n);
  }
  let odd = n;
  while (odd % 2 === 0) odd /= 2;
  // The same table entries the direct DFT used to index as cos[((k·j) mod odd)·n/odd], laid out
  // row by row, so the inner loop reads consecutive values and the results are bit for bit the same.
  const oddCos = new Float64Array(odd * odd);
  const oddSin = new Float64Array(odd * odd);
  for (let k = 0; k < odd; k++) {
    for (let j = 0; j < odd; j++) {
      oddCos[k * odd + j] = cos[((k * j) % odd) * (n / odd)]!;
      oddSin[k * odd + j] = sin[((k * j) % odd) * (n / odd)]!;
    }
  }
  plan = { n, cos, sin, bitReverse: (n & (n - 1)) === 0 ? bitReversal(n) : null, odd, oddCos, oddSin };
  plans.set(n, plan);
  return plan;
}

function bitReversal(n: number): Uint32Array {
  const bits = Math.round(Math.log2(n));
  const rev = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >>> b) & 1) << (bits - 1 - b);
    rev[i] = r;
  }
  return rev;
}

/**
 * Any length that is not a power of two. Decimation in time while the length is even (28 = 2·2·7
 * for MNIST): the n-point DFT of x[off + j·stride] is two n/2-point DFTs (even and odd samples)
 * joined by one butterfly layer, X[k] = E[k] + w^k·O[k], X[k + n/2] = E[k] − w^k·O[k] with
 * w = e^{sign·2πi/n}; an odd length is a direct DFT (the whole transform when n itself is odd). For 28 that
 * is 4·7² + 42 complex multiplies instead of 28² = 784. Writes X into out (re at outOff, im at
 * outOff + plan.n); the twiddles of every level are entries of the top-level table.
 */
function splitEven(
  plan: Plan,
  re: Float64Array,
  im: Float64Array,
  off: number,
  stride: number,
  n: number,
  out: Float64Array,
  outOff: number,
  sign: number,
): void {
  const { cos, sin } = plan;
  const imOff = plan.n; // out holds [re of all n | im of all n]
  const step = plan.n / n; // e^{2πi·k/n} = table[k·step]
  if (n % 2 !== 0) {
    // n === plan.odd here: X[k] = Σ_j x[j]·e^{sign·2πi·kj/n}, twiddles from the plan's matrices.
    const { oddCos, oddSin } = plan;
    for (let k = 0; k < n; k++) {
      let sumRe = 0;
      let sumIm = 0;
      const row = k * n;
      for (let j = 0; j < n; j++) {
        const c = oddCos[row + j]!;
        const s = sign * oddSin[row + j]!;
        const a = re[off + j * stride]!;
        const b = im[off + j * stride]!;
        sumRe += a * c - b * s;
        sumIm += a * s + b * c;
      }
      out[outOff + k] = sumRe;
      out[imOff + outOff + k] = sumIm;
    }
    return;
  }
  const half = n / 2;
  splitEven(plan, re, im, off, 2 * stride, half, out, outOff, sign);
  splitEven(plan, re, im, off + stride, 2 * stride, half, out, outOff + half, sign);
  for (let k = 0; k < half; k++) {
    const c = cos[k * step]!;
    const s = sign * sin[k * step]!;
    const e = outOff + k;
    const o = e + half;
    const tRe = out[o]! * c - out[imOff + o]! * s;
    const tIm = out[o]! * s + out[imOff + o]! * c;
    out[o] = out[e]! - tRe;
    out[imOff + o] = out[imOff + e]! - tIm;
    out[e] = out[e]! + tRe;
    out[imOff + e] = out[imOff + e]! + tIm;
  }
}

function radix2(plan: Plan, rev: Uint32Array, re: Float64Array, im: Float64Array, sign: number): void {
  const { n, cos, sin } = plan;
  for (let i = 0; i < n; i++) {
    const j = rev[i]!;
    if (j > i) {
      const tr = re[i]!;
      re[i] = re[j]!;
      re[j] = tr;
      const ti = im[i]!;
      im[i] = im[j]!;
      im[j] = ti;
    }
  }
  for (let size = 2; size <= n; size *= 2) {
    const half = size / 2;
    const step = n / size; // twiddle stride: e^{sign·2πi·k/size} = table[k·step]
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const c = cos[k * step]!;
        const s = sign * sin[k * step]!;
        const a = start + k;
        const b = a + half;
        const tRe = re[b]! * c - im[b]! * s;
        const tIm = re[b]! * s + im[b]! * c;
        re[b] = re[a]! - tRe;
        im[b] = im[a]! - tIm;
        re[a] = re[a]! + tRe;
        im[a] = im[a]! + tIm;
      }
    }
  }
}

/**
 * Transforms every row then every column of each channel of (re, im) in place. Lengths that are not
 * powers of two read their line straight from (re, im) with a stride and write it back from
 * scratch, so no line is copied out first and nothing is allocated per line.
 */
function transform2d(re: Float64Array, im: Float64Array, shape: ImageShape, sign: number): void {
  const [channels, height, width] = shape;
  const rowPlan = planFor(width);
  const colPlan = planFor(height);
  const buffers = lineBuffers(Math.max(width, height));
  for (let c = 0; c < channels; c++) {
    const base = c * height * width;
    for (let y = 0; y < height; y++) line(rowPlan, re, im, base + y * width, 1, sign, buffers);
    for (let x = 0; x < width; x++) line(colPlan, re, im, base + x, width, sign, buffers);
  }
}

/** Work space of line() for lines up to `longest` values, allocated once per 2-D transform. */
interface LineBuffers {
  /** splitEven's output, [re of n | im of n]. */
  readonly scratch: Float64Array;
  /** A power-of-two line copied out for the in-place radix-2 passes. */
  readonly lineRe: Float64Array;
  readonly lineIm: Float64Array;
}

function lineBuffers(longest: number): LineBuffers {
  return { scratch: new Float64Array(2 * longest), lineRe: new Float64Array(longest), lineIm: new Float64Array(longest) };
}

/** One 1-D transform of the n values at off, off + stride, … of (re, im), in place. */
function line(
  plan: Plan,
  re: Float64Array,
  im: Float64Array,
  off: number,
  stride: number,
  sign: number,
  { scratch, lineRe, lineIm }: LineBuffers,
): void {
  const n = plan.n;
  if (plan.bitReverse) {
    const lRe = lineRe.subarray(0, n);
    const lIm = lineIm.subarray(0, n);
    for (let j = 0; j < n; j++) {
      lRe[j] = re[off + j * stride]!;
      lIm[j] = im[off + j * stride]!;
    }
    radix2(plan, plan.bitReverse, lRe, lIm, sign);
    for (let j = 0; j < n; j++) {
      re[off + j * stride] = lRe[j]!;
      im[off + j * stride] = lIm[j]!;
    }
    return;
  }
  splitEven(plan, re, im, off, stride, n, scratch, 0, sign);
  for (let j = 0; j < n; j++) {
    re[off + j * stride] = scratch[j]!;
    im[off + j * stride] = scratch[n + j]!;
  }
}

/** fft2 of a real C×H×W image (each channel separately). */
export function fft2(image: ArrayLike<number>, shape: ImageShape): ComplexImage {
  assertImageLength(image.length, shape);
  const re = Float64Array.from(image);
  const im = new Float64Array(re.length);
  transform2d(re, im, shape, -1);
  return { re, im };
}

/** Forward fft2 of a complex image; the input is not modified. */
export function fft2Complex(input: ComplexImage, shape: ImageShape): ComplexImage {
  assertImageLength(input.re.length, shape);
  assertImageLength(input.im.length, shape);
  const re = Float64Array.from(input.re);
  const im = Float64Array.from(input.im);
  transform2d(re, im, shape, -1);
  return { re, im };
}

/** Inverse fft2 (scaled by 1/(H·W)); the input is not modified. */
export function ifft2(input: ComplexImage, shape: ImageShape): ComplexImage {
  assertImageLength(input.re.length, shape);
  assertImageLength(input.im.length, shape);
  const re = Float64Array.from(input.re);
  const im = Float64Array.from(input.im);
  inverseInPlace(re, im, shape);
  return { re, im };
}

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

function inverseInPlace(re: Float64Array, im: Float64Array, shape: ImageShape): void {
  transform2d(re, im, shape, 1);
  const scale = 1 / (shape[1] * shape[2]);
  for (let i = 0; i < re.length; i++) {
    re[i] = re[i]! * scale;
    im[i] = im[i]! * scale;
  }
}
