// SPDX-License-Identifier: MIT
/**
 * @file Layer emitters: `(ctx, name, x, options) → Value`. Parameters get PyTorch names and shapes
 * (`${name}.weight` [out,in,k,k] for Conv, [in,out,k,k] for ConvTranspose, [out,in] for Linear,
 * `${name}.bias`, `${name}.running_mean` / `.running_var`) and DCGAN init: weights N(0, 0.02),
 * biases 0, norm γ = 1 (N(1, 0.02) has been reported unstable for IGN), β = 0.
 * Activations are plain ops: ctx.o.leakyRelu / relu / tanh.
 *
 * API (bias defaults to true, as in PyTorch; DCGAN blocks pass bias: false):
 *   conv2d(ctx, name, x, { out, kernel, stride = 1, padding = 0, bias = true, weightInit = DCGAN })
 *   convTranspose2d(ctx, name, x, { out, kernel, stride = 1, padding = 0, outputPadding = 0, bias = true })
 *   linear(ctx, name, x [N,in], { out, bias = true })
 *   batchNorm2d(ctx, name, x, { eps = 1e-5, momentum = 0.1 })   PyTorch momentum convention
 *   groupNorm(ctx, name, x, { groups, eps = 1e-5 })
 *   norm2d(ctx, name, x, kind: 'batch' | 'group' | 'none', groups = 32, blend = 0)
 */
import type { Value } from '../onnx/ir.ts';
import { batchNormBlendEval, batchNormBlendTrain, batchNormEval, batchNormTrain } from './batch-norm-op.ts';
import { currentBuffer } from './context.ts';
import type { NnContext } from './context.ts';
import { DCGAN_WEIGHT_INIT, ONES, ZEROS } from './params.ts';
import type { Init } from './params.ts';

export interface Conv2dOptions {
  out: number;
  kernel: number;
  stride?: number;
  padding?: number;
  bias?: boolean;
  /** Weight initialisation (default DCGAN's N(0, 0.02)). */
  weightInit?: Init;
}

export interface ConvTranspose2dOptions extends Conv2dOptions {
  outputPadding?: number;
}

function channels(name: string, x: Value): number {
  const c = x.shape[1];
  if (x.shape.length !== 4 || c === undefined) throw new Error(`${name}: expected NCHW input, got [${x.shape.join(',')}]`);
  return c;
}

function optionalBias(ctx: NnContext, name: string, out: number, bias: boolean | undefined): Value | null {
  return (bias ?? true) ? ctx.params.param(`${name}.bias`, [out], ZEROS) : null;
}

export function conv2d(ctx: NnContext, name: string, x: Value, opts: Conv2dOptions): Value {
  const { out, kernel: k } = opts;
  const s = opts.stride ?? 1;
  const p = opts.padding ?? 0;
  const c = channels(name, x);
  const w = ctx.params.param(`${name}.weight`, [out, c, k, k], opts.weightInit ?? DCGAN_WEIGHT_INIT);
  const bias = optionalBias(ctx, name, out, opts.bias);
  const o = ctx.o;
  if (p === 0 && x.shape[2] === k && x.shape[3] === k) {
    // The kernel covers the whole input (the 7×7 → 1×1 latent layer): a dense layer,
    // y = flatten(x)·flatten(W)ᵀ, one Gemm instead of a Conv ~10× slower in ORT (bench:train).
    return ctx.b.scope(name, () => {
      const y = o.gemm(o.reshape(x, [0, c * k * k]), o.reshape(w, [out, c * k * k]), bias, { transB: true });
      return o.reshape(y, [0, out, 1, 1]);
    });
  }
  return ctx.b.scope(name, () => o.conv(x, w, bias, { strides: [s, s], pads: [p, p, p, p] }));
}

export function convTranspose2d(ctx: NnContext, name: string, x: Value, opts: ConvTranspose2dOptions): Value {
  const { out, kernel: k } = opts;
  const s = opts.stride ?? 1;
  const p = opts.padding ?? 0;
  const op = opts.outputPadding ?? 0;
  const c = channels(name, x);
  const w = ctx.params.param(`${name}.weight`, [c, out, k, k], DCGAN_WEIGHT_INIT);
  const bias = optionalBias(ctx, name, out, opts.bias);
  const o = ctx.o;
  if (p === 0 && op === 0 && x.shape[2] === 1 && x.shape[3] === 1) {
    // From a 1×1 latent every output pixel sees one weight tap: y[n,o,i,j] = Σ_c x[n,c]·W[c,o,i,j],
    // i.e. x·flatten(W), one Gemm instead of a ConvTranspose ~5× slower in ORT (bench:train).
    return ctx.b.scope(name, () => {
      const y = o.reshape(o.gemm(o.reshape(x, [0, c]), o.reshape(w, [c, out * k * k]), null), [0, out, k, k]);
      return bias ? o.add(y, o.reshape(bias, [1, out, 1, 1])) : y;
    });
  }
  const conv = { strides: [s, s], pads: [p, p, p, p], ...(op > 0 ? { outputPadding: [op, op] } : {}) };
  return ctx.b.scope(name, () => o.convTranspose(x, w, bias, conv));
}

