// SPDX-License-Identifier: MIT
// Blended BatchNorm through calibration and export: train and eval forms agree once calibrated, the
// card records the share, re-calibration keeps it, and the exported f stays exact per image.
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
import { loadModelCard } from '../../../common/model-card.ts';
import { openExportedModel } from '../../../training/eval/model-runner.ts';
import { Rng } from '../../../common/rng.ts';
import { maxAbsDiff } from '../../support/max-abs-diff.ts';
import { applyOnce, plantedTensors } from '../../support/planted-f.ts';

const SHAPE: [number, number, number] = [1, 28, 28];
const BLENDED: ModelConfig = resolveConfig({ model: { arch: 'mnist', width: 4, latent: 8, bnBlend: 0.4 } }).model;
const BATCH = 8;
const SIZE = 28 * 28;

const randomTensors = (seed: number): Record<string, Float32Array> => plantedTensors(BLENDED, SHAPE, seed);

const images = (seed: number, n = BATCH): Float32Array => new Rng(seed).fillUniform(new Float32Array(n * SIZE), -1, 1);

const forward = (model: ModelConfig, bnMode: 'eval' | 'train', x: Float32Array, tensors: Record<string, Float32Array>) =>
  applyOnce(model, SHAPE, bnMode, x, tensors);

void test('blended f: calibrated on one batch, the eval form equals the train form on that batch; plain BN reads differently', async () => {
  const tensors = randomTensors(1);
  const x = images(2);
  const { tensors: calibrated } = await calibrateBatchNorm(BLENDED, SHAPE, tensors, { batch: BATCH, batches: 1, nextBatch: () => x });
  const trainMode = await forward(BLENDED, 'train', x, tensors);
  assert.ok(maxAbsDiff(await forward(BLENDED, 'eval', x, tensors), trainMode) > 0.1, 'planted statistics differ');
  assert.ok(maxAbsDiff(await forward(BLENDED, 'eval', x, calibrated), trainMode) < 2e-3, 'calibrated eval = train form');
  const plain = { ...BLENDED, bnBlend: 0 };
  assert.ok(maxAbsDiff(await forward(plain, 'eval', x, calibrated), trainMode) > 1e-2, 'the blend changes f');
});

void test('--bn-blend: recorded in the card per file, kept by a later calibration, removed by 0; the exported f is exact per image', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ign-blend-'));
  try {
    const config = resolveConfig({ model: { arch: 'mnist', width: 4, latent: 8 }, noise: 'gaussian', data: { kind: 'mnist' } });
    const source = join(dir, 'source');
    const common = { config, imageShape: SHAPE, noiseStats: null, steps: 1, epochs: 0, wallTimeSeconds: 1, dataset: 'mnist/train' };
    await exportModel(source, { ...common, tensors: randomTensors(3), commands: ['train'] });
    assert.equal((await loadModelCard(source)).card.normalization.blend, undefined);
    const out = join(dir, 'blended');
    await recalibrateExport(source, { out, blend: 0.4, batches: 2, batch: BATCH, seed: 1, command: 'blend' });
    const { card } = await loadModelCard(out);
    assert.equal(card.normalization.blend, 0.4);
    assert.match(card.description, /0\.4 of its own statistics/);
    const onnx = (await readFile(join(out, 'model.onnx'))).toString('latin1');
    assert.ok(onnx.includes('ReduceMean'), 'the graph computes per-image statistics');
    // The generation file has its own share: plain unless asked (its statistics come from the noise).
    await recalibrateExport(out, { generator: true, batches: 2, batch: BATCH, seed: 1, command: 'gen' });
    let after = (await loadModelCard(out)).card;
    assert.equal(after.normalization.blend, 0.4, 'f keeps its blend');
    assert.equal(after.generation?.blend, undefined);
    assert.ok(!(await readFile(join(out, 'generator.onnx'))).toString('latin1').includes('ReduceMean'));
    await recalibrateExport(out, { generator: true, blend: 0.2, batches: 2, batch: BATCH, seed: 1, command: 'gen' });
    after = (await loadModelCard(out)).card;
    assert.equal(after.generation?.blend, 0.2);
    assert.equal(after.normalization.blend, 0.4);
    assert.ok((await readFile(join(out, 'generator.onnx'))).toString('latin1').includes('ReduceMean'));

    const { runner } = await openExportedModel(out, { threads: 1 });
    try {
      const x = images(4, 3);
      const all = await runner.apply(x);
      const one = await runner.apply(x.slice(SIZE, 2 * SIZE));
      assert.ok(maxAbsDiff(one, all.slice(SIZE, 2 * SIZE)) < 1e-6, 'an image projects the same alone or in a batch');
    } finally {
      await runner.release();
    }

    await recalibrateExport(out, { blend: 0, batches: 2, batch: BATCH, seed: 1, command: 'plain' });
    assert.equal((await loadModelCard(out)).card.normalization.blend, undefined);
    assert.ok(!(await readFile(join(out, 'model.onnx'))).toString('latin1').includes('ReduceMean'));
    await assert.rejects(recalibrateExport(out, { blend: 1.5, batches: 2, batch: BATCH, command: 'x' }), /--bn-blend must be in \[0, 1\]/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('an f trained blended exports its share; --bn-blend 0 is recorded as 0 so the next calibration stays plain', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ign-blend-trained-'));
  try {
    const config = resolveConfig({
      model: { arch: 'mnist', width: 4, latent: 8, bnBlend: 0.4 },
      noise: 'gaussian',
      data: { kind: 'mnist' },
    });
    const source = join(dir, 'source');
    const common = { config, imageShape: SHAPE, noiseStats: null, steps: 1, epochs: 0, wallTimeSeconds: 1, dataset: 'mnist/train' };
    await exportModel(source, { ...common, tensors: randomTensors(5), commands: ['train'] });
    const exported = (await loadModelCard(source)).card;
    assert.equal(exported.normalization.blend, 0.4);
    assert.match(exported.description, /blended with each image's own at 0\.4/);
    const hasReduce = async (d: string) => (await readFile(join(d, 'model.onnx'))).toString('latin1').includes('ReduceMean');
    assert.ok(await hasReduce(source));
    await recalibrateExport(source, { blend: 0, batches: 2, batch: BATCH, seed: 1, command: 'plain' });
    assert.equal((await loadModelCard(source)).card.normalization.blend, 0);
    assert.ok(!(await hasReduce(source)));
    await recalibrateExport(source, { batches: 2, batch: BATCH, seed: 1, command: 'again' });
    assert.equal((await loadModelCard(source)).card.normalization.blend, 0, 'not the training share again');
    assert.ok(!(await hasReduce(source)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
