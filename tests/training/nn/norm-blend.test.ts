// SPDX-License-Identifier: MIT
// Blended BatchNorm (per-sample share α of the statistics): float64 references, the α = 0 and α = 1
// ends, central-difference gradients, and per-sample independence of the eval form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../common/rng.ts';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import type { HostTensor } from '../../../training/runtime/ort.ts';
import { ParamSet } from '../../../training/nn/params.ts';
import { bufferUpdates, createContext } from '../../../training/nn/context.ts';
import { batchNorm2d } from '../../../training/nn/layers.ts';
import { batchNormBlendEval, batchNormBlendTrain } from '../../../training/nn/batch-norm-op.ts';
import { gradcheck, positive, runGraph } from '../../support/gradcheck.ts';
import { channelStats, relErr } from './reference.ts';

const SHAPE: [number, number, number, number] = [4, 3, 5, 5];
const HW = 25;
const M = 4 * HW;
const t = (shape: number[], data: Float32Array): HostTensor => ({ dtype: 'float32', shape, data });

/** Samples with their own offsets and scales per channel, so instance and batch statistics differ. */
function fixture(seed: number) {
  const rng = new Rng(seed);
  const x = new Float32Array(4 * 3 * HW);
  for (let i = 0; i < x.length; i++) {
    const n = Math.floor(i / (3 * HW));
    const c = Math.floor(i / HW) % 3;
    x[i] = (c - 1) * 2 + n * 0.7 + (0.5 + c + 0.3 * n) * rng.normal();
  }
  const f = (vals: number[]) => Float32Array.from(vals);
  return { x, gamma: f([1.5, 0.5, -1]), beta: f([0.1, -0.2, 0.3]), rm: f([0.2, -0.1, 0.4]), rv: f([1.2, 0.8, 2]) };
}

function feeds(fx: ReturnType<typeof fixture>, shape: readonly number[] = SHAPE): Record<string, HostTensor> {
  return {
    x: t([...shape], fx.x),
    'bn.weight': t([3], fx.gamma),
    'bn.bias': t([3], fx.beta),
    'bn.running_mean': t([3], fx.rm),
    'bn.running_var': t([3], fx.rv),
  };
}

/** y = γ(x − μ_nc)/√(σ²_nc + ε) + β with μ_nc = (1−α)·shared.mean_c + α·(sample n's mean), likewise σ². */
function blendRef(
  x: Float32Array,
  n: number,
  shared: { mean: ArrayLike<number>; variance: ArrayLike<number> },
  alpha: number,
  fx: ReturnType<typeof fixture>,
  eps: number,
): Float64Array {
  const out = new Float64Array(x.length);
  for (let s = 0; s < n; s++)
    for (let c = 0; c < 3; c++) {
      const base = (s * 3 + c) * HW;
      let sum = 0;
      for (let i = 0; i < HW; i++) sum += x[base + i]!;
      const own = sum / HW;
      let sq = 0;
      for (let i = 0; i < HW; i++) sq += (x[base + i]! - own) ** 2;
      const mean = (1 - alpha) * shared.mean[c]! + alpha * own;
      const variance = (1 - alpha) * shared.variance[c]! + (alpha * sq) / HW;
      for (let i = 0; i < HW; i++) out[base + i] = ((x[base + i]! - mean) / Math.sqrt(variance + eps)) * fx.gamma[c]! + fx.beta[c]!;
    }
  return out;
}

void test('blended BatchNorm (train): batch statistics mixed with each sample’s own; running stats as plain BatchNorm', async () => {
  const b = new GraphBuilder('bnb');
  const ctx = createContext(b, new ParamSet(b), true);
  const y = batchNorm2d(ctx, 'bn', b.input('x', 'float32', SHAPE, { grad: false }), { blend: 0.3 });
  const [rmNext, rvNext] = bufferUpdates(ctx).map((u) => u.next);
  const fx = fixture(1);
  const [out, rm, rv] = await runGraph(b, [y, rmNext!, rvNext!], feeds(fx));
  const { mean, variance } = channelStats({ shape: SHAPE, data: fx.x });
  assert.ok(relErr(out!.data as Float32Array, blendRef(fx.x, 4, { mean, variance }, 0.3, fx, 1e-5)) < 1e-5);
  const rmRef = mean.map((mu, c) => 0.9 * fx.rm[c]! + 0.1 * mu);
  const rvRef = variance.map((v, c) => 0.9 * fx.rv[c]! + 0.1 * v * (M / (M - 1)));
  assert.ok(relErr(rm!.data as Float32Array, rmRef) < 1e-5);
  assert.ok(relErr(rv!.data as Float32Array, rvRef) < 1e-5);
});

