// SPDX-License-Identifier: MIT
/**
 * @file BatchNorm emitters with PyTorch semantics over ONNX's native BatchNormalization-15.
 *
 * Training: the native op runs with training_mode = 1 and ONNX momentum 0, so its outputs 1/2 are
 * the batch mean μ and the biased batch variance σ² (ORT runs training mode only when all three
 * outputs are wired; docs/autodiff.md, "ORT traps"). The running statistics are then updated as PyTorch does
 * with momentum m and M = N·H·W elements per channel (PyTorch stores the *unbiased* variance):
 *   rm′ = (1−m)·rm + m·μ;  rv′ = (1−m)·rv + m·σ²·M/(M−1).
 * μ and σ² pass through stopGradient: the running statistics carry no gradient, and the backward
 * walk never enters the update arithmetic (rules/norm.ts refuses gradients on outputs 1/2).
 * Eval: the native op with training_mode = 0 and the running statistics.
 *
 * API:
 *   batchNormTrain(b, x, gamma, beta, runMean, runVar, { eps = 1e-5, momentum = 0.1 })
 *     → { y, runMean, runVar }   (runMean/runVar are the updated statistics)
 *   batchNormEval(b, x, gamma, beta, runMean, runVar, { eps = 1e-5 }) → y
 *   batchNormBlendTrain / batchNormBlendEval(…, { blend: α, eps, momentum }): blended BatchNorm
 *     (below), composed from primitive ops; same return shapes as the two above.
 */
import { attr, numel } from '../onnx/ir.ts';
import type { Value } from '../onnx/ir.ts';
import type { GraphBuilder } from '../onnx/builder.ts';
import { ops } from '../onnx/ops.ts';

export interface BatchNormTrainOptions {
  eps?: number;
  /** PyTorch convention: weight of the new batch statistic (ONNX's momentum is 1 − m). */
  momentum?: number;
}

export interface BatchNormTrainResult {
  readonly y: Value;
  readonly runMean: Value;
  readonly runVar: Value;
}

export function batchNormTrain(
  b: GraphBuilder,
  x: Value,
  gamma: Value,
  beta: Value,
  runMean: Value,
  runVar: Value,
  options: BatchNormTrainOptions = {},
): BatchNormTrainResult {
  const eps = options.eps ?? 1e-5;
  const { m, perChannel } = trainingChecks(x, options.momentum);
  const o = ops(b);
  // ORT's training-mode kernel writes outputs 1/2 into the buffers of inputs 3/4 (measured with
  // onnxruntime-node 1.30: a graph-input running mean read by a later node, and even the caller's
  // host Float32Array, held the batch mean after the run). With ONNX momentum 0 those inputs do not
  // affect any output, so the op gets private zero tensors that nothing else reads.
  const scratch = [o.mul(runMean, 0), o.mul(runVar, 0)] as const;
  const attrs = { epsilon: attr.f(eps), momentum: attr.f(0), training_mode: attr.i(1) };
  const [y, batchMean, batchVar] = b.emit('BatchNormalization', [x, gamma, beta, ...scratch], attrs, 3);
  return { y: y!, ...runningUpdate(b, { runMean, runVar }, { mean: batchMean!, variance: batchVar! }, m, perChannel) };
}

/** Momentum in [0, 1] (default 0.1) and M = N·H·W ≥ 2 values per channel, or a RangeError. */
function trainingChecks(x: Value, momentum: number | undefined): { m: number; perChannel: number } {
  const m = momentum ?? 0.1;
  if (!(m >= 0 && m <= 1)) throw new RangeError(`BatchNorm momentum must lie in [0, 1], got ${m}`);
  const perChannel = numel(x.shape) / (x.shape[1] ?? 1);
  if (perChannel < 2) {
    throw new RangeError(`BatchNorm training needs more than 1 value per channel, got input [${x.shape.join(',')}]`);
  }
  return { m, perChannel };
}

/** PyTorch's update from the batch's [C] mean and biased variance (no gradient flows into it). */
function runningUpdate(
  b: GraphBuilder,
  running: { runMean: Value; runVar: Value },
  batch: { mean: Value; variance: Value },
  m: number,
  perChannel: number,
): { runMean: Value; runVar: Value } {
  if (m === 0) return running;
  const o = ops(b);
  const unbiased = perChannel / (perChannel - 1);
  return {
    runMean: o.add(o.mul(running.runMean, 1 - m), o.mul(b.stopGradient(batch.mean), m)),
    runVar: o.add(o.mul(running.runVar, 1 - m), o.mul(b.stopGradient(batch.variance), m * unbiased)),
  };
}

