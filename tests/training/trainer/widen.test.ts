// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, resolveConfig } from '../../../training/config.ts';
import type { ModelConfig } from '../../../training/config.ts';
import { architecture } from '../../../training/ign/model.ts';
import { buildForwardGraph } from '../../../training/ign/forward-graph.ts';
import type { BnMode } from '../../../training/ign/forward-graph.ts';
import { numel } from '../../../training/onnx/ir.ts';
import { ForwardRunner } from '../../../training/trainer/forward-runner.ts';
import { createRunState } from '../../../training/trainer/run-state.ts';
import { train } from '../../../training/trainer/trainer.ts';
import { storedWidths, widenWeights } from '../../../training/trainer/widen.ts';
import { Rng } from '../../../common/rng.ts';
import { withTmpDir } from '../../support/tmp-dir.ts';
import { exportRun, quietProgress, tinyTrainConfig } from '../../support/tiny-run.ts';
import { rectangles } from '../ign/synthetic.ts';

const SHAPE = [1, 28, 28] as const;
const BATCH = 6;
const model = (width: number, latent: number, norm: ModelConfig['norm'] = 'batch'): ModelConfig => ({
  arch: 'mnist',
  norm,
  groups: 2,
  latent,
  width,
});

/** Random θ and BN statistics (positive variances, γ away from 0) for `m`: a trained-looking f. */
function randomWeights(m: ModelConfig, seed: number): Record<string, Float32Array> {
  const rng = new Rng(seed);
  const { decls } = buildForwardGraph({ arch: architecture(m, SHAPE), model: m, batch: 1, bnMode: 'eval', applications: 1 });
  const out: Record<string, Float32Array> = {};
  for (const d of decls) {
    const v = new Float32Array(numel(d.shape));
    if (d.name.endsWith('running_var')) rng.fillUniform(v, 0.5, 2);
    else if (d.name.endsWith('norm.weight')) rng.fillUniform(v, 0.5, 1.5);
    else rng.fillNormal(v, 0, d.name.endsWith('.weight') ? 0.2 : 0.3);
    out[d.name] = v;
  }
  return out;
}

async function forward(
  m: ModelConfig,
  weights: Readonly<Record<string, Float32Array>>,
  x: Float32Array,
  bnMode: BnMode,
): Promise<Float32Array> {
  const runner = await ForwardRunner.create({ arch: architecture(m, SHAPE), model: m, batch: BATCH, bnMode, applications: 2 });
  try {
    return (await runner.run(x, weights))[1]!;
  } finally {
    await runner.release();
  }
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  assert.ok(worst <= 1e-5 * Math.max(scale, 1), `${what}: worst difference ${worst}`);
}

void test('widening width 4 → 7 and latent 6 → 9 keeps f² in eval- and train-mode BatchNorm', async () => {
  const narrow = model(4, 6);
  const wide = model(7, 9);
  const weights = randomWeights(narrow, 1);
  const widened = Object.fromEntries(widenWeights(weights, architecture(wide, SHAPE), { groupNorm: false, seed: 3 }));
  const x = new Rng(2).fillUniform(new Float32Array(BATCH * numel([...SHAPE])), -1, 1);
  for (const mode of ['eval', 'train'] as const) {
    const before = await forward(narrow, weights, x, mode);
    assert.ok(
      before.some((v) => Math.abs(v) > 0.05),
      'the test f must not be trivial',
    );
    assertClose(await forward(wide, widened, x, mode), before, `${mode}-mode f²`);
  }
});