void test('blended BatchNorm (eval): running statistics mixed with each sample’s own; α = 1 ignores the running ones', async () => {
  const evalRun = async (alpha: number, fx: ReturnType<typeof fixture>) => {
    const b = new GraphBuilder('bnb-eval');
    const ctx = createContext(b, new ParamSet(b), false);
    const y = batchNorm2d(ctx, 'bn', b.input('x', 'float32', SHAPE, { grad: false }), { blend: alpha, eps: 1e-3 });
    assert.deepEqual(bufferUpdates(ctx), []);
    const [out] = await runGraph(b, [y], feeds(fx));
    return out!.data as Float32Array;
  };
  const fx = fixture(2);
  for (const alpha of [0.3, 1]) {
    const ref = blendRef(fx.x, 4, { mean: fx.rm, variance: fx.rv }, alpha, fx, 1e-3);
    assert.ok(relErr(await evalRun(alpha, fx), ref) < 1e-5, `α = ${alpha}`);
  }
  const other = { ...fx, rm: Float32Array.from([5, 5, 5]), rv: Float32Array.from([9, 9, 9]) };
  assert.ok(relErr(await evalRun(1, other), await evalRun(1, fx)) < 1e-6, 'α = 1 is instance norm');
  assert.ok(relErr(await evalRun(0.3, other), await evalRun(0.3, fx)) > 0.05, 'α < 1 reads the running statistics');
});

void test('blended BatchNorm (eval): each sample’s output depends on that sample only (serving batches stay exact)', async () => {
  const fx = fixture(3);
  const run = async (n: number, x: Float32Array<ArrayBuffer>) => {
    const b = new GraphBuilder('bnb-one');
    const ctx = createContext(b, new ParamSet(b), false);
    const y = batchNorm2d(ctx, 'bn', b.input('x', 'float32', [n, 3, 5, 5], { grad: false }), { blend: 0.5 });
    const [out] = await runGraph(b, [y], feeds({ ...fx, x }, [n, 3, 5, 5]));
    return out!.data as Float32Array;
  };
  const all = await run(4, fx.x);
  for (const s of [0, 3]) {
    const one = await run(1, fx.x.slice(s * 3 * HW, (s + 1) * 3 * HW));
    assert.ok(relErr(one, all.slice(s * 3 * HW, (s + 1) * 3 * HW)) < 1e-6, `sample ${s}`);
  }
});

void test('blend 0 emits the native BatchNormalization op exactly as before; out-of-range blends are refused', () => {
  for (const training of [true, false]) {
    const b = new GraphBuilder('bn0');
    b.output(batchNorm2d(createContext(b, new ParamSet(b), training), 'bn', b.input('x', 'float32', SHAPE), { blend: 0 }), 'y');
    assert.ok(b.build().nodes.some((n) => n.opType === 'BatchNormalization'));
    assert.ok(!b.build().nodes.some((n) => n.opType === 'ReduceMean'));
  }
  const b = new GraphBuilder('bad');
  const ctx = createContext(b, new ParamSet(b), true);
  assert.throws(() => batchNorm2d(ctx, 'bn', b.input('x', 'float32', SHAPE), { blend: 1.5 }), /blend must lie in \[0, 1\]/);
  assert.throws(() => batchNorm2d(ctx, 'bn2', b.input('y', 'float32', [4, 3]), { blend: 0.5 }), /NCHW/);
});

const near1 = (rng: Rng): number => 1 + 0.3 * rng.normal();

void test('blended BatchNorm: dX, dγ, dβ match central differences (train and eval)', async () => {
  const inputs = [
    { name: 'x', shape: [3, 2, 3, 3] },
    { name: 'gamma', shape: [2], init: near1 },
    { name: 'beta', shape: [2] },
    { name: 'rm', shape: [2], grad: false },
    { name: 'rv', shape: [2], init: positive(), grad: false },
  ] as const;
  await gradcheck({
    inputs,
    build: (b, [x, gamma, beta, rm, rv]) => batchNormBlendTrain(b, x!, gamma!, beta!, rm!, rv!, { blend: 0.4 }).y,
    eps: 3e-3,
  });
  await gradcheck({
    inputs,
    build: (b, [x, gamma, beta, rm, rv]) => batchNormBlendEval(b, x!, gamma!, beta!, rm!, rv!, { blend: 0.4 }),
    eps: 3e-3,
  });
});