export function batchNormEval(
  b: GraphBuilder,
  x: Value,
  gamma: Value,
  beta: Value,
  runMean: Value,
  runVar: Value,
  options: { eps?: number } = {},
): Value {
  const attrs = { epsilon: attr.f(options.eps ?? 1e-5), training_mode: attr.i(0) };
  return b.op('BatchNormalization', [x, gamma, beta, runMean, runVar], attrs);
}

/**
 * Blended BatchNorm: each sample i is normalised per channel c by a mix of the shared statistics
 * (the batch's in training, the running ones in eval) and its own over (H, W):
 *   μ_ic = (1−α)·μ_c + α·μ̂_ic,   σ²_ic = (1−α)·σ²_c + α·σ̂²_ic,   y = γ_c·(x − μ_ic)/√(σ²_ic + ε) + β_c.
 * α = 0 is BatchNorm, α = 1 InstanceNorm. Why: training normalises f(x) and f(z) each with its own
 * batch, so f sees noise-like inputs with noise-like statistics; a served image has no batch, and one
 * fixed set of running statistics cannot be right for clean, noisy and blurred inputs at once. The
 * per-sample share moves the statistics toward the input's own, as prediction-time BN adaptation
 * does (docs/ign.md, "Blended BatchNorm"). Every sample's output depends on itself only in eval, so
 * serving batches stay exact.
 */
export interface BatchNormBlendOptions {
  eps?: number;
  momentum?: number;
  /** α in [0, 1]: the per-sample share of the statistics. */
  blend: number;
}

function checkBlend(x: Value, blend: number): void {
  if (!(blend >= 0 && blend <= 1)) throw new RangeError(`BatchNorm blend must lie in [0, 1], got ${blend}`);
  if (x.shape.length !== 4) throw new RangeError(`blended BatchNorm needs an N×C×H×W input, got [${x.shape.join(',')}]`);
}

/** Mean and biased variance of x over `axes` (kept as size-1 dims). */
function moments(b: GraphBuilder, x: Value, axes: readonly number[]): { mean: Value; variance: Value } {
  const o = ops(b);
  const mean = o.reduceMean(x, axes);
  const centred = o.sub(x, mean);
  return { mean, variance: o.reduceMean(o.mul(centred, centred), axes) };
}

function blendNormalize(
  b: GraphBuilder,
  x: Value,
  gamma: Value,
  beta: Value,
  shared: { mean: Value; variance: Value },
  blend: number,
  eps: number,
): Value {
  const o = ops(b);
  const c = x.shape[1]!;
  const own = moments(b, x, [2, 3]);
  const mean = o.add(o.mul(shared.mean, 1 - blend), o.mul(own.mean, blend));
  const variance = o.add(o.mul(shared.variance, 1 - blend), o.mul(own.variance, blend));
  // Per sample and channel y = x·s + t, s = γ/√(σ² + ε), t = β − μ·s: the arithmetic runs on the
  // N×C×1×1 statistics and only two passes touch the full tensor.
  const scale = o.mul(o.reshape(gamma, [1, c, 1, 1]), o.reciprocal(o.sqrt(o.add(variance, eps))));
  const shift = o.sub(o.reshape(beta, [1, c, 1, 1]), o.mul(mean, scale));
  return o.add(o.mul(x, scale), shift);
}

/** Training: the shared part is the batch's statistics (with gradient, as BatchNorm's); running stats as batchNormTrain. */
export function batchNormBlendTrain(
  b: GraphBuilder,
  x: Value,
  gamma: Value,
  beta: Value,
  runMean: Value,
  runVar: Value,
  options: BatchNormBlendOptions,
): BatchNormTrainResult {
  checkBlend(x, options.blend);
  const eps = options.eps ?? 1e-5;
  const { m, perChannel } = trainingChecks(x, options.momentum);
  const o = ops(b);
  const c = x.shape[1]!;
  const batch = moments(b, x, [0, 2, 3]);
  const y = blendNormalize(b, x, gamma, beta, batch, options.blend, eps);
  const flat = { mean: o.reshape(batch.mean, [c]), variance: o.reshape(batch.variance, [c]) };
  return { y, ...runningUpdate(b, { runMean, runVar }, flat, m, perChannel) };
}

/** Eval: the shared part is the running statistics. */
export function batchNormBlendEval(
  b: GraphBuilder,
  x: Value,
  gamma: Value,
  beta: Value,
  runMean: Value,
  runVar: Value,
  options: BatchNormBlendOptions,
): Value {
  checkBlend(x, options.blend);
  const o = ops(b);
  const c = x.shape[1]!;
  const shared = { mean: o.reshape(runMean, [1, c, 1, 1]), variance: o.reshape(runVar, [1, c, 1, 1]) };
  return blendNormalize(b, x, gamma, beta, shared, options.blend, options.eps ?? 1e-5);
}
