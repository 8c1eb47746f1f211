// SPDX-License-Identifier: MIT
/** Naive float64 reference layers (NCHW, PyTorch layouts) for the nn tests. */

export interface Tensor4 {
  shape: [number, number, number, number];
  data: ArrayLike<number>;
}

const at = (t: Tensor4, n: number, c: number, h: number, w: number): number => {
  const [, C, H, W] = t.shape;
  return t.data[((n * C + c) * H + h) * W + w]!;
};

/** Conv2d: W [M,C,k,k]. */
export function conv2dRef(x: Tensor4, w: Tensor4, bias: ArrayLike<number> | null, s: number, p: number): Tensor4 {
  const [N, C, H, Wd] = x.shape;
  const [M, , k] = w.shape;
  const [OH, OW] = [Math.floor((H + 2 * p - k) / s) + 1, Math.floor((Wd + 2 * p - k) / s) + 1];
  const out = new Float64Array(N * M * OH * OW);
  let idx = 0;
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let acc = bias ? bias[m]! : 0;
          for (let c = 0; c < C; c++)
            for (let kh = 0; kh < k; kh++)
              for (let kw = 0; kw < k; kw++) {
                const [ih, iw] = [oh * s - p + kh, ow * s - p + kw];
                if (ih >= 0 && ih < H && iw >= 0 && iw < Wd) acc += at(x, n, c, ih, iw) * at(w, m, c, kh, kw);
              }
          out[idx++] = acc;
        }
  return { shape: [N, M, OH, OW], data: out };
}

/** ConvTranspose2d: W [Ci,Co,k,k]; output (H−1)s − 2p + k + op. */
export function convTranspose2dRef(x: Tensor4, w: Tensor4, bias: ArrayLike<number> | null, s: number, p: number, op: number): Tensor4 {
  const [N, Ci, H, Wd] = x.shape;
  const [, Co, k] = w.shape;
  const [OH, OW] = [(H - 1) * s - 2 * p + k + op, (Wd - 1) * s - 2 * p + k + op];
  const out = new Float64Array(N * Co * OH * OW);
  for (let n = 0; n < N; n++)
    for (let co = 0; co < Co; co++) {
      for (let i = 0; i < OH * OW; i++) out[(n * Co + co) * OH * OW + i] = bias ? bias[co]! : 0;
      for (let ci = 0; ci < Ci; ci++)
        for (let ih = 0; ih < H; ih++)
          for (let iw = 0; iw < Wd; iw++) {
            for (let kh = 0; kh < k; kh++)
              for (let kw = 0; kw < k; kw++) {
                const [oh, ow] = [ih * s - p + kh, iw * s - p + kw];
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                out[((n * Co + co) * OH + oh) * OW + ow]! += at(x, n, ci, ih, iw) * at(w, ci, co, kh, kw);
              }
          }
    }
  return { shape: [N, Co, OH, OW], data: out };
}

/** Per-channel mean and biased variance over (N, H, W). */
export function channelStats(x: Tensor4): { mean: number[]; variance: number[] } {
  const [N, C, H, W] = x.shape;
  const mean: number[] = [];
  const variance: number[] = [];
  for (let c = 0; c < C; c++) {
    let s = 0;
    let s2 = 0;
    for (let n = 0; n < N; n++)
      for (let i = 0; i < H * W; i++) {
        const v = x.data[(n * C + c) * H * W + i]!;
        s += v;
        s2 += v * v;
      }
    const M = N * H * W;
    mean.push(s / M);
    variance.push(s2 / M - (s / M) ** 2);
  }
  return { mean, variance };
}

/** y = (x − mean_c)/sqrt(var_c + eps)·γ_c + β_c. */
export function normalizeRef(
  x: Tensor4,
  mean: readonly number[],
  variance: readonly number[],
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  eps: number,
): Float64Array {
  const [N, C, H, W] = x.shape;
  const out = new Float64Array(N * C * H * W);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < H * W; i++) {
        const j = (n * C + c) * H * W + i;
        out[j] = ((x.data[j]! - mean[c]!) / Math.sqrt(variance[c]! + eps)) * gamma[c]! + beta[c]!;
      }
  return out;
}

/** GroupNorm: statistics per (sample, group of C/G channels) over the group's channels and pixels. */
export function groupNormRef(x: Tensor4, groups: number, gamma: ArrayLike<number>, beta: ArrayLike<number>, eps: number): Float64Array {
  const [N, C, H, W] = x.shape;
  const size = (C / groups) * H * W;
  const out = new Float64Array(N * C * H * W);
  for (let n = 0; n < N; n++)
    for (let g = 0; g < groups; g++) {
      const start = (n * C + g * (C / groups)) * H * W;
      let s = 0;
      for (let i = 0; i < size; i++) s += x.data[start + i]!;
      const mean = s / size;
      let s2 = 0;
      for (let i = 0; i < size; i++) s2 += (x.data[start + i]! - mean) ** 2;
      const r = 1 / Math.sqrt(s2 / size + eps);
      for (let i = 0; i < size; i++) {
        const c = g * (C / groups) + Math.floor(i / (H * W));
        out[start + i] = (x.data[start + i]! - mean) * r * gamma[c]! + beta[c]!;
      }
    }
  return out;
}

/** max |a − b| / max |b|. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return err / scale;
}
