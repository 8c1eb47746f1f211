// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../../training/config.ts';
import type { ModelConfig } from '../../../training/config.ts';
import { calibrateBatchNorm } from '../../../training/trainer/bn-calibration.ts';
import { recalibrateExport } from '../../../training/trainer/recalibrate-export.ts';
import { exportModel } from '../../../training/trainer/export.ts';
import { readFloatInitializers } from '../../../training/onnx/serialize.ts';
import { loadModelCard } from '../../../common/model-card.ts';
import { ModelRunner, openExportedModel } from '../../../training/eval/model-runner.ts';
import { Rng } from '../../../common/rng.ts';
import { sampleNoise } from '../../../common/noise.ts';
import { maxAbsDiff } from '../../support/max-abs-diff.ts';
import { applyOnce, plantedTensors } from '../../support/planted-f.ts';

const SHAPE: [number, number, number] = [1, 28, 28];
const MODEL: ModelConfig = resolveConfig({ model: { arch: 'mnist', width: 4, latent: 8 } }).model;
const BATCH = 8;
const SIZE = 28 * 28;

/** Random weights of the small MNIST f, and its running statistics set to values far from any batch's. */
const randomTensors = (seed: number): Record<string, Float32Array> => plantedTensors(MODEL, SHAPE, seed);

const images = (seed: number): Float32Array => new Rng(seed).fillUniform(new Float32Array(BATCH * SIZE), -1, 1);

const forward = (bnMode: 'eval' | 'train', x: Float32Array, tensors: Record<string, Float32Array>) =>
  applyOnce(MODEL, SHAPE, bnMode, x, tensors);

void test('calibrated on one batch, eval-mode f equals train-mode f on that batch (every BN layer)', async () => {
  const tensors = randomTensors(1);
  const x = images(2);
  const { tensors: calibrated, buffers } = await calibrateBatchNorm(MODEL, SHAPE, tensors, {
    batch: BATCH,
    batches: 1,
    nextBatch: () => x,
  });
  assert.ok(buffers.length >= 4 && buffers.every((b) => b.includes('.running_')), `buffers: ${buffers.join(', ')}`);
  const trainMode = await forward('train', x, tensors);
  const before = maxAbsDiff(await forward('eval', x, tensors), trainMode);
  const after = maxAbsDiff(await forward('eval', x, calibrated), trainMode);
  assert.ok(before > 0.1, `the planted statistics should make eval differ from train mode (max |Δ| ${before})`);
  // Only the unbiased variance (factor M/(M−1), M ≥ 8·7·7) separates the two.
  assert.ok(after < 2e-3, `eval with calibrated statistics vs train mode: max |Δ| ${after}`);
  for (const [name, value] of Object.entries(tensors)) {
    if (!buffers.includes(name)) assert.deepEqual(calibrated[name], value, `${name} must not change`);
  }
});

void test('the statistics are the mean over batches and ignore the old running statistics', async () => {
  const a = images(3);
  const b = images(4);
  const run = async (tensors: Record<string, Float32Array>, xs: Float32Array[]) =>
    (await calibrateBatchNorm(MODEL, SHAPE, tensors, { batch: BATCH, batches: xs.length, nextBatch: (i) => xs[i]! })).tensors;
  const both = await run(randomTensors(5), [a, b]);
  const onlyA = await run(randomTensors(5), [a]);
  const onlyB = await run(randomTensors(5), [b]);
  const replanted = randomTensors(5);
  for (const name of Object.keys(replanted)) if (name.includes('.running_')) replanted[name]!.fill(0.25);
  const fromOther = await run(replanted, [a, b]);
  for (const name of Object.keys(both).filter((n) => n.includes('.running_'))) {
    const mean = onlyA[name]!.map((v, i) => (v + onlyB[name]![i]!) / 2);
    assert.ok(maxAbsDiff(both[name]!, mean) <= 1e-5 * (1 + Math.max(...mean.map(Math.abs))), `${name}: not the mean of the batches`);
    assert.deepEqual(fromOther[name], both[name], `${name}: depends on the old running statistics`);
  }
});

