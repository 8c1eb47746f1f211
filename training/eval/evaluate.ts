// SPDX-License-Identifier: MIT
/**
 * @file `evaluateModel(models/<name>)`: the evaluation report of an exported IGN model — held-out
 * reconstruction, idempotence residuals, classifier-feature Fréchet distances and class coverage of
 * f^k(z) (k = 1, 2, 3), projection PSNR of corrupted inputs, and a picture of samples, projections
 * and latent interpolations. Writes evaluation.json, evaluation.png and evaluation.md into the model
 * folder and the summary into model.json's `evaluation`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModelCard, writeModelCard, type ModelCard } from '../../common/model-card.ts';
import { sampleNoise } from '../../common/noise.ts';
import { Rng } from '../../common/rng.ts';
import { shapeSize, type ImageShape } from '../../common/fft.ts';
import { loadDataset, type Dataset, type DatasetSpec } from '../data/dataset.ts';
import { skippedFilesLine } from '../data/dataset-args.ts';
import { assertClassifierFits, defaultClassifierDir, ensureClassifier, type EnsureClassifierOptions } from './classifier-store.ts';
import { ModelRunner } from './model-runner.ts';
import { composeCanvas, writeCanvasPng, type Canvas, type PanelRow } from './panels.ts';
import { reportMarkdown, summarize, type EvaluationReport } from './report.ts';
import { classifierSection, head, idempotenceOfSamples, interpolationRows, projection, reconstructionAndDataResidual } from './sections.ts';

export interface EvaluateOptions {
  /** Generated samples and held-out images per section (default 1000, capped at the test split). */
  n?: number;
  seed?: number;
  /** Dataset to compare against; default: the one named in the model card. */
  dataset?: DatasetSpec;
  /** Default: models/<dataset>-classifier beside the model folder. */
  classifierDir?: string;
  /** How to train the classifier when it is missing (e.g. { steps: 50 } in tests). */
  classifier?: EnsureClassifierOptions;
  /** Write model.json's `evaluation` (default true). */
  updateCard?: boolean;
  log?: (msg: string) => void;
}

export interface EvaluationResult {
  readonly report: EvaluationReport;
  readonly summary: Record<string, unknown>;
  readonly files: { readonly json: string; readonly png: string; readonly markdown: string };
}

const COLUMNS = 10;
const INTERPOLATION_STRIPS = 4;
export const EVALUATION_JSON = 'evaluation.json';
export const EVALUATION_PNG = 'evaluation.png';
export const EVALUATION_MD = 'evaluation.md';

/** The card's dataset: training.config.data when present, else training.dataset if it names a built-in set. */
export function datasetSpecOf(card: ModelCard): DatasetSpec {
  const data = card.training.config.data as Partial<DatasetSpec> | undefined;
  if (data && (data.kind === 'mnist' || data.kind === 'fashion-mnist' || data.kind === 'folder')) {
    // The whole dataset, whatever subset or cache the training run used.
    const d = data as DatasetSpec;
    return {
      kind: d.kind,
      ...(d.path !== undefined && { path: d.path }),
      ...(d.size !== undefined && { size: d.size }),
      ...(d.channels !== undefined && { channels: d.channels }),
    };
  }
  const named = card.training.dataset.split('/')[0];
  if (named === 'mnist' || named === 'fashion-mnist') return { kind: named };
  throw new Error(`cannot tell the dataset of model ${card.name} from its card ("${card.training.dataset}"); pass a dataset`);
}

/** `count` images (and labels) at distinct random indices of `data`. */
function pick(data: Dataset, count: number, rng: Rng): { images: Float32Array; labels: Uint8Array | null } {
  const order = Array.from({ length: data.n }, (_, i) => i);
  rng.shuffle(order);
  const indices = order.slice(0, count);
  const images = new Float32Array(count * shapeSize(data.shape));
  data.gather(indices, images);
  const labels = data.labels;
  return { images, labels: labels ? Uint8Array.from(indices, (i) => labels[i]!) : null };
}

