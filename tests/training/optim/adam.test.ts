// SPDX-License-Identifier: MIT
// Adam / AdamW graphs against a hand-rolled float64 transcription of torch.optim.Adam / AdamW.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../common/rng.ts';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import { serialize } from '../../../training/onnx/serialize.ts';
import { createSession } from '../../../training/runtime/ort.ts';
import type { HostTensor } from '../../../training/runtime/ort.ts';
import { outputNext } from '../../../training/nn/next.ts';
import { adamConfig, adamInitialState, adamStepScalars, emitAdam } from '../../../training/optim/adam.ts';
import type { AdamConfig } from '../../../training/optim/adam.ts';

const SHAPES: Record<string, number[]> = { w: [3, 4], b: [5] };

/** torch.optim.Adam(W).step() for one tensor, in float64. */
function referenceStep(p: Float64Array, g0: Float32Array, m: Float64Array, v: Float64Array, lr: number, t: number, cfg: AdamConfig): void {
  const bc1 = 1 - cfg.beta1 ** t;
  const bc2Sqrt = Math.sqrt(1 - cfg.beta2 ** t);
  for (let i = 0; i < p.length; i++) {
    let g = g0[i]!;
    if (!cfg.decoupled) g += cfg.weightDecay * p[i]!;
    else p[i] = p[i]! * (1 - lr * cfg.weightDecay);
    m[i] = cfg.beta1 * m[i]! + (1 - cfg.beta1) * g;
    v[i] = cfg.beta2 * v[i]! + (1 - cfg.beta2) * g * g;
    const denom = Math.sqrt(v[i]!) / bc2Sqrt + cfg.eps;
    p[i] = p[i]! - (lr / bc1) * (m[i]! / denom);
  }
}

/** Gradients of mixed magnitude: some ≈1e-9 so that ε = 1e-8 matters. */
function randomGrads(rng: Rng): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [name, shape] of Object.entries(SHAPES)) {
    const g = rng.fillNormal(new Float32Array(shape.reduce((a, d) => a * d, 1)), 0, 0.1);
    for (let i = 0; i < g.length; i += 3) g[i] = g[i]! * 1e-8;
    out[name] = g;
  }
  return out;
}

function relErr(ours: Float32Array, ref: Float64Array): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(ours[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return err / scale;
}

async function compareThreeSteps(cfg: AdamConfig, lrs: readonly number[]): Promise<Record<string, Float32Array>> {
  const b = new GraphBuilder('adam');
  const params = Object.entries(SHAPES).map(([name, shape]) => ({
    name,
    value: b.input(name, 'float32', shape),
    grad: b.input(`grad.${name}`, 'float32', shape, { grad: false }),
  }));
  const emitted = emitAdam(b, params, cfg);
  outputNext(b, emitted.state);
  const session = await createSession(serialize(b.build()));
  const rng = new Rng(7);
  const state = new Map<string, Float32Array>(adamInitialState(emitted));
  const ref = new Map<string, Float64Array>();
  for (const [name, shape] of Object.entries(SHAPES)) {
    const p = rng.fillNormal(new Float32Array(shape.reduce((a, d) => a * d, 1)), 0, 1);
    state.set(name, p);
    for (const k of [name, `${name}.adam_m`, `${name}.adam_v`]) ref.set(k, k === name ? Float64Array.from(p) : new Float64Array(p.length));
  }
  for (let t = 1; t <= lrs.length; t++) {
    const lr = lrs[t - 1]!;
    const grads = randomGrads(rng);
    const feeds: Record<string, HostTensor> = {};
    for (const [name, data] of state) feeds[name] = { dtype: 'float32', shape: SHAPES[name.split('.')[0]!]!, data };
    for (const [name, g] of Object.entries(grads)) feeds[`grad.${name}`] = { dtype: 'float32', shape: SHAPES[name]!, data: g };
    for (const [name, s] of Object.entries(adamStepScalars(lr, t, cfg))) feeds[name] = { dtype: 'float32', shape: [], data: s };
    const out = await session.run(feeds);
    for (const name of state.keys()) state.set(name, out[`${name}.next`]!.data as Float32Array);
    for (const name of Object.keys(SHAPES)) {
      referenceStep(ref.get(name)!, grads[name]!, ref.get(`${name}.adam_m`)!, ref.get(`${name}.adam_v`)!, lr, t, cfg);
    }
  }
  await session.release();
  for (const [name, r] of ref) {
    const e = relErr(state.get(name)!, r);
    assert.ok(e <= 1e-6, `${name}: relative error ${e.toExponential(2)} > 1e-6`);
  }
  return Object.fromEntries(state);
}

void test('Adam matches torch.optim.Adam over three steps (betas 0.5/0.999, no decay)', async () => {
  await compareThreeSteps(adamConfig({ beta1: 0.5 }), [0.01, 0.01, 0.01]);
});

void test('Adam with weight decay adds the L2 term to the gradient', async () => {
  await compareThreeSteps(adamConfig({ weightDecay: 0.1 }), [0.01, 0.02, 0.005]);
});

void test('AdamW decays the weights directly (decoupled)', async () => {
  await compareThreeSteps(adamConfig({ beta1: 0.5, weightDecay: 0.5, decoupled: true }), [0.05, 0.02, 0.01]);
});

void test('learning rate is a graph input: a schedule changes the update without a rebuild', async () => {
  const cfg = adamConfig({ beta1: 0.5 });
  const constant = await compareThreeSteps(cfg, [0.01, 0.01, 0.01]);
  const scheduled = await compareThreeSteps(cfg, [0.01, 0.001, 0.05]);
  assert.ok(relErr(scheduled.w!, Float64Array.from(constant.w!)) > 1e-3, 'a changed lr must change the parameters');
});

void test('step scalars carry PyTorch bias correction and refuse step 0', () => {
  const cfg = adamConfig({ beta1: 0.5, beta2: 0.999, weightDecay: 0.1, decoupled: true });
  const s = adamStepScalars(1e-3, 2, cfg);
  assert.ok(Math.abs(s['adam.lr_t']![0]! - 1e-3 / 0.75) < 1e-10);
  assert.ok(Math.abs(s['adam.bc2s']![0]! - Math.sqrt(1 - 0.999 ** 2)) < 1e-9);
  assert.ok(Math.abs(s['adam.decay']![0]! - (1 - 1e-4)) < 1e-7);
  assert.deepEqual(Object.keys(adamStepScalars(1e-3, 1, adamConfig())), ['adam.lr_t', 'adam.bc2s']);
  assert.throws(() => adamStepScalars(1e-3, 0, cfg), RangeError);
});
