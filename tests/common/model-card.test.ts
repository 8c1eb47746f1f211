// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelCard, ModelCardError, validateModelCard, writeModelCard, type ModelCard } from '../../common/model-card.ts';
import { computeFourierStats } from '../../common/noise.ts';
import { serializeNoiseStats } from '../../common/noise-stats-file.ts';
import { computeCovarianceStats } from '../../common/covariance-noise.ts';
import { Rng } from '../../common/rng.ts';

function validCard(): ModelCard {
  return {
    schemaVersion: 1,
    name: 'mnist-ign',
    version: '1',
    description: 'IGN on MNIST',
    created: '2024-06-01T12:00:00.000Z',
    file: 'model.onnx',
    opset: 17,
    input: { name: 'x', shape: [-1, 1, 28, 28] },
    output: { name: 'y', shape: [-1, 1, 28, 28] },
    image: { channels: 1, height: 28, width: 28, valueRange: [-1, 1] },
    noise: { kind: 'gaussian' },
    normalization: { kind: 'batch', mode: 'eval' },
    seed: 42,
    training: {
      preset: 'paper',
      config: { lr: 1e-4 },
      commands: ['npm run train -- --preset paper'],
      dataset: 'mnist',
      steps: 1000,
      epochs: 4.3,
      wallTimeSeconds: 812.5,
      finalLoss: 0.12,
    },
    evaluation: null,
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'model-card-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function rejectsWith(pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ModelCardError, `expected ModelCardError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  };
}

void test('a valid card passes validation unchanged', () => {
  const card = validCard();
  assert.deepEqual(validateModelCard(JSON.parse(JSON.stringify(card))), card);
});

void test('schema violations are all listed with their JSON paths', () => {
  const card = validCard() as unknown as Record<string, unknown>;
  card.opset = 'seventeen';
  card.extra = true;
  delete card.seed;
  (card.image as Record<string, unknown>).channels = 2;
  (card.noise as Record<string, unknown>).kind = 'uniform';
  try {
    validateModelCard(card, 'models/x/model.json');
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof ModelCardError);
    assert.match(err.message, /^models\/x\/model\.json does not match/);
    const issues = err.issues.join('\n');
    assert.match(issues, /\/opset: must be integer/);
    assert.match(issues, /\/: unknown property "extra"/);
    assert.match(issues, /\/: missing required property "seed"/);
    assert.match(issues, /\/image\/channels: .*\[1,3\]/);
    assert.match(issues, /\/noise\/kind: /);
  }
});

void test('fourier, covariance and fourier-mixture noise require a statistics file; only fourier is Hermitian; paths stay in the folder', () => {
  const fourier = { ...validCard(), noise: { kind: 'fourier' as const } };
  assert.throws(() => validateModelCard(fourier), /\/noise: missing required property "statsFile"/);
  assert.throws(
    () => validateModelCard({ ...validCard(), noise: { kind: 'covariance' } }),
    /\/noise: missing required property "statsFile"/,
  );
  assert.throws(
    () => validateModelCard({ ...validCard(), noise: { kind: 'fourier-mixture' } }),
    /\/noise: missing required property "statsFile"/,
  );
  assert.equal(
    validateModelCard({ ...validCard(), noise: { kind: 'fourier-mixture', statsFile: 'noise-stats.bin' } }).noise.kind,
    'fourier-mixture',
  );
  assert.throws(
    () => validateModelCard({ ...validCard(), noise: { kind: 'covariance', statsFile: 'noise-stats.bin', hermitian: true } }),
    /\/noise\/hermitian: only fourier noise can be Hermitian/,
  );
  assert.throws(() => validateModelCard({ ...validCard(), file: '../other/model.onnx' }), /\/file: must match pattern/);
  assert.throws(() => validateModelCard({ ...validCard(), created: 'yesterday' }), /\/created: must match format "date-time"/);
});

void test('tensor shapes must match the image', () => {
  const card = validCard();
  card.output.shape = [-1, 3, 28, 28];
  assert.throws(() => validateModelCard(card), /\/output\/shape: \[-1, 3, 28, 28\] does not match image \[-1, 1, 28, 28\]/);
  const fixedBatch = validCard();
  fixedBatch.input.shape = [8, 1, 28, 28];
  assert.throws(() => validateModelCard(fixedBatch), /\/input\/shape\/0: must be -1/);
});

void test('writeModelCard then loadModelCard round-trips and resolves the model path', async () => {
  await withDir(async (dir) => {
    const modelDir = join(dir, 'mnist-ign');
    await writeModelCard(modelDir, validCard());
    await writeFile(join(modelDir, 'model.onnx'), 'onnx bytes');
    const loaded = await loadModelCard(modelDir);
    assert.deepEqual(loaded.card, validCard());
    assert.equal(loaded.modelPath, join(modelDir, 'model.onnx'));
    assert.equal(loaded.noiseStats, null);
    assert.equal(loaded.generatorPath, null);
    assert.ok((await readFile(join(modelDir, 'model.json'), 'utf8')).endsWith('}\n'));
  });
});

