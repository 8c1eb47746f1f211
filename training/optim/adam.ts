// SPDX-License-Identifier: MIT
/**
 * @file Adam and AdamW as graph emitters with torch.optim semantics, built from elementwise ops only
 * (ORT's AdamOptimizer is a com.microsoft op the stock build lacks: docs/autodiff.md). Moments are
 * graph inputs `${param input}.${ns}_m` / `_v` (zeros at start); step-dependent scalars are graph
 * inputs too, so a learning-rate schedule never rebuilds the graph.
 *
 * Per step t (PyTorch): g ← g + wd·p (Adam only); p ← p·(1 − lr·wd) (AdamW only);
 *   m′ = β1·m + (1−β1)·g;  v′ = β2·v + (1−β2)·g²;
 *   p′ = p − lr_t · m′ / (sqrt(v′)/bc2s + ε),  lr_t = lr/(1−β1^t),  bc2s = sqrt(1−β2^t).
 *
 * API:
 *   emitAdam(b, params: AdamParam[], cfg: AdamConfig, ns = 'adam') → AdamEmitted
 *   adamStepScalars(lr, step (1-based), cfg, ns = 'adam') → Record<input name, Float32Array>
 *   adamConfig(partial) → AdamConfig (torch defaults: β (0.9, 0.999), ε 1e-8, wd 0, Adam)
 *   Scalar inputs: `${ns}.lr_t`, `${ns}.bc2s`, and `${ns}.decay` (= 1 − lr·wd) for AdamW with wd > 0.
 */
import { numel } from '../onnx/ir.ts';
import type { Value } from '../onnx/ir.ts';
import type { GraphBuilder } from '../onnx/builder.ts';
import { ops } from '../onnx/ops.ts';
import type { Ops } from '../onnx/ops.ts';
import type { StateUpdate } from '../nn/next.ts';

export interface AdamConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** true: AdamW (decay applied to the weights); false: Adam (L2 term added to the gradient). */
  decoupled: boolean;
}

export interface AdamParam {
  /** Name used in node scopes and the returned updates (usually the ParamSet name). */
  name: string;
  /** The parameter's graph input. */
  value: Value;
  /** d loss / d value, same shape. */
  grad: Value;
}

export interface AdamUpdate {
  name: string;
  param: Value;
  m: Value;
  v: Value;
}

export interface AdamEmitted {
  updates: AdamUpdate[];
  /** Every (graph input, next value) pair: parameters and both moments; pass to outputNext. */
  state: StateUpdate[];
  /** The moment inputs (m and v of every parameter), zeros at step 1. */
  moments: Value[];
  /** Names of the per-step scalar inputs (all fed by adamStepScalars). */
  scalars: string[];
}

export function adamConfig(partial: Partial<AdamConfig> = {}): AdamConfig {
  return { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, ...partial };
}

const usesDecay = (cfg: AdamConfig): boolean => cfg.decoupled && cfg.weightDecay !== 0;

function adamScalarNames(cfg: AdamConfig, ns = 'adam'): string[] {
  return [`${ns}.lr_t`, `${ns}.bc2s`, ...(usesDecay(cfg) ? [`${ns}.decay`] : [])];
}

export function emitAdam(b: GraphBuilder, params: readonly AdamParam[], cfg: AdamConfig, ns = 'adam'): AdamEmitted {
  const o = ops(b);
  const scalars = adamScalarNames(cfg, ns);
  const [lrT, bc2s, decay] = scalars.map((n) => b.input(n, 'float32', [], { grad: false })) as [Value, Value, Value?];
  const updates: AdamUpdate[] = [];
  const state: StateUpdate[] = [];
  const moments: Value[] = [];
  for (const p of params) {
    const mIn = b.input(`${p.value.name}.${ns}_m`, 'float32', p.value.shape, { grad: false });
    const vIn = b.input(`${p.value.name}.${ns}_v`, 'float32', p.value.shape, { grad: false });
    const u = b.scope(`${ns}/${p.name}`, () => adamUpdate(o, cfg, p, mIn, vIn, { lrT, bc2s, decay }));
    updates.push({ name: p.name, ...u });
    moments.push(mIn, vIn);
    state.push({ input: p.value, next: u.param }, { input: mIn, next: u.m }, { input: vIn, next: u.v });
  }
  return { updates, state, moments, scalars };
}

interface StepScalars {
  lrT: Value;
  bc2s: Value;
  decay: Value | undefined;
}

function adamUpdate(o: Ops, cfg: AdamConfig, p: AdamParam, m: Value, v: Value, s: StepScalars) {
  const { beta1: b1, beta2: b2 } = cfg;
  const g = !cfg.decoupled && cfg.weightDecay !== 0 ? o.add(p.grad, o.mul(p.value, cfg.weightDecay)) : p.grad;
  const base = s.decay ? o.mul(p.value, s.decay) : p.value;
  const m2 = o.add(o.mul(m, b1), o.mul(g, 1 - b1));
  const v2 = o.add(o.mul(v, b2), o.mul(o.mul(g, g), 1 - b2));
  const denom = o.add(o.div(o.sqrt(v2), s.bc2s), cfg.eps);
  const param = o.sub(base, o.mul(s.lrT, o.div(m2, denom)));
  return { param, m: m2, v: v2 };
}

/** Host-side scalars for step t (1-based), computed in float64 before rounding to float32. */
export function adamStepScalars(lr: number, step: number, cfg: AdamConfig, ns = 'adam'): Record<string, Float32Array> {
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`Adam step must be an integer ≥ 1, got ${step}`);
  const out: Record<string, Float32Array> = {
    [`${ns}.lr_t`]: Float32Array.of(lr / (1 - cfg.beta1 ** step)),
    [`${ns}.bc2s`]: Float32Array.of(Math.sqrt(1 - cfg.beta2 ** step)),
  };
  if (usesDecay(cfg)) out[`${ns}.decay`] = Float32Array.of(1 - lr * cfg.weightDecay);
  return out;
}

/** Zero-initialised moments for every parameter, keyed by graph input name. */
export function adamInitialState(emitted: AdamEmitted): Map<string, Float32Array> {
  return new Map(emitted.moments.map((m) => [m.name, new Float32Array(numel(m.shape))]));
}
