// SPDX-License-Identifier: MIT
/**
 * The smooth clamp and the sign of L_tight, checked against values computed on the host from f(z)
 * and f(f(z)) (run through the forward graph): tanh(L̃_i/(a·N_i))·a·N_i per sample, then the mean.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { numel } from '../../../training/onnx/ir.ts';
import { serialize } from '../../../training/onnx/serialize.ts';
import { createSession } from '../../../training/runtime/ort.ts';
import type { HostTensor } from '../../../training/runtime/ort.ts';
import { Rng } from '../../../common/rng.ts';
import { PRESETS, resolveConfig } from '../../../training/config.ts';
import type { LossConfig } from '../../../training/config.ts';
import { architecture } from '../../../training/ign/model.ts';
import { buildStepGraph } from '../../../training/ign/train-graph.ts';
import { ForwardRunner } from '../../../training/trainer/forward-runner.ts';
import { CLAMP_EPS } from '../../../training/ign/losses.ts';

const N = 3;
const SHAPE = [1, 4, 4] as const;
const SIZE = 16;
const config = resolveConfig({ model: { arch: 'tiny', norm: 'none', width: 3 }, batch: N });
const arch = architecture(config.model, SHAPE);
const t = (shape: readonly number[], data: Float32Array): HostTensor => ({ dtype: 'float32', shape, data });

async function stepOutputs(loss: LossConfig, seed: number, tightRowWeights: number[] | null = null) {
  const rng = new Rng(seed);
  const sg = buildStepGraph({ arch, model: config.model, loss, optim: config.optim, batch: N, tightRowWeights }, { outputDebug: true });
  const theta = Object.fromEntries(sg.decls.map((d) => [d.name, rng.fillNormal(new Float32Array(numel(d.shape)), 0, 0.6)]));
  const x = rng.fillUniform(new Float32Array(N * SIZE), -1, 1);
  const z = rng.fillNormal(new Float32Array(N * SIZE));
  const feeds: Record<string, HostTensor> = { x: t([N, ...SHAPE], x), z: t([N, ...SHAPE], z) };
  for (const v of sg.graph.inputs) {
    if (feeds[v.name]) continue;
    feeds[v.name] = t(
      v.shape,
      theta[v.name.replace(/^frozen\./, '')] ?? new Float32Array(numel(v.shape)).fill(v.name.endsWith('bc2s') ? 1 : 0),
    );
  }
  const out = await (await createSession(serialize(sg.graph))).run(feeds);
  const forward = await ForwardRunner.create({ arch, model: config.model, batch: N, bnMode: 'train', applications: 2 });
  const [fz, ffz] = (await forward.run(z, theta)) as [Float32Array, Float32Array];
  const [fx] = (await forward.run(x, theta)) as [Float32Array];
  const value = (name: string): number => Number(out[name]!.data[0]);
  const vector = (name: string): number[] => Array.from(out[name]!.data as Float32Array);
  return { value, vector, x, z, fx, fz, ffz };
}

/** Per-sample mean |a − b|. */
function perSampleL1(a: Float32Array, b: Float32Array): number[] {
  return Array.from({ length: N }, (_, i) => {
    let s = 0;
    for (let k = i * SIZE; k < (i + 1) * SIZE; k++) s += Math.abs(a[k]! - b[k]!);
    return s / SIZE;
  });
}

const mean = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const close = (a: number, b: number, tol = 1e-5): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

