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

export interface Plan {
  readonly n: number;
  /** cos(2πk/n), sin(2πk/n) for k < n. */
  readonly cos: Float64Array;
  readonly sin: Float64Array;
  /** Bit-reversal permutation when n is a power of two, else null (direct DFT). */
  readonly bitReverse: Uint32Array | null;
  /**
   * With m = n without its factors of two (the length of the direct DFTs at the bottom of splitEven):
   * cos(2π·kj/m) and sin(2π·kj/m) at [k·m + j], the direct DFT's twiddles as m×m matrices.
   */
  readonly oddCos: Float64Array;
  readonly oddSin: Float64Array;
}

const plans = new Map<number, Plan>();

export function planFor(n: number): Plan {
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
  plan = { n, cos, sin, bitReverse: (n & (n - 1)) === 0 ? bitReversal(n) : null, oddCos, oddSin };
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
    // n is the plan's odd part here: X[k] = Σ_j x[j]·e^{sign·2πi·kj/n}, twiddles from the plan's matrices.
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
export function transform2d(re: Float64Array, im: Float64Array, shape: ImageShape, sign: number): void {
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
export interface LineBuffers {
  /** splitEven's output, [re of n | im of n]. */
  readonly scratch: Float64Array;
  /** A power-of-two line copied out for the in-place radix-2 passes. */
  readonly lineRe: Float64Array;
  readonly lineIm: Float64Array;
}

export function lineBuffers(longest: number): LineBuffers {
  return { scratch: new Float64Array(2 * longest), lineRe: new Float64Array(longest), lineIm: new Float64Array(longest) };
}

/** One 1-D transform of the n values at off, off + stride, … of (re, im), in place. */
export function line(
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

function inverseInPlace(re: Float64Array, im: Float64Array, shape: ImageShape): void {
  transform2d(re, im, shape, 1);
  const scale = 1 / (shape[1] * shape[2]);
  for (let i = 0; i < re.length; i++) {
    re[i] = re[i]! * scale;
    im[i] = im[i]! * scale;
  }
}