void test('a generation file is resolved beside the card, must exist, differ from f and belong to a BatchNorm f', async () => {
  const calibration = { images: 8000, seed: 0, source: 'mnist/train: noise z' };
  const card: ModelCard = { ...validCard(), generation: { file: 'generator.onnx', calibration } };
  await withDir(async (dir) => {
    await writeModelCard(dir, card);
    await writeFile(join(dir, 'model.onnx'), 'onnx bytes');
    await assert.rejects(loadModelCard(dir), rejectsWith(/generation file .*generator\.onnx named by model\.json is missing/));
    await writeFile(join(dir, 'generator.onnx'), 'onnx bytes');
    assert.equal((await loadModelCard(dir)).generatorPath, join(dir, 'generator.onnx'));
  });
  assert.throws(() => validateModelCard({ ...card, generation: { file: 'model.onnx', calibration } }), /\/generation\/file: must differ/);
  assert.throws(() => validateModelCard({ ...card, normalization: { kind: 'group', mode: 'eval' } }), /only a BatchNorm f/);
  assert.throws(() => validateModelCard({ ...card, generation: { file: '../x.onnx', calibration } }), /\/generation\/file/);
  assert.throws(() => validateModelCard({ ...card, generation: { file: 'generator.onnx' } }), /missing required property "calibration"/);
});

void test('a blended BatchNorm share lies in [0, 1] and belongs to a BatchNorm f; the generation file may have its own', () => {
  const calibration = { images: 8000, seed: 0, source: 'mnist/train: noise z' };
  const card: ModelCard = {
    ...validCard(),
    normalization: { kind: 'batch', mode: 'eval', blend: 0.3 },
    generation: { file: 'generator.onnx', calibration, blend: 0.1 },
  };
  assert.equal(validateModelCard(card).normalization.blend, 0.3);
  assert.throws(
    () => validateModelCard({ ...card, normalization: { kind: 'batch', mode: 'eval', blend: 1.5 } }),
    /\/normalization\/blend: must be <= 1/,
  );
  assert.throws(
    () => validateModelCard({ ...card, generation: { file: 'generator.onnx', calibration, blend: -0.1 } }),
    /\/generation\/blend: must be >= 0/,
  );
  const plain: ModelCard = { ...validCard(), normalization: { kind: 'batch', mode: 'eval' } };
  assert.throws(() => validateModelCard({ ...plain, normalization: { kind: 'group', mode: 'eval', blend: 0.3 } }), /only BatchNorm blends/);
});

void test('writeModelCard refuses an invalid card', async () => {
  await withDir(async (dir) => {
    await assert.rejects(writeModelCard(dir, { ...validCard(), seed: -1 }), rejectsWith(/\/seed: must be >= 0/));
  });
});

void test('loadModelCard reads fourier statistics and checks their shape', async () => {
  await withDir(async (dir) => {
    const card: ModelCard = { ...validCard(), noise: { kind: 'fourier', statsFile: 'noise-stats.bin' } };
    await writeModelCard(dir, card);
    await writeFile(join(dir, 'model.onnx'), 'onnx');
    await assert.rejects(loadModelCard(dir), rejectsWith(/noise statistics file .*noise-stats\.bin named by model\.json is missing/));
    const images = new Rng(1).fillUniform(new Float32Array(3 * 784), -1, 1);
    const stats = computeFourierStats(images, 3, [1, 28, 28]);
    await writeFile(join(dir, 'noise-stats.bin'), serializeNoiseStats(stats));
    const loaded = await loadModelCard(dir);
    assert.deepEqual(loaded.noiseStats, stats);
    const wrong = computeFourierStats(new Float32Array(2 * 16), 2, [1, 4, 4]);
    await writeFile(join(dir, 'noise-stats.bin'), serializeNoiseStats(wrong));
    await assert.rejects(loadModelCard(dir), rejectsWith(/are for \[1, 4, 4\], the image is \[1, 28, 28\]/));
    await writeFile(join(dir, 'noise-stats.bin'), 'garbage');
    await assert.rejects(loadModelCard(dir), rejectsWith(/unreadable: not a noise statistics file/));
    // Statistics of another kind than the card declares are refused, not sampled as the wrong noise.
    await writeModelCard(dir, { ...card, noise: { kind: 'covariance', statsFile: 'noise-stats.bin' } });
    await writeFile(join(dir, 'noise-stats.bin'), serializeNoiseStats(stats));
    await assert.rejects(loadModelCard(dir), rejectsWith(/are fourier statistics, the card declares covariance noise/));
    await writeFile(join(dir, 'noise-stats.bin'), serializeNoiseStats(computeCovarianceStats(images, 3, [1, 28, 28])));
    assert.equal((await loadModelCard(dir)).noiseStats?.kind, 'covariance');
  });
});

void test('loadModelCard explains each missing or broken piece', async () => {
  await withDir(async (dir) => {
    await assert.rejects(loadModelCard(join(dir, 'nope')), rejectsWith(/model directory .*nope does not exist/));
    await writeFile(join(dir, 'file'), 'x');
    await assert.rejects(loadModelCard(join(dir, 'file')), rejectsWith(/is not a directory/));
    await assert.rejects(loadModelCard(dir), rejectsWith(/model card .*model\.json is missing/));
    await writeFile(join(dir, 'model.json'), '{"schemaVersion": 1,');
    await assert.rejects(loadModelCard(dir), rejectsWith(/model\.json is not valid JSON/));
    await writeFile(join(dir, 'model.json'), JSON.stringify({ ...validCard(), opset: 3 }));
    await assert.rejects(loadModelCard(dir), rejectsWith(/model\.json does not match .*\n {2}- \/opset: must be >= 7/));
    await writeFile(join(dir, 'model.json'), JSON.stringify(validCard()));
    await assert.rejects(loadModelCard(dir), rejectsWith(/model file .*model\.onnx named by model\.json is missing/));
  });
});
