// SPDX-License-Identifier: MIT
/**
 * @file The IGN objective (docs/ign.md, "Objective") as graph emitters. Where gradients flow is decided
 * by which application of f produced each tensor, so the caller passes the applications in:
 *
 *   fx   = f_θ(x)            L_rec   = D(fx, x)
 *   fz   = f_θ(z)            L_idem  = D(f_θ′(fz), fz)         θ′ frozen: grad reaches θ via fz only
 *   f_z  = sg(fz)            L_tight = −D(f_θ(f_z), f_z)       grad reaches θ via the outer f only
 *
 * D is reduced per sample (mean over C·H·W), then averaged over the batch. With no clamp this equals
 * Algorithm 1's one global mean. The clamp acts per sample: L_tight,i ← tanh(L̃_i/(a·N_i))·a·N_i,
 * odd, so the sign survives and |L_tight,i| ≤ a·N_i. Optional per-row weights w_i scale L_tight,i
 * before the batch mean (the mixture source's rows may see less or no tightness).
 */
import type { Value } from '../onnx/ir.ts';
import type { GraphBuilder } from '../onnx/builder.ts';
import type { Ops } from '../onnx/ops.ts';
import type { LossConfig } from '../config.ts';

/** Keeps a·N away from 0 so the clamp stays finite when f(z) = z exactly (tanh(L/s)·s → 0 anyway). */
export const CLAMP_EPS = 1e-12;

/**
 * The four applications of f the objective needs, by role. Training routes fx, fz and tightOuter to
 * f_θ (one BN context, chained in this call order) and idemOuter to the frozen copy f_θ′; the
 * routing tests swap in separate parameter sets to isolate each path.
 */
export interface Applications {
  /** f_θ(x) for L_rec. */
  fx: (input: Value) => Value;
  /** f_θ(z): the inner application, shared by L_idem (with gradient) and L_tight (stop-gradient). */
  fz: (input: Value) => Value;
  /** f_θ(sg(f(z))): the outer application of L_tight (trainable). */
  tightOuter: (input: Value) => Value;
  /** f_θ′(f(z)): the outer application of L_idem (frozen copy). */
  idemOuter: (input: Value) => Value;
}

export interface IgnLosses {
  /** Weighted total λ_r·L_rec + λ_i·L_idem + λ_t·L_tight (scalar). */
  total: Value;
  rec: Value;
  idem: Value;
  /** Negative (or zero): the tightness term with its sign. */
  tight: Value;
  /** mean |f(f(z)) − f(z)| and mean |f(z) − z|, for logging only (no gradient). */
  idemResidual: Value;
  fzShift: Value;
  /** Per-sample N of the clamp (for tests); null without clamp. */
  clampNorm: Value | null;
  /** Per-sample unclamped tightness −D(f(f_z), f_z). */
  tightRaw: Value;
}

/** D per sample: mean over all but the batch axis of |a−b| (l1) or (a−b)² (l2) → [N]. */
function perSampleDistance(o: Ops, a: Value, b: Value, distance: LossConfig['distance']): Value {
  const diff = o.sub(a, b);
  const pointwise = distance === 'l1' ? o.abs(diff) : o.mul(diff, diff);
  const axes = a.shape.map((_, i) => i).slice(1);
  return o.reduceMean(pointwise, axes, false);
}

const batchMean = (o: Ops, v: Value): Value => o.reduceMean(v, [0], false);

/** tanh(L/(a·N))·a·N per sample. */
function smoothClamp(o: Ops, loss: Value, normaliser: Value, a: number): Value {
  const scale = o.add(o.mul(normaliser, a), CLAMP_EPS);
  return o.mul(o.tanh(o.div(loss, scale)), scale);
}

export function emitIgnLosses(
  b: GraphBuilder,
  o: Ops,
  x: Value,
  z: Value,
  f: Applications,
  cfg: LossConfig,
  tightRowWeights: readonly number[] | null = null,
): IgnLosses {
  // Order matches Algorithm 1 so BN running statistics chain x → z → f_z like PyTorch train mode.
  const fx = b.scope('f_x', () => f.fx(x));
  const fz = b.scope('f_z', () => f.fz(z));
  const fzStop = b.stopGradient(fz);
  const ffzOuter = b.scope('f_fz_outer', () => f.tightOuter(fzStop));
  const ffzFrozen = b.scope('f_fz_frozen', () => f.idemOuter(fz));

  const recPerSample = perSampleDistance(o, fx, x, cfg.distance);
  const idemPerSample = perSampleDistance(o, ffzFrozen, fz, cfg.distance);
  const tightRaw = o.neg(perSampleDistance(o, ffzOuter, fzStop, cfg.distance));

  let clampNorm: Value | null = null;
  let tightPerSample = tightRaw;
  if (cfg.clamp) {
    clampNorm = cfg.clampNormalizer === 'rec_x' ? recPerSample : b.stopGradient(perSampleDistance(o, fzStop, z, cfg.distance));
    tightPerSample = smoothClamp(o, tightRaw, clampNorm, cfg.clampA);
  }
  if (tightRowWeights !== null) {
    if (tightRowWeights.length !== z.shape[0]) throw new Error(`tightRowWeights has ${tightRowWeights.length} rows, z has ${z.shape[0]}`);
    tightPerSample = o.mul(tightPerSample, b.constant(tightRowWeights, 'float32', [tightRowWeights.length]));
  }
  const rec = batchMean(o, recPerSample);
  const idem = batchMean(o, idemPerSample);
  const tight = batchMean(o, tightPerSample);
  const { weights } = cfg;
  const terms = [
    [weights.rec, rec],
    [weights.idem, idem],
    [weights.tight, tight],
  ] as const;
  const weighted = terms.filter(([w]) => w !== 0).map(([w, v]) => (w === 1 ? v : o.mul(v, w)));
  const total = weighted.length > 0 ? o.sum(weighted) : o.mul(rec, 0);

  const meanAbs = (a: Value, c: Value): Value =>
    o.reduceMean(
      o.abs(o.sub(a, c)),
      a.shape.map((_, i) => i),
      false,
    );
  const idemResidual = b.stopGradient(meanAbs(b.stopGradient(ffzOuter), fzStop));
  const fzShift = b.stopGradient(meanAbs(fzStop, z));
  return { total, rec, idem, tight, idemResidual, fzShift, clampNorm, tightRaw };
}
