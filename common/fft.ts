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
 * scratch holds 2n doubles for lengths that are not powers of two.
 */
function transform1d(plan: Plan, re: Float64Array, im: Float64Array, sign: number, scratch: Float64Array): void {
  if (plan.bitReverse) {
    radix2(plan, plan.bitReverse, re, im, sign);
    return;
  }
  splitEven(plan, re, im, 0, 1, plan.n, scratch, 0, sign);
  re.set(scratch.subarray(0, plan.n));
  im.set(scratch.subarray(plan.n, 2 * plan.n));
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
    for (let k = 0; k < n; k++) {
      let sumRe = 0;
      let sumIm = 0;
      let idx = 0; // (k·j) mod n
      for (let j = 0; j < n; j++) {
        const c = cos[idx * step]!;
        const s = sign * sin[idx * step]!;
        const a = re[off + j * stride]!;
        const b = im[off + j * stride]!;
        sumRe += a * c - b * s;
        sumIm += a * s + b * c;
        idx += k;
        if (idx >= n) idx -= n;
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
 * Writes Re(ifft2(re + i·im)) of a C×H×W spectrum into out[offset …] as float32, the part the noise
 * sampler keeps, without allocating. re and im are overwritten (callers pass scratch buffers).
 */
export function ifft2RealInto(re: Float64Array, im: Float64Array, shape: ImageShape, out: Float32Array, offset = 0): void {
  assertImageLength(re.length, shape);
  assertImageLength(im.length, shape);
  if (!Number.isInteger(offset) || offset < 0 || offset + re.length > out.length) {
    throw new RangeError(`ifft2RealInto: ${re.length} values do not fit in ${out.length} at offset ${offset}`);
  }
  transform2d(re, im, shape, 1);
  const scale = 1 / (shape[1] * shape[2]);
  for (let i = 0; i < re.length; i++) out[offset + i] = re[i]! * scale;
}

function inverseInPlace(re: Float64Array, im: Float64Array, shape: ImageShape): void {
  transform2d(re, im, shape, 1);
  const scale = 1 / (shape[1] * shape[2]);
  for (let i = 0; i < re.length; i++) {
    re[i] = re[i]! * scale;
    im[i] = im[i]! * scale;
  }
}
