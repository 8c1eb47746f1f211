// SPDX-License-Identifier: MIT
/**
 * The trainer on a tiny f and synthetic rectangles: training lowers L_rec and the idempotence
 * residual; k steps + resume + (N − k) steps reproduce N uninterrupted steps exactly; the exported
 * ONNX model equals the training-time eval-mode forward graph.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { withTmpDir } from '../../support/tmp-dir.ts';
import { exportRun, quietProgress, tinyTrainConfig } from '../../support/tiny-run.ts';
import { Rng } from '../../../common/rng.ts';
import type { ConfigOverrides, TrainConfig } from '../../../training/config.ts';
import { train } from '../../../training/trainer/trainer.ts';
import { readCheckpoint } from '../../../training/trainer/checkpoint.ts';
import { openExportedModel } from '../../../training/eval/model-runner.ts';
import { ForwardRunner } from '../../../training/trainer/forward-runner.ts';
import { architecture } from '../../../training/ign/model.ts';
import { rectangles } from '../ign/synthetic.ts';
import { maxAbsDiff } from '../../support/max-abs-diff.ts';
import { computeCovarianceStats } from '../../../common/covariance-noise.ts';
import { computeFourierMixtureStats } from '../../../common/fourier-mixture-noise.ts';
import { computeFourierStats } from '../../../common/noise.ts';

const quiet = quietProgress;

const withTmp = <T>(fn: (dir: string) => Promise<T>): Promise<T> => withTmpDir('ign-trainer-', fn);

function tinyConfig(out: string, extra: ConfigOverrides = {}): TrainConfig {
  return tinyTrainConfig(out, { batch: 16, steps: 300, ...extra });
}

/** f(x) by the training-time forward graph with the run's final tensors (runner released after). */
async function trainingForward(
  config: TrainConfig,
  r: Awaited<ReturnType<typeof train>>,
  x: Float32Array,
  count: number,
  bnMode: 'eval' | 'train',
): Promise<Float32Array> {
  const forward = await ForwardRunner.create({
    arch: architecture(config.model, r.run.imageShape),
    model: config.model,
    batch: count,
    bnMode,
    applications: 1,
  });
  try {
    const [y] = await forward.run(x, r.tensors);
    return y!;
  } finally {
    await forward.release();
  }
}

/** Export a finished run to `modelDir` and open it as the server would. */
async function trainedExport(modelDir: string, config: TrainConfig, r: Awaited<ReturnType<typeof train>>, epochs: number) {
  await exportRun(modelDir, config, r, epochs, ['test']);
  return openExportedModel(modelDir);
}

const windowMean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

