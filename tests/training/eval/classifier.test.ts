// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../common/rng.ts';
import { loadDataset } from '../../../training/data/dataset.ts';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import { serialize } from '../../../training/onnx/serialize.ts';
import { createSession } from '../../../training/runtime/ort.ts';
import { classifierArch, softmaxCrossEntropy } from '../../../training/eval/classifier-graph.ts';
import { kaimingInit, trainClassifier } from '../../../training/eval/classifier-train.ts';

void test('classifierArch halves the side down to ≤ 4 with 16, 32, 64, 64… channels', () => {
  assert.deepEqual(classifierArch([1, 28, 28]).stages, [16, 32, 64]);
  assert.deepEqual(classifierArch([3, 64, 64]).stages, [16, 32, 64, 64]);
  assert.equal(classifierArch([1, 28, 28]).featureDim, 128);
});

void test('softmax cross-entropy graph matches the host formula, also for huge logits', async () => {
  const logits = [1000, 998, -5, 0.5, -0.25, 2];
  const labels = [1, 2];
  const b = new GraphBuilder('ce');
  const l = b.input('logits', 'float32', [2, 3]);
  const t = b.input('t', 'float32', [2, 3], { grad: false });
  b.output(softmaxCrossEntropy(b, l, t), 'loss');
  const session = await createSession(serialize(b.build()));
  const oneHot = new Float32Array(6);
  labels.forEach((k, row) => (oneHot[row * 3 + k] = 1));
  const out = await session.run({
    logits: { dtype: 'float32', shape: [2, 3], data: Float32Array.from(logits) },
    t: { dtype: 'float32', shape: [2, 3], data: oneHot },
  });
  await session.release();
  const expected = labels.map((k, row) => {
    const r = logits.slice(row * 3, row * 3 + 3);
    const m = Math.max(...r);
    return m + Math.log(r.reduce((s, v) => s + Math.exp(v - m), 0)) - r[k]!;
  });
  const loss = out.loss!.data[0] as number;
  assert.ok(Math.abs(loss - (expected[0]! + expected[1]!) / 2) < 1e-4, `loss ${loss}`);
});

void test('kaimingInit scales weights by √(2/fan_in) and zeroes biases', () => {
  const init = kaimingInit(
    [
      { name: 'l.weight', shape: [200, 50], init: { kind: 'zeros' }, role: 'param' },
      { name: 'l.bias', shape: [200], init: { kind: 'zeros' }, role: 'param' },
    ],
    new Rng(0),
  );
  const w = init.get('l.weight')!;
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(Math.abs(std - Math.sqrt(2 / 50)) < 0.01, `std ${std}`);
  assert.ok(init.get('l.bias')!.every((v) => v === 0));
});

void test('the engine-trained classifier learns MNIST digits in 80 steps', async () => {
  const train = await loadDataset({ kind: 'mnist', limit: 5120 }, 'train');
  const test = await loadDataset({ kind: 'mnist', limit: 1000 }, 'test');
  const trained = await trainClassifier(train, test, { steps: 80, batchSize: 64, seed: 3 });
  assert.ok(trained.testAccuracy > 0.8, `accuracy ${trained.testAccuracy}`);
  assert.ok(trained.finalLoss < 1, `loss ${trained.finalLoss}`);
  assert.ok(trained.onnx.length < 1_000_000, `${trained.onnx.length} bytes`);
});
