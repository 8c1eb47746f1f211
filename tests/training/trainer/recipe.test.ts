// SPDX-License-Identifier: MIT
/**
 * The recipe options of the `projector` preset: learning-rate schedule, EMA of the weights, warm
 * start from an exported model, and how they resume and export.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { withTmpDir } from '../../support/tmp-dir.ts';
import { exportRun, quietProgress, tinyTrainConfig } from '../../support/tiny-run.ts';
import { ConfigError, RECIPE_OFF, resolveConfig, resumeConfig } from '../../../training/config.ts';
import type { ConfigOverrides, TrainConfig } from '../../../training/config.ts';
import { learningRate } from '../../../training/trainer/lr-schedule.ts';
import { Ema, emaDecay, withEmaApplied } from '../../../training/trainer/ema.ts';
import { train } from '../../../training/trainer/trainer.ts';
import { readCheckpoint } from '../../../training/trainer/checkpoint.ts';
import { createRunState } from '../../../training/trainer/run-state.ts';
import { parseTrainArgs } from '../../../training/trainer/cli-args.ts';
import { rectangles } from '../ign/synthetic.ts';

const quiet = quietProgress;

const withTmp = <T>(fn: (dir: string) => Promise<T>): Promise<T> => withTmpDir('ign-recipe-', fn);

function tinyConfig(out: string, extra: ConfigOverrides = {}): TrainConfig {
  return tinyTrainConfig(out, { batch: 8, steps: 12, ...extra });
}

void test('cosine schedule runs from lr to lr·final; constant stays at lr', () => {
  const cos = { lrSchedule: 'cosine', lrFinal: 0.1 } as const;
  assert.equal(learningRate(2e-4, cos, 1, 101), 2e-4);
  assert.ok(Math.abs(learningRate(2e-4, cos, 101, 101) - 2e-5) < 1e-12);
  assert.ok(Math.abs(learningRate(2e-4, cos, 51, 101) - 1.1e-4) < 1e-12, 'halfway is the mean of both ends');
  assert.equal(learningRate(2e-4, { lrSchedule: 'constant', lrFinal: 0 }, 77, 101), 2e-4);
});

void test('EMA follows ē ← d·ē + (1 − d)·θ with the warm-up decay', () => {
  const ema = Ema.create(0.9, ['w'], { w: Float32Array.of(0, 10) });
  ema.update({ w: Float32Array.of(1, 0) }, 1);
  const d1 = emaDecay(0.9, 1);
  assert.ok(Math.abs(d1 - 2 / 11) < 1e-12);
  assert.ok(Math.abs(ema.values().w![0]! - (1 - d1)) < 1e-6);
  assert.ok(Math.abs(ema.values().w![1]! - 10 * d1) < 1e-5);
  assert.equal(emaDecay(0.9, 1000), 0.9);
  assert.deepEqual(Object.keys(ema.prefixed()), ['ema.w']);
  assert.deepEqual(withEmaApplied({ w: Float32Array.of(1), 'ema.w': Float32Array.of(2), m: Float32Array.of(3) }), {
    w: Float32Array.of(2),
    m: Float32Array.of(3),
  });
});

void test('presets: paper and algorithm1 keep every recipe option off; projector turns them on', () => {
  assert.deepEqual(resolveConfig({ preset: 'paper' }).recipe, RECIPE_OFF);
  assert.deepEqual(resolveConfig({ preset: 'algorithm1' }).recipe, RECIPE_OFF);
  const p = resolveConfig({ preset: 'projector' });
  assert.deepEqual(p.loss, resolveConfig({ preset: 'paper' }).loss);
  assert.ok(p.recipe.sourceMix > 0 && p.recipe.sourceClip && p.recipe.ema > 0 && p.recipe.lrSchedule === 'cosine');
  assert.throws(() => resolveConfig({ recipe: { ema: 1 } }), /ema must be in \[0, 1\)/);
  assert.throws(() => resolveConfig({ recipe: { sourceMix: 1.5 } }), /sourceMix/);
  assert.throws(() => resolveConfig({ recipe: { sourceTight: -0.5 } }), /sourceTight must be in \[0, 1\]/);
  assert.throws(() => resolveConfig({ recipe: { sourceMix: 0.75, sourceBridge: 0.5 } }), /sourceMix \+ sourceBridge ≤ 1/);
  assert.throws(() => resolveConfig({ recipe: { sourceBridge: -0.1 } }), /sourceBridge must be ≥ 0/);
  assert.throws(() => resolveConfig({ recipe: { sourceBlurMax: 0.5 } }), /sourceBlurMax must be in \[0.6, 4\]/);
  assert.throws(() => resolveConfig({ recipe: { augment: 1.5 } }), /augment must be in \[0, 1\]/);
  assert.throws(() => resolveConfig({ recipe: { augment: Number.NaN } }), /augment must be in \[0, 1\]/);
  assert.throws(() => resolveConfig({ recipe: { augmentFamilies: [] } }), /augmentFamilies must be distinct names/);
  assert.throws(() => resolveConfig({ recipe: { augmentFamilies: ['rotate', 'rotate'] } }), /augmentFamilies/);
  assert.throws(() => resolveConfig(parseTrainArgs(['--augment-families', 'thicken,shear']).overrides), /augmentFamilies .*"shear"/);
  assert.deepEqual(
    resolveConfig(parseTrainArgs(['--augment', '0.2', '--augment-families', 'thin,thicken']).overrides).recipe.augmentFamilies,
    ['thin', 'thicken'],
  );
  assert.deepEqual(resolveConfig({}).recipe.augmentFamilies, ['rotate', 'thicken', 'thin']);
  assert.deepEqual(resolveConfig({}).recipe.sourceWeights, {});
  assert.deepEqual(resolveConfig(parseTrainArgs(['--source-weights', 'impulse=3, clean=0']).overrides).recipe.sourceWeights, {
    impulse: 3,
    clean: 0,
  });
  assert.throws(() => resolveConfig(parseTrainArgs(['--source-weights', 'shear=2']).overrides), /sourceWeights .*"shear"/);
  assert.throws(() => resolveConfig({ recipe: { sourceWeights: { impulse: 9 } } }), /integer weights in \[0, 8\]/);
  assert.throws(() => resolveConfig({ recipe: { sourceWeights: { impulse: 1.5 } } }), /sourceWeights/);
  const none = { gaussian: 0, impulse: 0, occlusion: 0, blur: 0, affine: 0, clean: 0 };
  assert.throws(() => resolveConfig({ recipe: { sourceWeights: none } }), /not all 0/);
  assert.throws(() => parseTrainArgs(['--source-weights', 'impulse']), /family=integer/);
  assert.throws(() => parseTrainArgs(['--source-weights', 'impulse=-1']), /family=integer/);
  assert.throws(() => parseTrainArgs(['--source-weights', 'impulse=2,impulse=3']), /names impulse twice/);
  assert.throws(() => resolveConfig(parseTrainArgs(['--source-weights', 'constructor=2']).overrides), /sourceWeights .*"constructor"/);
  assert.throws(() => resolveConfig({ noise: 'gaussian', recipe: { hermitian: true } }), /hermitian needs Fourier/);
  assert.throws(() => resolveConfig({ recipe: { covarianceWhite: 0.3 } }), /covarianceWhite needs covariance noise/);
  assert.throws(() => resolveConfig({ noise: 'covariance', recipe: { covarianceWhite: 1.5 } }), /covarianceWhite must be in \[0, 1\]/);
  assert.equal(resolveConfig({ noise: 'covariance', recipe: { covarianceWhite: 0.3 } }).recipe.covarianceWhite, 0.3);
  assert.throws(() => resolveConfig({ noise: 'covariance', recipe: { fourierMean: 0 } }), /fourierMean needs Fourier noise/);
  assert.throws(() => resolveConfig({ recipe: { fourierMean: 2 } }), /fourierMean must be in \[0, 1\]/);
  assert.equal(resolveConfig({ noise: 'fourier-mixture' }).recipe.mixtureComponents, 20);
  assert.equal(resolveConfig({ noise: 'fourier-mixture', recipe: { mixtureComponents: 12 } }).recipe.mixtureComponents, 12);
  assert.throws(() => resolveConfig({ recipe: { mixtureComponents: 12 } }), /mixtureComponents needs fourier-mixture noise/);
  assert.throws(
    () => resolveConfig({ noise: 'fourier-mixture', recipe: { mixtureComponents: 65 } }),
    /mixtureComponents must be an integer in \[1, 64\]/,
  );
  assert.throws(
    () => resolveConfig({ noise: 'fourier-mixture', recipe: { mixtureComponents: 2.5 } }),
    /mixtureComponents must be an integer/,
  );
  const { overrides } = parseTrainArgs([
    '--preset',
    'projector',
    '--source-mix',
    '0.25',
    '--ema',
    '0.99',
    '--lr-schedule',
    'cosine',
    '--hermitian',
    '--init-from',
    'models/x',
    '--source-tight',
    '0',
    '--source-clip',
    '--source-bridge',
    '0.25',
    '--source-blur-max',
    '3',
    '--covariance-white',
    '0.5',
    '--fourier-mean',
    '0.25',
    '--noise-components',
    '12',
    '--augment',
    '0.5',
  ]);
  assert.deepEqual(overrides.recipe, {
    sourceMix: 0.25,
    sourceTight: 0,
    sourceBridge: 0.25,
    sourceBlurMax: 3,
    augment: 0.5,
    sourceClip: true,
    ema: 0.99,
    lrSchedule: 'cosine',
    hermitian: true,
    covarianceWhite: 0.5,
    fourierMean: 0.25,
    mixtureComponents: 12,
    initFrom: 'models/x',
  });
});

void test("--no-source-clip turns the projector preset's clipping off; both flags together are refused", () => {
  assert.equal(resolveConfig(parseTrainArgs(['--preset', 'projector', '--no-source-clip']).overrides).recipe.sourceClip, false);
  assert.equal(resolveConfig(parseTrainArgs(['--preset', 'projector']).overrides).recipe.sourceClip, true);
  assert.equal(resolveConfig(parseTrainArgs(['--preset', 'paper', '--source-mix', '0.5']).overrides).recipe.sourceClip, false);
  assert.throws(() => parseTrainArgs(['--source-clip', '--no-source-clip']), /contradict each other/);
});

void test('a checkpoint written before the recipe options existed resumes with them off', () => {
  const saved = resolveConfig({ steps: 5 }) as Partial<TrainConfig>;
  delete saved.recipe;
  assert.deepEqual(resumeConfig(saved as TrainConfig, { steps: 9 }).recipe, RECIPE_OFF);
});

void test('with EMA, a mixture source and augmented rows, k steps + resume reproduce an uninterrupted run, EMA included', async () => {
  await withTmp(async (dir) => {
    const data = rectangles(40, 8);
    const recipe = { ema: 0.9, sourceMix: 0.5, augment: 0.5, lrSchedule: 'cosine' as const, lrFinal: 0.2 };
    const straight = await train(tinyConfig(join(dir, 'a'), { recipe }), { dataset: data, progressStream: quiet });
    await train(tinyConfig(join(dir, 'b'), { recipe }), { dataset: data, progressStream: quiet, maxSteps: 5 });
    const resumed = await train(resumeConfig(tinyConfig(join(dir, 'b'), { recipe }), {}), {
      dataset: data,
      progressStream: quiet,
      resume: join(dir, 'b', 'ckpt'),
    });
    assert.equal(resumed.step, 12);
    assert.deepEqual(
      resumed.history.map((h) => h.losses['loss.total']),
      straight.history.slice(5).map((h) => h.losses['loss.total']),
    );
    for (const [name, value] of Object.entries(straight.tensors)) assert.deepEqual(resumed.tensors[name], value, name);
    const ckpt = await readCheckpoint(join(dir, 'a', 'ckpt'));
    assert.ok(ckpt.tensors['ema.enc.0.weight'], 'the checkpoint keeps the EMA');
    // The result's tensors are the EMA f, not the live θ.
    assert.deepEqual(straight.tensors['enc.0.weight'], ckpt.tensors['ema.enc.0.weight']);
    assert.notDeepEqual(ckpt.tensors['enc.0.weight'], ckpt.tensors['ema.enc.0.weight']);
  });
});

void test('--augment changes what L_rec sees from the first step on; --augment 0 trains as before', async () => {
  await withTmp(async (dir) => {
    const data = rectangles(40, 8);
    const run = (name: string, augment: number): Promise<number> =>
      train(tinyConfig(join(dir, name), { steps: 1, recipe: { augment } }), { dataset: data, progressStream: quiet }).then(
        (r) => r.history[0]!.losses['loss.rec']!,
      );
    const plain = await run('plain', 0);
    assert.equal(await run('plain-again', 0), plain);
    assert.notEqual(await run('augmented', 1), plain);
  });
});

void test('--init-from starts θ and the BN buffers from an exported model; a mismatch is a ConfigError', async () => {
  await withTmp(async (dir) => {
    const data = rectangles(40, 8);
    const config = tinyConfig(join(dir, 'run'));
    const r = await train(config, { dataset: data, progressStream: quiet });
    const modelDir = join(dir, 'model');
    await exportRun(modelDir, config, r, 1, ['test']);
    const warm = await createRunState(tinyConfig(join(dir, 'warm'), { seed: 5, recipe: { initFrom: modelDir } }), { dataset: data });
    try {
      const state = warm.runner.state();
      for (const d of warm.stepGraph.decls) assert.deepEqual(state[d.name], r.tensors[d.name], d.name);
    } finally {
      await warm.runner.release();
    }
    await assert.rejects(
      createRunState(tinyConfig(join(dir, 'wide'), { model: { arch: 'tiny', norm: 'batch', width: 4 }, recipe: { initFrom: modelDir } }), {
        dataset: data,
      }),
      (err: unknown) => err instanceof ConfigError && /does not match this architecture/.test(err.message),
    );
    await assert.rejects(
      createRunState(tinyConfig(join(dir, 'none'), { recipe: { initFrom: join(dir, 'nope') } }), { dataset: data }),
      ConfigError,
    );
  });
});