void test('a short run on synthetic rectangles lowers L_rec and the idempotence residual', async () => {
  await withTmp(async (dir) => {
    // lr 3e-3: at 1e-4 a few hundred steps barely move; the residual first rises while f leaves its
    // near-constant DCGAN init, then falls below its starting level.
    const r = await train(tinyConfig(dir, { sampleEvery: 100, optim: { lr: 3e-3 } }), {
      dataset: rectangles(64, 8),
      progressStream: quiet,
    });
    const firstAndLast = (key: string): [number, number] => {
      const values = r.history.map((h) => h.losses[key]!);
      return [windowMean(values.slice(0, 20)), windowMean(values.slice(-20))];
    };
    const rec = firstAndLast('loss.rec');
    const res = firstAndLast('metric.idem_residual');
    assert.ok(rec[1] < 0.1 * rec[0], `L_rec ${rec[0]} → ${rec[1]}`);
    assert.ok(res[1] < 0.85 * res[0], `idempotence residual ${res[0]} → ${res[1]}`);
    assert.ok(
      r.history.every((h) => h.losses['loss.tight']! <= 0),
      'L_tight stays ≤ 0',
    );
    const samples = await readdir(join(dir, 'samples'));
    assert.deepEqual(samples.sort(), ['step-0000100.png', 'step-0000200.png', 'step-0000300.png']);
    const log = (await readFile(join(dir, 'log.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number });
    assert.deepEqual(
      log.map((l) => l.step),
      [50, 100, 150, 200, 250, 300],
    );
  });
});

void test('k steps + resume + N − k steps equal N uninterrupted steps exactly', async () => {
  await withTmp(async (dir) => {
    const data = rectangles(40, 8, 3);
    const extra = { steps: 12, batch: 8, noise: 'fourier' as const };
    const straight = await train(tinyConfig(join(dir, 'a'), extra), { dataset: data, progressStream: quiet });
    const first = await train(tinyConfig(join(dir, 'b'), extra), { dataset: data, maxSteps: 5, progressStream: quiet });
    assert.equal(first.step, 5);
    const ckpt = await readCheckpoint(first.checkpointDir);
    assert.equal(ckpt.meta.step, 5);
    assert.ok(ckpt.noiseStats, 'Fourier statistics are kept in the checkpoint');
    const rest = await train(tinyConfig(join(dir, 'b'), extra), { dataset: data, resume: first.checkpointDir, progressStream: quiet });
    assert.equal(rest.step, 12);
    const resumed = [...first.history, ...rest.history];
    assert.deepEqual(
      resumed.map((h) => h.losses),
      straight.history.map((h) => h.losses),
    );
    assert.deepEqual(
      resumed.map((h) => h.epoch),
      straight.history.map((h) => h.epoch),
    );
    for (const [name, values] of Object.entries(straight.tensors)) assert.deepEqual(rest.tensors[name], values, name);
  });
});

void test('covariance noise: estimated once from the data, kept through resume, exported with the card', async () => {
  await withTmp(async (dir) => {
    const data = rectangles(40, 8, 3);
    const extra = { steps: 6, batch: 8, noise: 'covariance' as const };
    const straight = await train(tinyConfig(join(dir, 'a'), extra), { dataset: data, progressStream: quiet });
    const want = computeCovarianceStats(data.slice(0, 40), 40, data.shape);
    assert.deepEqual(straight.run.noiseStats, want, 'the first min(5,000, n) training images');
    const first = await train(tinyConfig(join(dir, 'b'), extra), { dataset: data, maxSteps: 3, progressStream: quiet });
    assert.deepEqual((await readCheckpoint(first.checkpointDir)).noiseStats, want);
    const rest = await train(tinyConfig(join(dir, 'b'), extra), { dataset: data, resume: first.checkpointDir, progressStream: quiet });
    assert.deepEqual(
      [...first.history, ...rest.history].map((h) => h.losses),
      straight.history.map((h) => h.losses),
    );
    const model = await trainedExport(join(dir, 'models', 'tiny-cov'), straight.run.config, straight, 1);
    assert.deepEqual(model.card.noise, { kind: 'covariance', statsFile: 'noise-stats.bin' });
    assert.deepEqual(model.noiseStats, want);
    await model.runner.release();
    await assert.rejects(
      train(tinyConfig(join(dir, 'big'), extra), { dataset: rectangles(8, 33), progressStream: quiet }),
      (err: Error) => err.name === 'ConfigError' && /--noise covariance: .*at most 1024 values; \[1, 33, 33\] has 1089/.test(err.message),
    );
  });
});

void test('fourier-mixture noise: k-means groups estimated once, kept in the checkpoint, exported; too few images is a ConfigError', async () => {
  await withTmp(async (dir) => {
    const data = rectangles(40, 8, 3);
    const extra = { steps: 3, batch: 8, noise: 'fourier-mixture' as const, recipe: { mixtureComponents: 3 } };
    const run = await train(tinyConfig(join(dir, 'a'), extra), { dataset: data, progressStream: quiet });
    const want = computeFourierMixtureStats(data.slice(0, 40), 40, data.shape, 3, computeFourierStats);
    assert.deepEqual(run.run.noiseStats, want, 'the first min(5,000, n) training images');
    assert.deepEqual((await readCheckpoint(run.checkpointDir)).noiseStats, want);
    const model = await trainedExport(join(dir, 'models', 'tiny-mix'), run.run.config, run, 1);
    assert.deepEqual(model.card.noise, { kind: 'fourier-mixture', statsFile: 'noise-stats.bin' });
    assert.deepEqual(model.noiseStats, want);
    await model.runner.release();
    await assert.rejects(
      train(tinyConfig(join(dir, 'few'), { ...extra, recipe: { mixtureComponents: 8 } }), {
        dataset: rectangles(12, 8),
        progressStream: quiet,
      }),
      (err: Error) => err.name === 'ConfigError' && /8 components need at least 16 training images, the data has 12/.test(err.message),
    );
  });
});

void test('the exported model equals the eval-mode forward graph (dynamic batch, weights baked in)', async () => {
  await withTmp(async (dir) => {
    const config = tinyConfig(join(dir, 'run'), { steps: 30, noise: 'fourier' });
    const r = await train(config, { dataset: rectangles(64, 8), progressStream: quiet });
    const model = await trainedExport(join(dir, 'models', 'tiny-rect'), config, r, 7.5);
    assert.equal(model.card.name, 'tiny-rect');
    assert.deepEqual(model.card.normalization, { kind: 'batch', mode: 'eval' });
    assert.ok(model.noiseStats, 'noise statistics are exported beside the model');
    const count = 5;
    const x = new Rng(5).fillUniform(new Float32Array(count * 64), -1, 1);
    const [exported] = await model.runner.iterate(x, 1);
    const reference = await trainingForward(config, r, x, count, 'eval');
    const worst = maxAbsDiff(reference, exported!);
    assert.ok(worst <= 1e-5, `exported vs training-time forward: max |Δ| = ${worst}`);
    const trainMode = await trainingForward(config, r, x, count, 'train');
    assert.ok(
      trainMode.some((v, i) => Math.abs(v - reference[i]!) > 1e-4),
      'train-mode BN differs from eval mode (the gap the card documents)',
    );
    await model.runner.release();
  });
});

void test('a GroupNorm model exports with a dynamic batch and serves any batch size', async () => {
  await withTmp(async (dir) => {
    const config = tinyConfig(join(dir, 'run'), { steps: 3, model: { arch: 'tiny', norm: 'group', groups: 2, width: 8 } });
    const r = await train(config, { dataset: rectangles(32, 8), progressStream: quiet });
    const model = await trainedExport(join(dir, 'models', 'tiny-gn'), config, r, 1);
    assert.deepEqual(model.card.normalization, { kind: 'group', mode: 'eval' });
    for (const count of [1, 3]) {
      const x = new Rng(count).fillUniform(new Float32Array(count * 64), -1, 1);
      const [y] = await model.runner.iterate(x, 1);
      assert.equal(y!.length, count * 64);
      const worst = maxAbsDiff(await trainingForward(config, r, x, count, 'eval'), y!);
      assert.ok(worst <= 1e-5, `batch ${count}: exported vs training-time forward max |Δ| = ${worst}`);
    }
    await model.runner.release();
  });
});
