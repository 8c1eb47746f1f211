// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import { attr } from '../../../training/onnx/ir.ts';
import type { Value } from '../../../training/onnx/ir.ts';
import { ops } from '../../../training/onnx/ops.ts';
import { gradients } from '../../../training/autodiff/backward.ts';
import { batchNormEval, batchNormTrain } from '../../../training/nn/batch-norm-op.ts';
import { Rng } from '../../../common/rng.ts';
import { feed, gradcheck, positive, runGraph } from '../../support/gradcheck.ts';

const near1 = (rng: Rng): number => 1 + 0.3 * rng.normal();

void test('BN training mode (NCHW): dX, dγ, dβ match central differences', async () => {
  await gradcheck({
    inputs: [
      { name: 'x', shape: [3, 2, 3, 3] },
      { name: 'gamma', shape: [2], init: near1 },
      { name: 'beta', shape: [2] },
      { name: 'rm', shape: [2], grad: false },
      { name: 'rv', shape: [2], init: positive(), grad: false },
    ],
    build: (b, [x, gamma, beta, rm, rv]) => batchNormTrain(b, x!, gamma!, beta!, rm!, rv!).y,
    eps: 3e-3,
  });
});

void test('BN training mode on [N, C] input (BatchNorm1d): central differences', async () => {
  await gradcheck({
    inputs: [
      { name: 'x', shape: [5, 3] },
      { name: 'gamma', shape: [3], init: near1 },
      { name: 'beta', shape: [3] },
      { name: 'rm', shape: [3], grad: false },
      { name: 'rv', shape: [3], init: positive(), grad: false },
    ],
    build: (b, [x, gamma, beta, rm, rv]) => batchNormTrain(b, x!, gamma!, beta!, rm!, rv!, { momentum: 0.3 }).y,
    eps: 3e-3,
  });
});

void test('BN eval mode: gradients wrt X, γ, β and both running statistics match central differences', async () => {
  await gradcheck({
    inputs: [
      { name: 'x', shape: [2, 3, 2, 2] },
      { name: 'gamma', shape: [3], init: near1 },
      { name: 'beta', shape: [3] },
      { name: 'rm', shape: [3] },
      { name: 'rv', shape: [3], init: positive() },
    ],
    build: (b, [x, gamma, beta, rm, rv]) => batchNormEval(b, x!, gamma!, beta!, rm!, rv!),
    eps: 3e-3,
  });
});

void test('BN training mode: a constant output gradient gives dX = 0, dγ = Σx̂ = 0 and dβ = M', async () => {
  const b = new GraphBuilder('bn-const');
  const o = ops(b);
  const x = b.input('x', 'float32', [2, 1, 1, 3]);
  const gamma = b.input('gamma', 'float32', [1]);
  const beta = b.input('beta', 'float32', [1]);
  const stats = [b.input('rm', 'float32', [1], { grad: false }), b.input('rv', 'float32', [1], { grad: false })] as const;
  const { y } = batchNormTrain(b, x, gamma, beta, ...stats);
  const grads = gradients(b, o.reduceSum(y, [], false), [x, gamma, beta]);
  const [dx, dgamma, dbeta] = await runGraph(b, grads, {
    x: feed([2, 1, 1, 3], [1, 4, 2, 8, 5, 7]),
    gamma: feed([1], [2]),
    beta: feed([1], [0.5]),
    rm: feed([1], [0]),
    rv: feed([1], [1]),
  });
  for (const v of dx!.data as Float32Array) assert.ok(Math.abs(v) < 1e-6, `dX ${v}`);
  assert.ok(Math.abs((dgamma!.data as Float32Array)[0]!) < 1e-5);
  assert.deepEqual([...dbeta!.data], [6]);
});

void test('batchNormTrain updates running statistics with PyTorch semantics (unbiased variance)', async () => {
  const b = new GraphBuilder('bn-stats');
  const x = b.input('x', 'float32', [2, 2, 1, 2]);
  const [gamma, beta, rm, rv] = ['gamma', 'beta', 'rm', 'rv'].map((n) => b.input(n, 'float32', [2], { grad: false })) as [
    Value,
    Value,
    Value,
    Value,
  ];
  const r = batchNormTrain(b, x, gamma, beta, rm, rv, { momentum: 0.25 });
  // channel 0: {1, 3, 5, 7} → μ = 4, unbiased σ² = 20/3; channel 1: {2, 2, 6, 10} → μ = 5, unbiased σ² = 44/3
  const feeds = {
    x: feed(x.shape, [1, 3, 2, 2, 5, 7, 6, 10]),
    gamma: feed([2], [1, 1]),
    beta: feed([2], [0, 0]),
    rm: feed([2], [1, -1]),
    rv: feed([2], [2, 0.5]),
  };
  const [y, mean, variance] = await runGraph(b, [r.y, r.runMean, r.runVar], feeds);
  // ORT's kernel writes its statistics into the input_mean/var buffers; ours must stay untouched
  assert.deepEqual([...feeds.rm.data, ...feeds.rv.data], [1, -1, 2, 0.5]);
  const close = (a: ArrayLike<number>, e: readonly number[]): void => {
    e.forEach((v, i) => {
      assert.ok(Math.abs(a[i]! - v) < 1e-5, `${a[i]} vs ${v}`);
    });
  };
  close(mean!.data as Float32Array, [0.75 * 1 + 0.25 * 4, 0.75 * -1 + 0.25 * 5]);
  close(variance!.data as Float32Array, [0.75 * 2 + 0.25 * (20 / 3), 0.75 * 0.5 + 0.25 * (44 / 3)]);
  // Y uses the biased variance (5 for channel 0): (1 − 4)/sqrt(5 + 1e-5)
  close([(y!.data as Float32Array)[0]!], [-3 / Math.sqrt(5 + 1e-5)]);
});

void test('batchNormTrain refuses one value per channel, as PyTorch does', () => {
  const b = new GraphBuilder('bn-one');
  const x = b.input('x', 'float32', [1, 2]);
  const [g, bt, rm, rv] = ['g', 'bt', 'rm', 'rv'].map((n) => b.input(n, 'float32', [2]));
  assert.throws(() => batchNormTrain(b, x, g!, bt!, rm!, rv!), /more than 1 value per channel/);
});

function nativeTrainingBn(momentum: number) {
  const b = new GraphBuilder('bn-native');
  const x = b.input('x', 'float32', [2, 2, 2, 2]);
  const [g, bt, rm, rv] = ['g', 'bt', 'rm', 'rv'].map((n) => b.input(n, 'float32', [2], { grad: n === 'g' }));
  const attrs = { epsilon: attr.f(1e-5), momentum: attr.f(momentum), training_mode: attr.i(1) };
  const outs = b.emit('BatchNormalization', [x, g!, bt!, rm!, rv!], attrs, 3) as [Value, Value, Value];
  return { b, o: ops(b), x, outs };
}

void test('training-mode BN gradient refuses ONNX momentum ≠ 0 (outputs 1/2 would not be batch statistics)', () => {
  const { b, o, x, outs } = nativeTrainingBn(0.9);
  assert.throws(() => gradients(b, o.reduceSum(outs[0], [], false), [x]), /momentum = 0/);
});

void test('a gradient reaching the batch-mean output is refused, not silently dropped', () => {
  const { b, o, x, outs } = nativeTrainingBn(0);
  const loss = o.add(o.reduceSum(outs[0], [], false), o.reduceSum(outs[1], [], false));
  assert.throws(() => gradients(b, loss, [x]), /non-differentiable/);
});