void test('calibration refuses a GroupNorm f and a batch of the wrong size', async () => {
  const group = { ...MODEL, norm: 'group' as const, groups: 2 };
  await assert.rejects(calibrateBatchNorm(group, SHAPE, {}, { batch: BATCH, batches: 1, nextBatch: () => images(0) }), /only BatchNorm/);
  await assert.rejects(
    calibrateBatchNorm(MODEL, SHAPE, randomTensors(0), { batch: BATCH, batches: 1, nextBatch: () => new Float32Array(5) }),
    /calibration batch 0 has 5 values/,
  );
});

void test('recalibrateExport rewrites the model and card of an exported f, leaving the original folder alone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ign-calibrate-'));
  try {
    const config = resolveConfig({ model: { arch: 'mnist', width: 4, latent: 8 }, noise: 'gaussian', data: { kind: 'mnist' } });
    const tensors = randomTensors(6);
    const source = join(dir, 'source');
    await exportModel(source, {
      config,
      imageShape: SHAPE,
      tensors,
      noiseStats: null,
      steps: 1,
      epochs: 0,
      wallTimeSeconds: 1,
      commands: ['npm run train -- …'],
      dataset: 'mnist/train',
      evaluation: { planted: true },
    });
    const sourceBytes = await readFile(join(source, 'model.onnx'));
    const out = join(dir, 'calibrated');
    await recalibrateExport(source, { out, batches: 2, batch: BATCH, seed: 3, command: 'npm run calibrate-bn -- source' });
    const { card } = await loadModelCard(out);
    assert.deepEqual(card.normalization.calibration, { images: 2 * BATCH, seed: 3, source: 'mnist/train: clean + mixture samples' });
    assert.deepEqual(card.training.commands, ['npm run train -- …', 'npm run calibrate-bn -- source']);
    assert.equal(card.evaluation, null, 'the old evaluation belongs to the old statistics');
    assert.deepEqual(await readFile(join(source, 'model.onnx')), sourceBytes, 'the source folder is untouched');
    const after = readFloatInitializers(await readFile(join(out, 'model.onnx')));
    const mean = Object.keys(after).find((n) => n.endsWith('.running_mean'))!;
    assert.ok(
      after[mean]!.every((v) => v !== -3),
      'running statistics were recalibrated',
    );
    const weight = Object.keys(after).find((n) => n.endsWith('.weight'))!;
    assert.deepEqual(after[weight], tensors[weight]);
    // Same seed → same statistics (in place this time).
    await recalibrateExport(out, { batches: 2, batch: BATCH, seed: 3, command: 'again' });
    assert.deepEqual(readFloatInitializers(await readFile(join(out, 'model.onnx')))[mean], after[mean]);
    // The card describes the latest calibration once: a recalibration replaces the earlier sentence.
    const described = (await loadModelCard(out)).card.description;
    assert.equal(described.split('BatchNorm statistics recalibrated on').length, 2, described);
    assert.ok(described.endsWith('BatchNorm statistics recalibrated on 16 images (mnist/train: clean + mixture samples).'), described);
    // Other sources give other statistics and say so in the card; an unknown one is refused.
    const noisy = join(dir, 'noise');
    await recalibrateExport(source, { out: noisy, source: 'noise', batches: 2, batch: BATCH, seed: 3, command: 'noise' });
    assert.equal((await loadModelCard(noisy)).card.normalization.calibration?.source, 'mnist/train: noise z');
    assert.notDeepEqual(readFloatInitializers(await readFile(join(noisy, 'model.onnx')))[mean], after[mean]);
    await assert.rejects(
      recalibrateExport(source, { out: noisy, source: 'data' as 'clean', batches: 2, batch: BATCH, command: 'x' }),
      /--source must be one of serving, clean, noise, samples/,
    );
    await assert.rejects(
      recalibrateExport(source, { out: noisy, generator: true, source: 'serving', batches: 2, batch: BATCH, command: 'x' }),
      /--generator calibrates on the noise z only/,
    );
    // A clean share other than one half: other statistics, recorded in the card; out of range or on
    // another source, refused.
    const cleaner = join(dir, 'cleaner');
    await recalibrateExport(source, { out: cleaner, cleanShare: 1, batches: 2, batch: BATCH, seed: 3, command: 'cleaner' });
    assert.equal(
      (await loadModelCard(cleaner)).card.normalization.calibration?.source,
      'mnist/train: clean + mixture samples (clean share 1)',
    );
    assert.notDeepEqual(readFloatInitializers(await readFile(join(cleaner, 'model.onnx')))[mean], after[mean]);
    await assert.rejects(
      recalibrateExport(source, { out: cleaner, cleanShare: 1.5, batches: 2, batch: BATCH, command: 'x' }),
      /--clean-share must be in \[0, 1\]/,
    );
    await assert.rejects(
      recalibrateExport(source, { out: cleaner, source: 'clean', cleanShare: 0.75, batches: 2, batch: BATCH, command: 'x' }),
      /--clean-share applies to the serving calibration only/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('--generator writes generator.onnx beside an unchanged f; generate() runs it first, iterate() never', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ign-generator-'));
  try {
    const config = resolveConfig({ model: { arch: 'mnist', width: 4, latent: 8 }, noise: 'gaussian', data: { kind: 'mnist' } });
    const source = join(dir, 'source');
    const common = { config, imageShape: SHAPE, noiseStats: null, steps: 1, epochs: 0, wallTimeSeconds: 1, dataset: 'mnist/train' };
    await exportModel(source, { ...common, tensors: randomTensors(7), commands: ['train'] });
    const out = join(dir, 'with-generator');
    await recalibrateExport(source, { out, generator: true, batches: 2, batch: BATCH, seed: 1, command: 'gen' });
    assert.deepEqual(await readFile(join(out, 'model.onnx')), await readFile(join(source, 'model.onnx')), 'f is copied unchanged');
    const { card, generatorPath } = await loadModelCard(out);
    assert.equal(generatorPath, join(out, 'generator.onnx'));
    assert.deepEqual(card.generation, {
      file: 'generator.onnx',
      calibration: { images: 2 * BATCH, seed: 1, source: 'mnist/train: noise z' },
    });
    assert.equal(card.normalization.calibration, undefined, "f's own statistics are untouched");
    // Batches composed as training's z batches (a share of corrupted training images): other
    // statistics, said in the card; a share of 0 is the noise-only file; a share on another source
    // or out of range is refused.
    const mixed = join(dir, 'mixed');
    await recalibrateExport(source, { out: mixed, generator: true, mixture: 0.5, batches: 2, batch: BATCH, seed: 1, command: 'gen' });
    assert.equal(
      (await loadModelCard(mixed)).card.generation?.calibration.source,
      'mnist/train: noise z with a share 0.5 of mixture samples, as in training',
    );
    await recalibrateExport(mixed, { generator: true, mixture: 0.25, batches: 2, batch: BATCH, seed: 1, command: 'gen again' });
    const described = (await loadModelCard(mixed)).card.description;
    assert.equal(described.split('Generation (the first application to noise)').length, 2, described);
    assert.ok(described.endsWith('from 16 noise z, a share 0.25 of them corrupted training images as in training.'), described);
    const runningMean = (w: Record<string, Float32Array>) => w[Object.keys(w).find((n) => n.endsWith('.running_mean'))!]!;
    const noiseOnly = readFloatInitializers(await readFile(join(out, 'generator.onnx')));
    assert.notDeepEqual(runningMean(readFloatInitializers(await readFile(join(mixed, 'generator.onnx')))), runningMean(noiseOnly));
    const zero = join(dir, 'zero');
    await recalibrateExport(source, { out: zero, generator: true, mixture: 0, batches: 2, batch: BATCH, seed: 1, command: 'gen' });
    assert.deepEqual(await readFile(join(zero, 'generator.onnx')), await readFile(join(out, 'generator.onnx')));
    await assert.rejects(
      recalibrateExport(source, { out: zero, mixture: 0.5, batches: 2, batch: BATCH, command: 'x' }),
      /--mixture applies to the noise calibration \(--generator\) and to --source samples only/,
    );
    await assert.rejects(
      recalibrateExport(source, { out: zero, generator: true, mixture: 2, batches: 2, batch: BATCH, command: 'x' }),
      /--mixture must be in \[0, 1\], got 2/,
    );
    const generatorWeights = readFloatInitializers(await readFile(join(out, 'generator.onnx')));
    const weight = Object.keys(generatorWeights).find((n) => n.endsWith('.weight'))!;
    assert.deepEqual(generatorWeights[weight], readFloatInitializers(await readFile(join(out, 'model.onnx')))[weight]);

    const { runner } = await openExportedModel(out, { threads: 1 });
    const alone = await ModelRunner.open(join(out, 'generator.onnx'), SHAPE, {}, { threads: 1 });
    try {
      const z = images(8);
      const [g1, g2] = (await runner.generate(z, 2)) as [Float32Array, Float32Array];
      const [f1] = (await runner.iterate(z, 1)) as [Float32Array];
      assert.deepEqual(g1, await alone.apply(z), 'the first application of generate() is the generation file');
      assert.ok(maxAbsDiff(g1, f1) > 1e-3, 'and it differs from f');
      assert.deepEqual(g2, await runner.apply(g1), 'the second is f');
    } finally {
      await runner.release();
      await alone.release();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test("--source samples: f's statistics are those of its own samples f¹(z), from the generation file when there is one", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ign-samples-'));
  try {
    const config = resolveConfig({ model: { arch: 'mnist', width: 4, latent: 8 }, noise: 'gaussian', data: { kind: 'mnist' } });
    const common = { config, imageShape: SHAPE, noiseStats: null, steps: 1, epochs: 0, wallTimeSeconds: 1, dataset: 'mnist/train' };
    const source = join(dir, 'source');
    const tensors = randomTensors(9);
    await exportModel(source, { ...common, tensors, commands: ['train'] });
    const withGenerator = join(dir, 'with-generator');
    await recalibrateExport(source, { out: withGenerator, generator: true, batches: 1, batch: BATCH, seed: 4, command: 'gen' });
    const samples = join(dir, 'samples');
    await recalibrateExport(withGenerator, { out: samples, source: 'samples', batches: 1, batch: BATCH, seed: 2, command: 'samples' });
    const { card } = await loadModelCard(samples);
    assert.equal(card.normalization.calibration?.source, "mnist/train: f's samples f(z) of noise z");
    assert.ok(card.description.endsWith("BatchNorm statistics recalibrated on 8 images (mnist/train: f's samples f(z) of noise z)."));
    assert.deepEqual(await readFile(join(samples, 'generator.onnx')), await readFile(join(withGenerator, 'generator.onnx')));

    // The one calibration batch is f¹(z) of the generation file on the noise the noise calibration
    // would draw with that seed; with its statistics, eval-mode f reproduces train-mode f on it.
    const z = sampleNoise(card.noise, null, SHAPE, new Rng(2).fork('calibration-0'), BATCH);
    const { runner } = await openExportedModel(withGenerator, { threads: 1 });
    const [f1] = (await runner.generate(z, 1)) as [Float32Array];
    await runner.release();
    const calibrated = readFloatInitializers(await readFile(join(samples, 'model.onnx')));
    const trainMode = await forward('train', f1, tensors);
    assert.ok(maxAbsDiff(await forward('eval', f1, tensors), trainMode) > 0.1);
    assert.ok(maxAbsDiff(await forward('eval', f1, calibrated), trainMode) < 2e-3);

    // Without a generation file the samples are f's own first application: other statistics. A
    // mixture share is said in the card and changes them; a clean share is refused.
    const runningMean = (w: Record<string, Float32Array>) => w[Object.keys(w).find((n) => n.endsWith('.running_mean'))!]!;
    const plain = join(dir, 'plain');
    await recalibrateExport(source, { out: plain, source: 'samples', batches: 1, batch: BATCH, seed: 2, command: 'plain' });
    assert.notDeepEqual(runningMean(readFloatInitializers(await readFile(join(plain, 'model.onnx')))), runningMean(calibrated));
    const mixed = join(dir, 'mixed');
    await recalibrateExport(withGenerator, {
      out: mixed,
      source: 'samples',
      mixture: 0.5,
      batches: 1,
      batch: BATCH,
      seed: 2,
      command: 'mixed',
    });
    assert.equal(
      (await loadModelCard(mixed)).card.normalization.calibration?.source,
      "mnist/train: f's samples f(z) of noise z with a share 0.5 of mixture samples, as in training",
    );
    assert.notDeepEqual(runningMean(readFloatInitializers(await readFile(join(mixed, 'model.onnx')))), runningMean(calibrated));
    await assert.rejects(
      recalibrateExport(withGenerator, { out: mixed, source: 'samples', cleanShare: 0.5, batches: 1, batch: BATCH, command: 'x' }),
      /--clean-share applies to the serving calibration only/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
