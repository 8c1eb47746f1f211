// SPDX-License-Identifier: MIT
// The step graph's reformulations against the plain graph: the frozen forward shared (default) vs
// four separate applications of f, and the trainable Convs run on stacked images (default) vs
// plain Convs. 3 Adam steps from one seed on the same batches give the same losses, parameters,
// Adam moments and BN running statistics (1e-5 relative).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../common/rng.ts';
import { resolveConfig } from '../../../training/config.ts';
import { architecture } from '../../../training/ign/model.ts';
import { buildStepGraph, LOSS_OUTPUTS } from '../../../training/ign/train-graph.ts';
import type { StepGraphOptions, StepGraphSpec } from '../../../training/ign/train-graph.ts';
import { adamStepScalars } from '../../../training/optim/adam.ts';
import { StepRunner } from '../../../training/runtime/step-runner.ts';
import type { HostTensor } from '../../../training/runtime/ort.ts';
import { initialState } from '../../../training/trainer/run-state.ts';

const BATCH = 8;
const STEPS = 3;
const SHAPE = [BATCH, 1, 28, 28];

function batches(seed: number): Record<string, HostTensor>[] {
  const rng = new Rng(seed);
  return Array.from({ length: STEPS }, () => {
    const x = new Float32Array(BATCH * 784).map(() => 2 * rng.uniform() - 1);
    const z = new Float32Array(BATCH * 784);
    rng.fillNormal(z, 0, 1);
    return { x: { dtype: 'float32', shape: SHAPE, data: x }, z: { dtype: 'float32', shape: SHAPE, data: z } };
  });
}

async function train(spec: StepGraphSpec, options: StepGraphOptions, lr: number) {
  const step = buildStepGraph(spec, options);
  const runner = await StepRunner.create(step.graph, {
    state: initialState(step, 3),
    aliases: step.aliases,
    session: { ep: 'cpu', threads: 1 },
  });
  const losses: Record<string, number>[] = [];
  try {
    for (const [i, feeds] of batches(11).entries()) losses.push(await runner.run(feeds, adamStepScalars(lr, i + 1, step.adam)));
    const { nodes } = step.graph;
    return {
      losses,
      state: runner.state(),
      nodes: nodes.length,
      stacked: nodes.filter((n) => n.name.includes('/stack/')).length,
      inputs: step.graph.inputs.map((v) => v.name),
    };
  } finally {
    await runner.release();
  }
}

function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

type Trained = Awaited<ReturnType<typeof train>>;

function assertSameTraining(got: Trained, want: Trained): void {
  for (let i = 0; i < STEPS; i++) {
    for (const name of LOSS_OUTPUTS) {
      const [a, b] = [got.losses[i]![name]!, want.losses[i]![name]!];
      assert.ok(Math.abs(a - b) <= 1e-5 * Math.abs(b) + 1e-12, `step ${i + 1} ${name}: ${a} vs ${b}`);
    }
  }
  const names = Object.keys(want.state);
  assert.deepEqual(Object.keys(got.state).sort(), names.sort());
  assert.ok(names.some((n) => n.endsWith('running_mean')) && names.some((n) => n.endsWith('running_var')), 'BN statistics are compared');
  for (const name of names) {
    const err = relativeError(got.state[name]!, want.state[name]!);
    assert.ok(err <= 1e-5, `${name}: relative error ${err}`);
  }
}

function specOf(config: ReturnType<typeof resolveConfig>): StepGraphSpec {
  return { arch: architecture(config.model, [1, 28, 28]), model: config.model, loss: config.loss, optim: config.optim, batch: BATCH };
}

/** The steps moved the state: the comparison is not between two untouched initial states. */
function assertMoved(spec: StepGraphSpec, trained: Trained): void {
  const init = initialState(buildStepGraph(spec), 3);
  assert.ok(relativeError(trained.state['enc.1.weight']!, init.get('enc.1.weight')!) > 1e-3, 'the steps moved the weights');
}

for (const preset of ['paper', 'algorithm1'] as const) {
  void test(`shared frozen forward = four applications over ${STEPS} Adam steps (${preset})`, async () => {
    // lr 1e-3 so that 3 steps move every parameter visibly; width/latent small to keep the test fast.
    const config = resolveConfig({ preset, model: { width: 8, latent: 16 }, optim: { lr: 1e-3 } });
    const spec = specOf(config);
    const separate = await train(spec, { shareFrozenForward: false }, config.optim.lr);
    const shared = await train(spec, { shareFrozenForward: true }, config.optim.lr);

    assert.ok(shared.nodes < separate.nodes, `shared graph has fewer nodes (${shared.nodes} vs ${separate.nodes})`);
    assert.ok(!shared.inputs.some((n) => n.startsWith('frozen.')), 'no frozen.* input is left');
    assertSameTraining(shared, separate);
    assertMoved(spec, shared);
  });
}

void test(`trainable Convs on stacked images = plain Convs over ${STEPS} Adam steps`, async () => {
  // Width 16: enc.1 and dec.1's input gradient read 16·4·4 = 256 values per output, deep enough to
  // stack. Stacking changes how the Gemm blocks its sums (gradients differ by ~1e-6 relative), and
  // with Adam's default ε = 1e-8 an element whose gradient is below that noise takes a full ±lr step
  // either way: ε = 1e-3 keeps each update a smooth function of its gradient, so the comparison
  // measures the graphs, not sign flips of noise.
  const config = resolveConfig({ preset: 'paper', model: { width: 16, latent: 16 }, optim: { lr: 1e-3, eps: 1e-3 } });
  const spec = specOf(config);
  const plain = await train(spec, { stackConvs: false }, config.optim.lr);
  const stacked = await train(spec, {}, config.optim.lr);
  assert.equal(plain.stacked, 0);
  assert.ok(stacked.stacked > 0, 'the default step graph stacks its deep Convs');
  assertSameTraining(stacked, plain);
  assertMoved(spec, stacked);
});
