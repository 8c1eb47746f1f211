// SPDX-License-Identifier: MIT
/**
 * @file Resizing one H×W plane to h×w, separably (rows, then columns), with the weights of each
 * axis chosen by its scale s = out / in:
 *
 * - shrinking (s < 1): area averaging. Output pixel j covers the source interval [j/s, (j+1)/s);
 *   each source pixel i weighs |[i, i+1) ∩ [j/s, (j+1)/s)| · s, so weights sum to 1 and every
 *   source pixel contributes exactly its area (anti-aliased, no ringing, no overshoot).
 * - enlarging (s ≥ 1): linear interpolation at the source coordinate u = (j + ½)/s − ½ of the
 *   output pixel's centre, clamped to the first and last source pixel.
 *
 * Both keep values inside the input's [min, max], so [0, 1] stays [0, 1].
 */

interface AxisWeights {
  /** First source index read by output j. */
  readonly start: Int32Array;
  /** Weights of source start[j], start[j] + 1, … (length ≤ taps) for output j, row-major. */
  readonly weights: Float64Array;
  readonly taps: number;
}

function axisWeights(n: number, m: number): AxisWeights {
  const s = m / n;
  if (s >= 1) {
    const start = new Int32Array(m);
    const weights = new Float64Array(m * 2);
    for (let j = 0; j < m; j++) {
      const u = Math.min(n - 1, Math.max(0, (j + 0.5) / s - 0.5));
      const i0 = Math.min(Math.floor(u), n - 1);
      const t = u - i0;
      start[j] = i0;
      weights[2 * j] = 1 - t;
      weights[2 * j + 1] = i0 + 1 < n ? t : 0;
    }
    return { start, weights, taps: 2 };
  }
  const taps = Math.ceil(1 / s) + 1;
  const start = new Int32Array(m);
  const weights = new Float64Array(m * taps);
  for (let j = 0; j < m; j++) {
    const lo = j / s;
    const hi = Math.min(n, (j + 1) / s);
    const i0 = Math.floor(lo);
    start[j] = i0;
    for (let t = 0; t < taps && i0 + t < n; t++) {
      const overlap = Math.min(hi, i0 + t + 1) - Math.max(lo, i0 + t);
      weights[j * taps + t] = Math.max(0, overlap) * s;
    }
  }
  return { start, weights, taps };
}

/** Resizes a height×width plane to outHeight×outWidth (see the file comment for the weights). */
export function resizePlane(src: ArrayLike<number>, height: number, width: number, outHeight: number, outWidth: number): Float32Array {
  if (src.length !== height * width) throw new RangeError(`${src.length} values are not a ${height}×${width} plane`);
  if (!(outHeight >= 1 && outWidth >= 1 && Number.isInteger(outHeight) && Number.isInteger(outWidth))) {
    throw new RangeError(`bad output size ${outHeight}×${outWidth}`);
  }
  const ax = axisWeights(width, outWidth);
  const rows = new Float64Array(height * outWidth);
  for (let y = 0; y < height; y++) {
    for (let j = 0; j < outWidth; j++) {
      let acc = 0;
      const i0 = ax.start[j]!;
      for (let t = 0; t < ax.taps && i0 + t < width; t++) acc += ax.weights[j * ax.taps + t]! * src[y * width + i0 + t]!;
      rows[y * outWidth + j] = acc;
    }
  }
  const ay = axisWeights(height, outHeight);
  const out = new Float32Array(outHeight * outWidth);
  for (let j = 0; j < outHeight; j++) {
    const i0 = ay.start[j]!;
    for (let x = 0; x < outWidth; x++) {
      let acc = 0;
      for (let t = 0; t < ay.taps && i0 + t < height; t++) acc += ay.weights[j * ay.taps + t]! * rows[(i0 + t) * outWidth + x]!;
      out[j * outWidth + x] = acc;
    }
  }
  return out;
}