export async function evaluateModel(modelDir: string, options: EvaluateOptions = {}): Promise<EvaluationResult> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  const seed = options.seed ?? 0;
  const { card, modelPath, noiseStats } = await loadModelCard(modelDir);
  const shape: ImageShape = [card.image.channels, card.image.height, card.image.width];
  const spec = options.dataset ?? datasetSpecOf(card);
  const rng = new Rng(seed);
  const test = await loadDataset(spec, 'test');
  const skipped = skippedFilesLine(test.skipped);
  if (skipped !== null) log(`${test.name}: ${skipped}`);
  const n = Math.min(options.n ?? 1000, test.n);
  const real = pick(test, n, rng.fork('test-images'));
  const noise = (count: number, label: string): Float32Array => sampleNoise(card.noise, noiseStats, shape, rng.fork(label), count);
  const model = await ModelRunner.open(modelPath, shape, { input: card.input.name, output: card.output.name });
  try {
    log(`evaluating ${card.name} on ${test.name}, n = ${n}`);
    const { reconstruction, residualOnData } = await reconstructionAndDataResidual(model, real.images);
    const z = noise(n, 'samples');
    const [f1, f2, f3] = (await model.iterate(z, 3)) as [Float32Array, Float32Array, Float32Array];
    const idempotence = { ...idempotenceOfSamples(z, f1, f2, shape), residualOnData };
    log('projection of corrupted inputs');
    const projected = await projection(model, real.images, rng.fork('corruptions'), COLUMNS);
    const interpolation = await interpolationRows(model, (count) => noise(count, 'interpolation'), INTERPOLATION_STRIPS, COLUMNS);
    const classifier = await classifierPart({ modelDir, spec, shape, n, real, generated: [f1, f2, f3], rng, options, log });
    const canvas = composeCanvas([sampleRows(shape, [z, f1, f2, f3]), projected.rows, interpolation], shape, COLUMNS);
    const report: EvaluationReport = {
      format: 'ign-evaluation', version: 1, model: card.name, created: new Date().toISOString(), seed, n,
      dataset: test.name, reconstruction, idempotence, classifier, projection: projected.scores,
      image: { file: EVALUATION_PNG, scale: pngScale(shape), rows: canvas.rowKey },
      wallTimeSeconds: (performance.now() - started) / 1000,
    };
    return await writeOutputs(modelDir, report, canvas, options.updateCard ?? true ? card : null);
  } finally {
    await model.release();
  }
}

function sampleRows(shape: ImageShape, [z, f1, f2, f3]: Float32Array[]): PanelRow[] {
  return [
    { label: 'samples: noise z', images: head(z!, shape, COLUMNS) },
    { label: 'samples: f(z)', images: head(f1!, shape, COLUMNS) },
    { label: 'samples: f(f(z))', images: head(f2!, shape, COLUMNS) },
    { label: 'samples: f(f(f(z)))', images: head(f3!, shape, COLUMNS) },
  ];
}

/** ×2 nearest-neighbour for small images (MNIST), native size from 64 px up. */
function pngScale(shape: ImageShape): number {
  return Math.max(shape[1], shape[2]) <= 32 ? 2 : 1;
}

/** evaluation.{png,json,md}, and the summary into model.json when `card` is given. */
async function writeOutputs(modelDir: string, report: EvaluationReport, canvas: Canvas, card: ModelCard | null): Promise<EvaluationResult> {
  const files = { json: join(modelDir, EVALUATION_JSON), png: join(modelDir, EVALUATION_PNG), markdown: join(modelDir, EVALUATION_MD) };
  await writeCanvasPng(files.png, canvas, report.image.scale);
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files.markdown, reportMarkdown(report));
  const summary = summarize(report);
  if (card) await writeModelCard(modelDir, { ...card, evaluation: summary });
  return { report, summary, files };
}

interface ClassifierPartInputs {
  modelDir: string;
  spec: DatasetSpec;
  shape: ImageShape;
  n: number;
  real: { images: Float32Array; labels: Uint8Array | null };
  generated: [Float32Array, Float32Array, Float32Array];
  rng: Rng;
  options: EvaluateOptions;
  log: (msg: string) => void;
}

async function classifierPart(p: ClassifierPartInputs): Promise<EvaluationReport['classifier']> {
  if (!p.real.labels) return { skipped: `dataset ${p.spec.kind} has no labels to train a classifier on` };
  const dir = p.options.classifierDir ?? defaultClassifierDir(p.modelDir, p.spec);
  p.log(`classifier ${dir}`);
  const loaded = await ensureClassifier(dir, p.spec, { log: p.log, ...p.options.classifier });
  try {
    assertClassifierFits(loaded, p.shape);
    const train = await loadDataset(p.spec, 'train');
    const realTrain = pick(train, Math.min(p.n, train.n), p.rng.fork('train-images')).images;
    return await classifierSection({
      classifier: loaded.runner, classifierDir: dir, testAccuracy: loaded.card.testAccuracy,
      realTest: p.real.images, realTestLabels: p.real.labels, realTrain, generated: p.generated,
    });
  } finally {
    await loaded.runner.release();
  }
}