void test('the copies of a channel carry unequal shares of its outgoing weights, summing to the original', () => {
  const weights = randomWeights(model(4, 6), 4);
  const widened = widenWeights(weights, architecture(model(7, 6), SHAPE), { groupNorm: false, seed: 5 });
  // enc.1 (conv, [out, in, 4, 4]) reads enc.0's 7 channels; its input channels 4..6 copy some of 0..3.
  const w = widened.get('enc.1.weight')!;
  const old = weights['enc.1.weight']!;
  const tap = (arr: Float32Array, i: number): number => arr[i * 16]!; // output 0, input i, first tap
  const sums = [0, 0, 0, 0];
  const ratios: number[] = [];
  // Reconstruct: for each old input channel k, Σ over new inputs with that source equals the old weight at every tap.
  const enc0 = widened.get('enc.0.weight')!;
  const oldEnc0 = weights['enc.0.weight']!;
  const sourceOf = (i: number): number =>
    [0, 1, 2, 3].find((k) => enc0.subarray(i * 16, i * 16 + 16).every((v, t) => v === oldEnc0[k * 16 + t]))!;
  for (let i = 0; i < 7; i++) {
    const k = sourceOf(i);
    sums[k] = sums[k]! + tap(w, i);
    ratios.push(tap(w, i) / tap(old, k));
  }
  for (let k = 0; k < 4; k++) assert.ok(Math.abs(sums[k]! - tap(old, k)) < 1e-6, `shares of channel ${k} sum to 1`);
  const copied = ratios.filter((r) => r < 0.999);
  assert.ok(copied.length >= 4, 'channels with copies carry a share below 1');
  assert.ok(new Set(copied.map((r) => r.toFixed(4))).size === copied.length, 'shares differ, so the copies can diverge');
});

void test('widening refuses to narrow, to change the output, and to touch GroupNorm layers', () => {
  const weights = randomWeights(model(6, 8), 6);
  assert.throws(
    () => widenWeights(weights, architecture(model(4, 8), SHAPE), { groupNorm: false, seed: 0 }),
    /enc\.0 has 6 channels.*cannot narrow/,
  );
  assert.throws(() => widenWeights(weights, architecture(model(8, 8), [3, 28, 28]), { groupNorm: false, seed: 0 }), ConfigError);
  assert.throws(() => widenWeights(weights, architecture(model(8, 8, 'group'), SHAPE), { groupNorm: true, seed: 0 }), /GroupNorm/);
  assert.deepEqual(storedWidths(weights, architecture(model(8, 8), SHAPE)), [6, 12, 8, 12, 6, 1]);
  assert.equal(storedWidths({ 'enc.0.weight': new Float32Array(7) }, architecture(model(8, 8), SHAPE)), null);
});

void test('--init-from a narrower exported f widens it: the run starts from the same function', async () => {
  await withTmpDir('ign-widen-', async (dir) => {
    const data = rectangles(40, 8);
    const config = tinyTrainConfig(join(dir, 'run'), { steps: 3, batch: 4 });
    const r = await train(config, { dataset: data, progressStream: quietProgress });
    const modelDir = join(dir, 'model');
    await exportRun(modelDir, config, r, 1, ['test']);
    const wideConfig = tinyTrainConfig(join(dir, 'wide'), {
      steps: 3,
      batch: 4,
      model: { arch: 'tiny', norm: 'batch', width: 13 },
      recipe: { initFrom: modelDir },
    });
    const warm = await createRunState(wideConfig, { dataset: data });
    try {
      assert.deepEqual(warm.widenedFrom, [8, 1]);
      const x = new Rng(9).fillUniform(new Float32Array(4 * 64), -1, 1);
      const run = async (m: ModelConfig, w: Readonly<Record<string, Float32Array>>): Promise<Float32Array> => {
        const runner = await ForwardRunner.create({
          arch: architecture(m, warm.imageShape),
          model: m,
          batch: 4,
          bnMode: 'eval',
          applications: 1,
        });
        try {
          return (await runner.run(x, w))[0]!;
        } finally {
          await runner.release();
        }
      };
      assertClose(await run(wideConfig.model, warm.runner.state()), await run(config.model, r.tensors), 'widened f');
    } finally {
      await warm.runner.release();
    }
    await train({ ...wideConfig, steps: 1 }, { dataset: data, progressStream: quietProgress });
    const records = (await readFile(join(dir, 'wide', 'log.jsonl'), 'utf8')).split('\n').filter((l) => l.startsWith('{'));
    assert.deepEqual(JSON.parse(records[0]!), { event: 'widened', from: modelDir, layers: [{ layer: 'enc.0', from: 8, to: 13 }] });
    const narrower = resolveConfig({ ...wideConfig, model: { arch: 'tiny', norm: 'batch', groups: 1, latent: 8, width: 4 } });
    await assert.rejects(
      createRunState(narrower, { dataset: data }),
      (err: unknown) => err instanceof ConfigError && /cannot narrow/.test(err.message),
    );
  });
});
