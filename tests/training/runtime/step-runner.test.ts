// SPDX-License-Identifier: MIT
// StepRunner: state swapping, aliases (frozen copy), checkpoint state()/load(), input validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import { ops } from '../../../training/onnx/ops.ts';
import { gradients } from '../../../training/autodiff/backward.ts';
import { outputNext } from '../../../training/nn/next.ts';
import { emitSgd } from '../../../training/optim/sgd.ts';
import { StepRunner } from '../../../training/runtime/step-runner.ts';

const TARGET = [1, -2, 0.5];

/**
 * loss = Σ (w − target)²; SGD updates w; `frozen_sum` = Σ frozen.w reads the frozen copy, which
 * the runner feeds from w (the value BEFORE this step's update).
 */
function quadraticGraph(momentum: number) {
  const b = new GraphBuilder('quad');
  const o = ops(b);
  const w = b.input('w', 'float32', [3]);
  const frozen = b.input('frozen.w', 'float32', [3], { grad: false });
  const diff = o.sub(w, b.constant(TARGET));
  const loss = o.reduceSum(o.mul(diff, diff), [0], false);
  const [g] = gradients(b, loss, [w]);
  const sgd = emitSgd(b, [{ name: 'w', value: w, grad: g! }], { momentum });
  outputNext(b, sgd.state);
  b.output(loss, 'loss');
  b.output(o.reduceSum(frozen, [0], false), 'frozen_sum');
  return b.build();
}

void test('run() swaps X.next into X, feeds aliases from the current state and returns scalar outputs', async () => {
  const runner = await StepRunner.create(quadraticGraph(0), {
    state: { w: Float32Array.of(0, 0, 0) },
    aliases: { 'frozen.w': 'w' },
  });
  try {
    const lr = 0.1;
    let w = [0, 0, 0];
    for (let step = 0; step < 3; step++) {
      const out = await runner.run({}, { 'sgd.lr': lr });
      const loss = w.reduce((a, v, i) => a + (v - TARGET[i]!) ** 2, 0);
      assert.ok(Math.abs(out.loss! - loss) < 1e-5, `step ${step}: loss ${out.loss} vs ${loss}`);
      assert.ok(Math.abs(out.frozen_sum! - w.reduce((a, v) => a + v, 0)) < 1e-5, 'frozen copy = w before the step');
      w = w.map((v, i) => v - lr * 2 * (v - TARGET[i]!));
      const got = runner.state().w!;
      assert.ok(
        w.every((v, i) => Math.abs(v - got[i]!) < 1e-6),
        `w after step ${step}: ${String(got)} vs ${String(w)}`,
      );
    }
    assert.deepEqual(Object.keys(runner.lastOutputs).sort(), ['frozen_sum', 'loss']);
  } finally {
    await runner.release();
  }
});

void test('state() / load() restore a checkpoint exactly, momentum buffers included', async () => {
  const runner = await StepRunner.create(quadraticGraph(0.9), {
    state: { w: Float32Array.of(0.3, 0.2, 0.1), 'w.sgd_buf': new Float32Array(3) },
    aliases: { 'frozen.w': 'w' },
  });
  try {
    await runner.run({}, { 'sgd.lr': 0.05 });
    const snapshot = runner.state();
    assert.deepEqual(Object.keys(snapshot).sort(), ['w', 'w.sgd_buf']);
    const a = await runner.run({}, { 'sgd.lr': 0.05 });
    const b = await runner.run({}, { 'sgd.lr': 0.05 });
    runner.load(snapshot);
    const a2 = await runner.run({}, { 'sgd.lr': 0.05 });
    const b2 = await runner.run({}, { 'sgd.lr': 0.05 });
    assert.equal(a2.loss, a.loss);
    assert.equal(b2.loss, b.loss);
    assert.notEqual(a.loss, b.loss);
    assert.throws(() => {
      runner.load({ 'frozen.w': new Float32Array(3) });
    }, /alias/);
    assert.throws(() => {
      runner.load({ w: new Float32Array(2) });
    }, /do not fill/);
    assert.throws(() => {
      runner.load({ nope: new Float32Array(3) });
    }, /not a graph input/);
  } finally {
    await runner.release();
  }
});

void test('construction and run() name what is missing', async () => {
  const graph = quadraticGraph(0);
  await assert.rejects(StepRunner.create(graph, { state: {}, aliases: { 'frozen.w': 'w' } }), /no initial value for state w/);
  await assert.rejects(
    StepRunner.create(graph, { state: { w: new Float32Array(3) }, aliases: { ghost: 'w' } }),
    /ghost is not a graph input/,
  );
  const runner = await StepRunner.create(graph, { state: { w: new Float32Array(3) } });
  try {
    await assert.rejects(runner.run({}, { 'sgd.lr': 0.1 }), /missing inputs: frozen\.w/);
  } finally {
    await runner.release();
  }
});
