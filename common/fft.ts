// SPDX-License-Identifier: MIT
/**
 * @file 2-D discrete Fourier transform of C×H×W images, channel by channel, for the Fourier source
 * noise (common/noise.ts). Any H and W: power-of-two lengths use an iterative radix-2 FFT, others
 * (28 for MNIST) a direct O(n²) DFT over precomputed twiddles, which at these sizes is cheaper than
 * Bluestein. Complex data is kept as separate real and imaginary Float64Arrays.
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
  plan = { n, cos, sin, bitReverse: (n & (n - 1)) === 0 ? bitReversal(n) : null };
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
 * In-place 1-D transform of buffers re/im (length n). sign = -1 forward, +1 inverse (unscaled).
 * scratch holds 2n doubles for the direct DFT.
 */
function transform1d(plan: Plan, re: Float64Array, im: Float64Array, sign: number, scratch: Float64Array): void {
  if (plan.bitReverse) radix2(plan, plan.bitReverse, re, im, sign);
  else directDft(plan, re, im, sign, scratch);
}

function directDft(plan: Plan, re: Float64Array, im: Float64Array, sign: number, scratch: Float64Array): void {
  const { n, cos, sin } = plan;
  for (let k = 0; k < n; k++) {
    let sumRe = 0;
    let sumIm = 0;
    let idx = 0; // (k·j) mod n, advanced by k each step
    for (let j = 0; j < n; j++) {
      // (a + ib)(cos θ + i·sign·sin θ), θ = 2πkj/n
      const c = cos[idx]!;
      const s = sign * sin[idx]!;
      const a = re[j]!;
      const b = im[j]!;
      sumRe += a * c - b * s;
      sumIm += a * s + b * c;
      idx += k;
      if (idx >= n) idx -= n;
    }
    scratch[k] = sumRe;
    scratch[n + k] = sumIm;
  }
  for (let k = 0; k < n; k++) {
    re[k] = scratch[k]!;
    im[k] = scratch[n + k]!;
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

/** Transforms every row then every column of each channel of (re, im) in place. */
function transform2d(re: Float64Array, im: Float64Array, shape: ImageShape, sign: number): void {
  const [channels, height, width] = shape;
  const rowPlan = planFor(width);
  const colPlan = planFor(height);
  const longest = Math.max(width, height);
  const lineRe = new Float64Array(longest);
  const lineIm = new Float64Array(longest);
  const scratch = new Float64Array(2 * longest);
  for (let c = 0; c < channels; c++) {
    const base = c * height * width;
    for (let y = 0; y < height; y++) {
      const row = base + y * width;
      const rRe = re.subarray(row, row + width);
      const rIm = im.subarray(row, row + width);
      transform1d(rowPlan, rRe, rIm, sign, scratch);
    }
    const cRe = lineRe.subarray(0, height);
    const cIm = lineIm.subarray(0, height);
    for (let x = 0; x < width; x++) {
      for (let y = 0; y < height; y++) {
        cRe[y] = re[base + y * width + x]!;
        cIm[y] = im[base + y * width + x]!;
      }
      transform1d(colPlan, cRe, cIm, sign, scratch);
      for (let y = 0; y < height; y++) {
        re[base + y * width + x] = cRe[y]!;
        im[base + y * width + x] = cIm[y]!;
      }
    }
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
 * Inverse fft2 overwriting re/im (no copies); used by the noise sampler, which only keeps the real
 * part.
 */
export function ifft2InPlace(re: Float64Array, im: Float64Array, shape: ImageShape): void {
  assertImageLength(re.length, shape);
  assertImageLength(im.length, shape);
  inverseInPlace(re, im, shape);
}

function inverseInPlace(re: Float64Array, im: Float64Array, shape: ImageShape): void {
  transform2d(re, im, shape, 1);
  const scale = 1 / (shape[1] * shape[2]);
  for (let i = 0; i < re.length; i++) {
    re[i] = re[i]! * scale;
    im[i] = im[i]! * scale;
  }
}