for (const clampA of [1.5, 0.05]) {
  void test(`paper preset: tightness is tanh(L/(aN))·aN per sample with N = D(f(z), z) detached (a = ${clampA})`, async () => {
    const r = await stepOutputs({ ...PRESETS.paper, clampA }, 21);
    const raw = perSampleL1(r.ffz, r.fz).map((d) => -d);
    const norm = perSampleL1(r.fz, r.z);
    const clamped = raw.map((l, i) => Math.tanh(l / (clampA * norm[i]! + CLAMP_EPS)) * (clampA * norm[i]! + CLAMP_EPS));
    r.vector('debug.tight_raw').forEach((v, i) => {
      assert.ok(close(v, raw[i]!), `raw ${i}: ${v} vs ${raw[i]}`);
    });
    r.vector('debug.clamp_norm').forEach((v, i) => {
      assert.ok(close(v, norm[i]!), `N ${i}: ${v} vs ${norm[i]}`);
    });
    assert.ok(close(r.value('loss.tight'), mean(clamped)), `loss.tight ${r.value('loss.tight')} vs host ${mean(clamped)}`);
    assert.ok(r.value('loss.tight') < 0, 'L_tight is negative');
    if (clampA < 1) assert.ok(Math.abs(mean(clamped) - mean(raw)) > 1e-3, 'a small a must visibly clamp');
    const total = 20 * r.value('loss.rec') + 20 * r.value('loss.idem') + 2.5 * r.value('loss.tight');
    assert.ok(close(r.value('loss.total'), total), `total ${r.value('loss.total')} vs weighted sum ${total}`);
  });
}

void test('per-row tightness weights scale each clamped L_tight,i before the batch mean (mixture rows)', async () => {
  const weights = [0, 0.25, 1];
  const r = await stepOutputs(PRESETS.paper, 24, weights);
  const plain = await stepOutputs(PRESETS.paper, 24);
  const raw = perSampleL1(r.ffz, r.fz).map((d) => -d);
  const scale = perSampleL1(r.fz, r.z).map((n) => 1.5 * n + CLAMP_EPS);
  const clamped = raw.map((l, i) => Math.tanh(l / scale[i]!) * scale[i]!);
  const weighted = mean(clamped.map((v, i) => weights[i]! * v));
  assert.ok(close(r.value('loss.tight'), weighted), `loss.tight ${r.value('loss.tight')} vs host ${weighted}`);
  assert.ok(close(plain.value('loss.tight'), mean(clamped)), 'without weights every row counts fully');
  assert.ok(Math.abs(weighted - mean(clamped)) > 1e-4, 'the weights visibly change the term');
  for (const name of ['loss.rec', 'loss.idem'])
    assert.ok(close(r.value(name), plain.value(name)), `${name} does not depend on the tightness weights`);
  const total = 20 * r.value('loss.rec') + 20 * r.value('loss.idem') + 2.5 * r.value('loss.tight');
  assert.ok(close(r.value('loss.total'), total), `total ${r.value('loss.total')} vs weighted sum ${total}`);
});

void test('rec_x normaliser: N is the per-sample reconstruction distance of the real images', async () => {
  const r = await stepOutputs({ ...PRESETS.paper, clampNormalizer: 'rec_x' }, 22);
  const norm = perSampleL1(r.fx, r.x);
  r.vector('debug.clamp_norm').forEach((v, i) => {
    assert.ok(close(v, norm[i]!), `N ${i}: ${v} vs ${norm[i]}`);
  });
  assert.ok(close(r.value('loss.rec'), mean(norm)), 'loss.rec is the batch mean of the same distances');
});

void test('algorithm1 preset: MSE global mean, weights 1/1/0.1, no clamp', async () => {
  const r = await stepOutputs(PRESETS.algorithm1, 23);
  const sq = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, k) => s + (v - b[k]!) ** 2, 0) / a.length;
  assert.ok(close(r.value('loss.rec'), sq(r.fx, r.x)));
  assert.ok(close(r.value('loss.tight'), -sq(r.ffz, r.fz)));
  assert.ok(close(r.value('loss.idem'), sq(r.ffz, r.fz)), 'frozen copy has the same values as f');
  const total = r.value('loss.rec') + r.value('loss.idem') + 0.1 * r.value('loss.tight');
  assert.ok(close(r.value('loss.total'), total));
  assert.ok(close(r.value('metric.idem_residual'), mean(perSampleL1(r.ffz, r.fz))));
  assert.ok(close(r.value('metric.fz_shift'), mean(perSampleL1(r.fz, r.z))));
});
