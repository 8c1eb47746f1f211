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
  assert.equal(histograms.k1.counts.reduce((a, b) => a + b, 0), 48);
  assert.equal(saved.image.rows.length, 4 + 3 * 4 + 4);
  const png = await sharp(first.files.png).metadata();
  assert.equal(png.format, 'png');
  assert.equal(png.width, 2 * (10 * 30 + 2));
  assert.ok((await stat(first.files.markdown)).size > 200);
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
  // the saved classifier was reused (no retraining with steps: 1)
  assert.equal(r.classifier.testAccuracy, saved.classifier.testAccuracy);
});
