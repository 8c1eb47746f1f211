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
  const m = options.momentum ?? 0.1;
  if (!(m >= 0 && m <= 1)) throw new RangeError(`BatchNorm momentum must lie in [0, 1], got ${m}`);
  const perChannel = numel(x.shape) / (x.shape[1] ?? 1);
  if (perChannel < 2) {
    throw new RangeError(`BatchNorm training needs more than 1 value per channel, got input [${x.shape.join(',')}]`);
  }
  const o = ops(b);
  // ORT's training-mode kernel writes outputs 1/2 into the buffers of inputs 3/4 (measured with
  // onnxruntime-node 1.30: a graph-input running mean read by a later node, and even the caller's
  // host Float32Array, held the batch mean after the run). With ONNX momentum 0 those inputs do not
  // affect any output, so the op gets private zero tensors that nothing else reads.
  const scratch = [o.mul(runMean, 0), o.mul(runVar, 0)] as const;
  const attrs = { epsilon: attr.f(eps), momentum: attr.f(0), training_mode: attr.i(1) };
  const [y, batchMean, batchVar] = b.emit('BatchNormalization', [x, gamma, beta, ...scratch], attrs, 3);
  if (m === 0) return { y: y!, runMean, runVar };
  const mean = b.stopGradient(batchMean!);
  const variance = b.stopGradient(batchVar!);
  const unbiased = perChannel / (perChannel - 1);
  return {
    y: y!,
    runMean: o.add(o.mul(runMean, 1 - m), o.mul(mean, m)),
    runVar: o.add(o.mul(runVar, 1 - m), o.mul(variance, m * unbiased)),
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