/** y = x·Wᵀ + b with W [out, in] (PyTorch layout), as one Gemm(transB=1). */
export function linear(ctx: NnContext, name: string, x: Value, opts: { out: number; bias?: boolean }): Value {
  const inFeatures = x.shape[1];
  if (x.shape.length !== 2 || inFeatures === undefined) throw new Error(`${name}: expected [N,in], got [${x.shape.join(',')}]`);
  const w = ctx.params.param(`${name}.weight`, [opts.out, inFeatures], DCGAN_WEIGHT_INIT);
  const bias = optionalBias(ctx, name, opts.out, opts.bias);
  return ctx.b.scope(name, () => ctx.o.gemm(x, w, bias, { transB: true }));
}

/** PyTorch's default BatchNorm momentum (weight of the new batch statistic). */
export const BN_MOMENTUM = 0.1;

/**
 * Training mode: batch statistics, and running stats updated PyTorch-style
 * (rm′ = (1−m)·rm + m·μ, rv′ = (1−m)·rv + m·σ²·M/(M−1)) into ctx.buffers.
 * Eval mode: normalise by the current running statistics.
 * blend α > 0: each sample's statistics are mixed with its own over (H, W) (batch-norm-op.ts);
 * α = 0 (default) emits the native op exactly as before.
 */
export function batchNorm2d(ctx: NnContext, name: string, x: Value, opts: { eps?: number; momentum?: number; blend?: number } = {}): Value {
  const c = channels(name, x);
  const eps = opts.eps ?? 1e-5;
  const momentum = opts.momentum ?? BN_MOMENTUM;
  const gamma = ctx.params.param(`${name}.weight`, [c], ONES);
  const beta = ctx.params.param(`${name}.bias`, [c], ZEROS);
  const meanName = `${name}.running_mean`;
  const varName = `${name}.running_var`;
  const runMean = currentBuffer(ctx, meanName, ctx.params.buffer(meanName, [c], ZEROS));
  const runVar = currentBuffer(ctx, varName, ctx.params.buffer(varName, [c], ONES));
  const blend = opts.blend ?? 0;
  return ctx.b.scope(name, () => {
    if (!ctx.training) {
      if (blend > 0) return batchNormBlendEval(ctx.b, x, gamma, beta, runMean, runVar, { eps, blend });
      return batchNormEval(ctx.b, x, gamma, beta, runMean, runVar, { eps });
    }
    const r =
      blend > 0
        ? batchNormBlendTrain(ctx.b, x, gamma, beta, runMean, runVar, { eps, momentum, blend })
        : batchNormTrain(ctx.b, x, gamma, beta, runMean, runVar, { eps, momentum });
    ctx.buffers.set(meanName, r.runMean);
    ctx.buffers.set(varName, r.runVar);
    return r.y;
  });
}

/**
 * GroupNorm composed from opset-17 primitives (no native op before opset 18): per sample and group
 * of C/G channels, μ and biased σ² over (C/G, H, W); y = (x − μ)/sqrt(σ² + ε)·γ_c + β_c.
 */
export function groupNorm(ctx: NnContext, name: string, x: Value, opts: { groups: number; eps?: number }): Value {
  const c = channels(name, x);
  const [, , h, w] = x.shape as [number, number, number, number];
  const g = opts.groups;
  if (c % g !== 0) throw new Error(`${name}: ${c} channels do not split into ${g} groups`);
  const gamma = ctx.params.param(`${name}.weight`, [c], ONES);
  const beta = ctx.params.param(`${name}.bias`, [c], ZEROS);
  const o = ctx.o;
  return ctx.b.scope(name, () => {
    // Batch dim as 0 ("copy"): the exported graph keeps a dynamic batch axis.
    const grouped = o.reshape(x, [0, g, (c / g) * h * w]);
    const centred = o.sub(grouped, o.reduceMean(grouped, [2]));
    const variance = o.reduceMean(o.mul(centred, centred), [2]);
    const normed = o.mul(centred, o.reciprocal(o.sqrt(o.add(variance, opts.eps ?? 1e-5))));
    const back = o.reshape(normed, [0, c, h, w]);
    return o.add(o.mul(back, o.reshape(gamma, [1, c, 1, 1])), o.reshape(beta, [1, c, 1, 1]));
  });
}

export type NormKind = 'batch' | 'group' | 'none';

export function norm2d(ctx: NnContext, name: string, x: Value, kind: NormKind, groups = 32, blend = 0): Value {
  if (kind === 'batch') return batchNorm2d(ctx, name, x, { blend });
  if (kind === 'group') return groupNorm(ctx, name, x, { groups });
  return x;
}
