// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadModelCard } from '../../../common/model-card.ts';
import { evaluateModel } from '../../../training/eval/evaluate.ts';
import type { EvaluationReport } from '../../../training/eval/report.ts';
import { writeTinyModelDir } from '../../support/tiny-model.ts';

const shape = { channels: 1, height: 28, width: 28 };
const dataset = { kind: 'mnist', limit: 600 } as const;
const classifier = { steps: 40, batchSize: 64 };

void test('evaluate writes the report, picture and card summary for a tiny model, reusing one classifier', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'ign-eval-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const contraction = join(root, 'tiny');
  const identity = join(root, 'ident');
  await writeTinyModelDir(contraction, shape, 'tiny');
  await writeTinyModelDir(identity, { ...shape, kind: 'identity' }, 'ident');

  const first = await evaluateModel(contraction, { n: 48, seed: 1, dataset, classifier });
  const saved = JSON.parse(await readFile(first.files.json, 'utf8')) as EvaluationReport;
  assert.equal(saved.n, 48);
  assert.equal(saved.dataset, 'mnist/test');
  // y = tanh(0.8·x + 0.1) moves data and is a contraction: f∘f moves less than f did.
  assert.ok(saved.reconstruction.l1 > 0.01 && saved.reconstruction.mse > 0);
  assert.ok(saved.idempotence.ratio > 0 && saved.idempotence.ratio < 1, `ratio ${saved.idempotence.ratio}`);
  assert.deepEqual(Object.keys(saved.projection).sort(), ['mask', 'noise', 'sketch']);
  assert.ok('frechet' in saved.classifier);
  const { frechet, histograms } = saved.classifier;
  assert.ok(frechet.realTrainVsTest < frechet.k1, `floor ${frechet.realTrainVsTest} vs k1 ${frechet.k1}`);
  assert.equal(
    histograms.k1.counts.reduce((a, b) => a + b, 0),
    48,
  );
  assert.equal(saved.image.rows.length, 4 + 3 * 4 + 4);
  const png = await sharp(first.files.png).metadata();
  assert.equal(png.format, 'png');
  assert.equal(png.width, 2 * (10 * 30 + 2));
  assert.ok((await stat(first.files.markdown)).size > 200);
  // The projection benchmark: every family scored in every column, corruptions graded by strength.
  const bench = saved.benchmark!;
  assert.deepEqual(
    bench.families.map((f) => f.id),
    [
      'clean',
      'noise-0.15',
      'noise-0.3',
      'noise-0.5',
      'impulse-0.05',
      'impulse-0.2',
      'occlusion-8',
      'occlusion-13',
      'blur',
      'user-inverted',
      'user-off-centre',
      'user-rescaled',
      'user-light-canvas',
      'salt-0.1',
      'pepper-0.1',
      'user-photo',
      'user-page-on-desk',
    ],
  );
  const byId = Object.fromEntries(bench.families.map((f) => [f.id, f]));
  assert.ok(
    byId['noise-0.5']!.psnr.input < byId['noise-0.3']!.psnr.input && byId['noise-0.3']!.psnr.input < byId['noise-0.15']!.psnr.input,
  );
  assert.ok(byId['impulse-0.2']!.psnr.input < byId['impulse-0.05']!.psnr.input);
  assert.ok(byId['occlusion-13']!.psnr.input < byId['occlusion-8']!.psnr.input);
  assert.equal(byId.clean!.psnr.input, 100);
  assert.ok(byId['impulse-0.2']!.psnr.median > byId['impulse-0.2']!.psnr.input, 'the median filter removes impulse noise');
  assert.equal(bench.referenceImages, 48, 'a disjoint set of 48 test images is the Fréchet reference');
  assert.ok(byId.clean!.frechet.input > 0, 'x̃ = x is not its own reference');
  assert.equal(bench.conventions, null, 'the tiny card declares no conventions');
  for (const f of bench.families) {
    for (const metric of [f.accuracy, f.frechet, f.psnr])
      for (const v of Object.values(metric)) assert.ok(Number.isFinite(v), `${f.id}: ${JSON.stringify(metric)}`);
    assert.equal(f.user !== undefined, f.kind === 'user');
  }
  // The dense impulse family split into its salt and its pepper half: diagnostic rows, no targets.
  assert.deepEqual(
    bench.families.filter((f) => f.diagnostic).map((f) => f.id),
    ['salt-0.1', 'pepper-0.1'],
  );
  assert.ok(
    byId['salt-0.1']!.psnr.input > byId['impulse-0.2']!.psnr.input && byId['pepper-0.1']!.psnr.input > byId['impulse-0.2']!.psnr.input,
  );
  assert.ok(!saved.targets.some((t) => /salt|pepper/.test(t.target)));
  // Targets: 2 clean, one accuracy target per other scored family, FD for the 5 noise families, 6 user-style, 4 generation.
  assert.equal(saved.targets.length, 2 + 14 + 5 + 6 + 4);
  assert.equal(saved.benchmarkImage?.rows.length, 17);
  const benchPng = await sharp(first.files.benchmarkPng!).metadata();
  assert.equal(benchPng.width, 2 * (16 * 30 + 2));
  const card = await loadModelCard(contraction);
  assert.deepEqual(card.card.evaluation, JSON.parse(JSON.stringify(first.summary)));
  assert.equal(card.card.name, 'tiny');
  const classifierCard = JSON.parse(await readFile(join(root, 'mnist-classifier', 'classifier.json'), 'utf8')) as { steps: number };
  assert.equal(classifierCard.steps, 40);

  // Identity: f(x) = x exactly, so every k gives the noise back, projection changes nothing.
  const second = await evaluateModel(identity, { n: 48, seed: 1, dataset, classifier: { steps: 1 } });
  const r = second.report;
  assert.equal(r.reconstruction.l1, 0);
  assert.equal(r.idempotence.residual, 0);
  assert.ok('frechet' in r.classifier);
  assert.equal(r.classifier.frechet.k1, r.classifier.frechet.k3);
  assert.equal(r.projection.noise!.f1, r.projection.noise!.corrupted);
  // Identity f: f(x̃) = f²(x̃) = x̃ in every family and every metric, and f is idempotent on data.
  for (const f of r.benchmark!.families) {
    for (const metric of [f.accuracy, f.frechet, f.psnr]) {
      assert.equal(metric.f1, metric.input, f.id);
      assert.equal(metric.f2, metric.input, f.id);
    }
  }
  assert.equal(r.benchmark!.cleanIdempotencePsnr, 100);
  assert.ok(r.targets.find((t) => t.target.startsWith('clean: PSNR'))!.pass);
  assert.ok(
    r.targets.filter((t) => t.target.includes('FD f(x̃) < FD x̃')).every((t) => !t.pass),
    'identity never lowers FD',
  );
  // the saved classifier was reused (no retraining with steps: 1)
  assert.equal(r.classifier.testAccuracy, saved.classifier.testAccuracy);
});
