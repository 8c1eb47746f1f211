// SPDX-License-Identifier: MIT
// End to end: conv → BN → LeakyReLU → convT → tanh, trained with Adam by StepRunner on 64 seeded
// synthetic images. The L1 reconstruction loss must fall by more than half within 60 steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../common/rng.ts';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import { gradients } from '../../../training/autodiff/backward.ts';
import { initParams, ParamSet } from '../../../training/nn/params.ts';
import { bufferUpdates, createContext } from '../../../training/nn/context.ts';
import { batchNorm2d, conv2d, convTranspose2d } from '../../../training/nn/layers.ts';
import { outputNext } from '../../../training/nn/next.ts';
import { adamConfig, adamInitialState, adamStepScalars, emitAdam } from '../../../training/optim/adam.ts';
import { StepRunner } from '../../../training/runtime/step-runner.ts';

const N = 64;
const S = 16;

/** One Gaussian blob per image, random centre and width, mapped to [-1, 1]. */
function blobs(rng: Rng): Float32Array {
  const out = new Float32Array(N * S * S);
  for (let n = 0; n < N; n++) {
    const [cy, cx, r] = [2 + rng.uniform() * (S - 4), 2 + rng.uniform() * (S - 4), 1.5 + rng.uniform() * 3];
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) {
        out[n * S * S + y * S + x] = 2 * Math.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r)) - 1;
      }
  }
  return out;
}

function buildStep() {
  const b = new GraphBuilder('smoke');
  const ps = new ParamSet(b);
  const ctx = createContext(b, ps, true);
  const o = ctx.o;
  const x = b.input('x', 'float32', [N, 1, S, S], { grad: false });
  let h = conv2d(ctx, 'enc', x, { out: 16, kernel: 4, stride: 2, padding: 1, bias: false });
  h = o.leakyRelu(batchNorm2d(ctx, 'bn', h), 0.2);
  const y = o.tanh(convTranspose2d(ctx, 'dec', h, { out: 1, kernel: 4, stride: 2, padding: 1 }));
  const loss = o.reduceMean(o.abs(o.sub(y, x)), [0, 1, 2, 3], false);
  const trainable = ps
    .decls()
    .filter((d) => d.role === 'param')
    .map((d) => ({ name: d.name, value: ps.values().get(d.name)! }));
  const grads = gradients(
    b,
    loss,
    trainable.map((p) => p.value),
  );
  const cfg = adamConfig({ beta1: 0.5 });
  const adam = emitAdam(
    b,
    trainable.map((p, i) => ({ ...p, grad: grads[i]! })),
    cfg,
  );
  outputNext(b, [...adam.state, ...bufferUpdates(ctx)]);
  b.output(loss, 'loss');
  const state = new Map([...initParams(ps.decls(), new Rng(1))].map(([k, v]) => [ps.inputName(k), v]));
  for (const [k, v] of adamInitialState(adam)) state.set(k, v);
  return { graph: b.build(), state, cfg };
}

void test('a small conv net trained by StepRunner + Adam halves its loss within 60 steps', async (t) => {
  const started = performance.now();
  const { graph, state, cfg } = buildStep();
  const runner = await StepRunner.create(graph, { state });
  const images = blobs(new Rng(2));
  const losses: number[] = [];
  try {
    for (let t = 1; t <= 60; t++) {
      const out = await runner.run({ x: { dtype: 'float32', shape: [N, 1, S, S], data: images } }, adamStepScalars(1e-2, t, cfg));
      losses.push(out.loss!);
    }
  } finally {
    await runner.release();
  }
  const seconds = (performance.now() - started) / 1000;
  const first = losses[0]!;
  const last = losses.at(-1)!;
  assert.ok(losses.every(Number.isFinite), 'losses are finite');
  assert.ok(last < 0.5 * first, `loss ${first.toFixed(4)} → ${last.toFixed(4)} did not halve`);
  const rm = runner.state()['bn.running_mean']!;
  assert.ok(
    rm.some((v) => v !== 0),
    'BN running mean was updated through the .next swap',
  );
  assert.equal(losses.length, 60, 'one loss per step');
  t.diagnostic(`smoke: loss ${first.toFixed(4)} → ${last.toFixed(4)} in 60 steps, ${seconds.toFixed(2)} s`);
});
