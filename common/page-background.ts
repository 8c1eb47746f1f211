// SPDX-License-Identifier: MIT
/**
 * @file How bright the background of a sent image is at each pixel, and how noisy: a photographed
 * page is lit unevenly (brighter on one side, darker in a corner) and carries sensor noise, so one
 * background level for the whole page turns its darker side into "ink" and its noise into content.
 *
 * The background is a quadratic surface B(u, v) = c₀ + c₁u + c₂v + c₃u² + c₄uv + c₅v² (u, v the
 * pixel position scaled to [−½, ½]) fitted by least squares to the background pixels. They are
 * found by iterating on a grid of about MAX_SAMPLES pixels (the surface is then evaluated at every
 * pixel), starting from the pixels within TAU_START of the border's level and fitting a plane for
 * the first PLANE_ROUNDS rounds, so that a large stroke cannot bend the first fits: fit, take each
 * pixel's residual toward the ink side r = B − g (light page) or g − B (dark page), keep the pixels
 * with r < τ, τ = max(TAU_MIN, 3σ), σ = 1.4826·MAD of the kept residuals (the noise's standard
 * deviation for Gaussian noise), until the kept set stops changing. Strokes are a minority of the
 * page and lie far on the ink side, so they drop out in the first rounds.
 *
 * Falling back to the flat, noiseless page (one level, the given border median): a page whose border
 * sits mostly at exactly the border's level (a digital image: the faint edges of its strokes, or a
 * garment covering most of it, could otherwise tilt the fit), a fit that keeps too few pixels, and a
 * singular fit. So a clean digital image is normalised exactly as without this step. A surface
 * varying by less than FLAT_TOLERANCE becomes that one level, and a noise σ under NOISE_TOLERANCE none.
 */

/** A surface varying by less than this (grey levels in [0, 1]; ≈ 8 of 255) counts as a flat page. */
export const FLAT_TOLERANCE = 0.03;
/** Noise under this σ (≈ 1.5 of 255 grey levels: 8-bit rounding is 0.3) counts as none. */
export const NOISE_TOLERANCE = 0.006;
/** Within half an 8-bit grey level: the same stored value as the border's level. */
const EXACT_LEVEL = 0.5 / 255;
/** Smallest residual threshold (grey levels) that keeps a pixel in the background. */
const TAU_MIN = 0.02;
const MAX_ROUNDS = 8;
/** The first rounds keep pixels within this of the border's level and fit a plane (u, v terms only). */
const TAU_START = 0.2;
const PLANE_ROUNDS = 2;
/** The fit needs this share of the page as background, else the page is taken as flat. */
const MIN_BACKGROUND_SHARE = 0.2;
const BASIS = 6;
/** The fit uses a grid of about this many pixels (every pixel of a page up to 64×64). */
const MAX_SAMPLES = 4096;

export interface PageBackground {
  /** Background brightness per pixel (H×W), or one level for a flat page. */
  readonly level: Float32Array | number;
  /** Standard deviation of the background's noise in grey levels; 0 for a clean image. */
  readonly noise: number;
}

/**
 * `gray`: the H×W channel mean in [0, 1]; `light`: whether the page is light (dark ink); `border`:
 * the page's level from its border (the flat fallback).
 */
export function estimateBackground(gray: Float32Array, height: number, width: number, light: boolean, border: number): PageBackground {
  const flat: PageBackground = { level: border, noise: 0 };
  // A digital page: half its border or more sits exactly at the border's level.
  if (medianOf(borderRing(gray, height, width).map((v) => Math.abs(v - border))) <= EXACT_LEVEL) return flat;
  // The lighting is smooth: fit on a grid of at most about MAX_SAMPLES pixels, evaluate everywhere.
  const stride = Math.max(1, Math.ceil(Math.sqrt((height * width) / MAX_SAMPLES)));
  const samples: number[] = [];
  for (let y = 0; y < height; y += stride) for (let x = 0; x < width; x += stride) samples.push(y * width + x);
  const m = samples.length;
  const values = Float32Array.from(samples, (p) => gray[p]!);
  const basis = new Float64Array(m * BASIS);
  samples.forEach((p, i) => {
    basis.set(positionBasis(Math.floor(p / width), p % width, height, width), i * BASIS);
  });
  // Start from the pixels near the border's level, so that a large dark region cannot pull the first fit.
  let keep = Uint8Array.from(values, (v) => ((light ? border - v : v - border) < TAU_START ? 1 : 0));
  let coefficients: Float64Array | null = null;
  let noise = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    coefficients = fitSurface(values, basis, keep, round < PLANE_ROUNDS ? 3 : BASIS);
    if (coefficients === null) return flat;
    const residual = new Float32Array(m);
    for (let i = 0; i < m; i++) {
      const b = dot(coefficients, basis, i * BASIS);
      residual[i] = light ? b - values[i]! : values[i]! - b;
    }
    noise = 1.4826 * medianAbsoluteDeviation(residual.filter((_, i) => keep[i] === 1));
    const tau = Math.max(TAU_MIN, 3 * noise);
    const next = Uint8Array.from(residual, (r) => (r < tau ? 1 : 0));
    const count = next.reduce((sum, k) => sum + k, 0);
    if (count < Math.max(BASIS * 4, MIN_BACKGROUND_SHARE * m)) return flat;
    const changed = next.some((k, i) => k !== keep[i]);
    keep = next;
    if (!changed && round >= PLANE_ROUNDS) break;
  }
  if (coefficients === null) return flat;
  const surface = new Float32Array(height * width);
  let lo = Infinity;
  let hi = -Infinity;
  // positionBasis · coefficients, expanded: no allocation per pixel.
  const [c0, c1, c2, c3, c4, c5] = coefficients;
  for (let y = 0; y < height; y++) {
    const v = centred(y, height);
    for (let x = 0; x < width; x++) {
      const u = centred(x, width);
      const b = c0! + c1! * u + c2! * v + c3! * u * u + c4! * u * v + c5! * v * v;
      surface[y * width + x] = b;
      lo = Math.min(lo, b);
      hi = Math.max(hi, b);
    }
  }
  const uneven = hi - lo >= FLAT_TOLERANCE;
  return { level: uneven ? surface : border, noise: noise >= NOISE_TOLERANCE ? noise : 0 };
}

/** The outermost row and column on each side. */
export function borderRing(gray: Float32Array, height: number, width: number): Float32Array {
  const values: number[] = [];
  for (let x = 0; x < width; x++) values.push(gray[x]!, gray[(height - 1) * width + x]!);
  for (let y = 1; y < height - 1; y++) values.push(gray[y * width]!, gray[y * width + width - 1]!);
  return Float32Array.from(values);
}

/** [1, u, v, u², uv, v²] at pixel (y, x), u and v the position scaled to [−½, ½]. */
function positionBasis(y: number, x: number, height: number, width: number): Float64Array {
  const v = centred(y, height);
  const u = centred(x, width);
  return Float64Array.of(1, u, v, u * u, u * v, v * v);
}

/** Index i of n scaled to [−½, ½] (0 when n = 1). */
function centred(i: number, n: number): number {
  return n > 1 ? i / (n - 1) - 0.5 : 0;
}

function dot(c: Float64Array, basis: Float64Array, offset: number): number {
  let s = 0;
  for (let i = 0; i < BASIS; i++) s += c[i]! * basis[offset + i]!;
  return s;
}

/**
 * Least squares over the kept pixels with the first k basis functions (normal equations, Gaussian
 * elimination with partial pivoting); the other coefficients are 0. Null if singular.
 */
function fitSurface(gray: Float32Array, basis: Float64Array, keep: Uint8Array, k: number): Float64Array | null {
  const a = new Float64Array(k * k);
  const b = new Float64Array(k);
  for (let p = 0; p < keep.length; p++) {
    if (keep[p] !== 1) continue;
    const row = basis.subarray(p * BASIS, p * BASIS + k);
    for (let i = 0; i < k; i++) {
      b[i] = b[i]! + row[i]! * gray[p]!;
      for (let j = 0; j < k; j++) a[i * k + j] = a[i * k + j]! + row[i]! * row[j]!;
    }
  }
  for (let col = 0; col < k; col++) {
    let pivot = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(a[r * k + col]!) > Math.abs(a[pivot * k + col]!)) pivot = r;
    if (Math.abs(a[pivot * k + col]!) < 1e-9) return null;
    for (let j = 0; j < k; j++) [a[col * k + j], a[pivot * k + j]] = [a[pivot * k + j]!, a[col * k + j]!];
    [b[col], b[pivot]] = [b[pivot]!, b[col]!];
    for (let r = col + 1; r < k; r++) {
      const m = a[r * k + col]! / a[col * k + col]!;
      for (let j = col; j < k; j++) a[r * k + j] = a[r * k + j]! - m * a[col * k + j]!;
      b[r] = b[r]! - m * b[col]!;
    }
  }
  const c = new Float64Array(BASIS);
  for (let r = k - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let j = r + 1; j < k; j++) s -= a[r * k + j]! * c[j]!;
    c[r] = s / a[r * k + r]!;
  }
  return c;
}

function medianAbsoluteDeviation(values: Float32Array): number {
  if (values.length === 0) return 0;
  const m = medianOf(values);
  return medianOf(values.map((v) => Math.abs(v - m)));
}

/** The median (mean of the two middle values for an even count). */
export function medianOf(values: Float32Array): number {
  const sorted = Float32Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
