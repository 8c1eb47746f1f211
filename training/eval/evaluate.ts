// SPDX-License-Identifier: MIT
/**
 * @file `evaluateModel(models/<name>)`: the evaluation report of an exported IGN model — held-out
 * reconstruction, idempotence residuals, classifier-feature Fréchet distances and class coverage of
 * f^k(z) (k = 1, 2, 3), projection PSNR of corrupted inputs, the projection benchmark
 * (projection-benchmark.ts) with its pass/fail targets (targets.ts), a picture of samples,
 * projections and latent interpolations, and the benchmark's picture. Writes evaluation.json,
 * evaluation.png, evaluation-benchmark.png and evaluation.md into the model folder and the summary
 * into model.json's `evaluation`.
 */
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { writeModelCard, type ModelCard } from '../../common/model-card.ts';
import { sampleNoise } from '../../common/noise.ts';
import { Rng } from '../../common/rng.ts';
import { shapeSize, type ImageShape } from '../../common/fft.ts';
import { loadDataset, type Dataset, type DatasetSpec } from '../data/dataset.ts';
import { skippedFilesLine } from '../data/dataset-args.ts';
import { assertClassifierFits, defaultClassifierDir, ensureClassifier, type EnsureClassifierOptions } from './classifier-store.ts';
import { openExportedModel, type ModelRunner } from './model-runner.ts';
import { composeCanvas, writeCanvasPng, type Canvas, type PanelRow } from './panels.ts';
import { benchmarkColumns, projectionBenchmark, type ProjectionBenchmark } from './projection-benchmark.ts';
import { reportMarkdown, summarize, type ClassifierSection, type EvaluationReport } from './report.ts';
import { classifierSection, head, idempotenceOfSamples, interpolationRows, projection, reconstructionAndDataResidual } from './sections.ts';
import { checkTargets } from './targets.ts';

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
  /** ONNX Runtime intra-op threads of f and the classifier (default: every core). */
  threads?: number;
  log?: (msg: string) => void;
}

export interface EvaluationResult {
  readonly report: EvaluationReport;
  readonly summary: Record<string, unknown>;
  readonly files: { readonly json: string; readonly png: string; readonly markdown: string; readonly benchmarkPng: string | null };
}

const COLUMNS = 10;
const INTERPOLATION_STRIPS = 4;
export const EVALUATION_JSON = 'evaluation.json';
export const EVALUATION_PNG = 'evaluation.png';
export const EVALUATION_MD = 'evaluation.md';
export const EVALUATION_BENCHMARK_PNG = 'evaluation-benchmark.png';
/** Examples per family in the benchmark picture. */
const BENCHMARK_EXAMPLES = 4;

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

interface Picked {
  images: Float32Array;
  labels: Uint8Array | null;
}

/** The images (and labels) of `data` at `indices`. */
function gatherAt(data: Dataset, indices: readonly number[]): Picked {
  const images = new Float32Array(indices.length * shapeSize(data.shape));
  data.gather(indices, images);
  const labels = data.labels;
  return { images, labels: labels ? Uint8Array.from(indices, (i) => labels[i]!) : null };
}

/** `count` images at distinct random indices of `data`, and `rest` more at other distinct indices (as many as there are). */
function pick(data: Dataset, count: number, rng: Rng, rest = 0): { chosen: Picked; others: Picked } {
  const order = Array.from({ length: data.n }, (_, i) => i);
  rng.shuffle(order);
  return { chosen: gatherAt(data, order.slice(0, count)), others: gatherAt(data, order.slice(count, count + rest)) };
}

export async function evaluateModel(modelDir: string, options: EvaluateOptions = {}): Promise<EvaluationResult> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  const seed = options.seed ?? 0;
  const threads = options.threads ?? availableParallelism();
  const { card, noiseStats, runner: model, shape } = await openExportedModel(modelDir, { threads });
  try {
    const spec = options.dataset ?? datasetSpecOf(card);
    const rng = new Rng(seed);
    const test = await loadDataset(spec, 'test');
    const skipped = skippedFilesLine(test.skipped);
    if (skipped !== null) log(`${test.name}: ${skipped}`);
    const n = Math.min(options.n ?? 1000, test.n);
    // The benchmark's Fréchet reference: other test images than the ones it corrupts, so that x̃ = x
    // does not score a distance of 0 by construction.
    const { chosen: real, others: reference } = pick(test, n, rng.fork('test-images'), n);
    const noise = (count: number, label: string): Float32Array => sampleNoise(card.noise, noiseStats, shape, rng.fork(label), count);
    log(`evaluating ${card.name} on ${test.name}, n = ${n}, ${threads} threads`);
    const { reconstruction, residualOnData } = await reconstructionAndDataResidual(model, real.images);
    const z = noise(n, 'samples');
    const [f1, f2, f3] = (await model.generate(z, 3)) as [Float32Array, Float32Array, Float32Array];
    const idempotence = { ...idempotenceOfSamples(z, f1, f2, shape), residualOnData };
    log('projection of corrupted inputs');
    const projected = await projection(model, real.images, rng.fork('corruptions'), COLUMNS);
    const interpolation = await interpolationRows(model, (count) => noise(count, 'interpolation'), INTERPOLATION_STRIPS, COLUMNS);
    const classified = await classifierPart({
      modelDir,
      spec,
      shape,
      n,
      real,
      reference: reference.images,
      generated: [f1, f2, f3],
      rng,
      options,
      threads,
      model,
      card,
      log,
    });
    const canvas = composeCanvas([sampleRows(shape, [z, f1, f2, f3]), projected.rows, interpolation], shape, COLUMNS);
    const benchmarkCanvas =
      classified.benchmarkRows.length > 0 ? composeCanvas([classified.benchmarkRows], shape, benchmarkColumns(BENCHMARK_EXAMPLES)) : null;
    const generation = 'frechet' in classified.section ? classified.section : null;
    const report: EvaluationReport = {
      format: 'ign-evaluation',
      version: 2,
      model: card.name,
      created: new Date().toISOString(),
      seed,
      n,
      dataset: test.name,
      reconstruction,
      idempotence,
      classifier: classified.section,
      projection: projected.scores,
      benchmark: classified.benchmark,
      targets: checkTargets(classified.benchmark, generation),
      image: { file: EVALUATION_PNG, scale: pngScale(shape), rows: canvas.rowKey },
      benchmarkImage: benchmarkCanvas ? { file: EVALUATION_BENCHMARK_PNG, scale: pngScale(shape), rows: benchmarkCanvas.rowKey } : null,
      threads,
      wallTimeSeconds: 0,
    };
    const timed = { ...report, wallTimeSeconds: (performance.now() - started) / 1000 };
    return await writeOutputs(modelDir, timed, canvas, benchmarkCanvas, (options.updateCard ?? true) ? card : null);
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

/** evaluation.{png,json,md}, the benchmark picture, and the summary into model.json when `card` is given. */
async function writeOutputs(
  modelDir: string,
  report: EvaluationReport,
  canvas: Canvas,
  benchmarkCanvas: Canvas | null,
  card: ModelCard | null,
): Promise<EvaluationResult> {
  const files = {
    json: join(modelDir, EVALUATION_JSON),
    png: join(modelDir, EVALUATION_PNG),
    markdown: join(modelDir, EVALUATION_MD),
    benchmarkPng: benchmarkCanvas ? join(modelDir, EVALUATION_BENCHMARK_PNG) : null,
  };
  await writeCanvasPng(files.png, canvas, report.image.scale);
  if (benchmarkCanvas && files.benchmarkPng) await writeCanvasPng(files.benchmarkPng, benchmarkCanvas, report.image.scale);
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
  real: Picked;
  /** Test images disjoint from `real` for the benchmark's Fréchet reference (may be fewer, or none). */
  reference: Float32Array;
  generated: [Float32Array, Float32Array, Float32Array];
  rng: Rng;
  options: EvaluateOptions;
  threads: number;
  model: ModelRunner;
  card: ModelCard;
  log: (msg: string) => void;
}

interface ClassifierPart {
  section: ClassifierSection | { skipped: string };
  benchmark: ProjectionBenchmark | null;
  benchmarkRows: PanelRow[];
}

/** Generation metrics and the projection benchmark, both in the evaluation classifier's eyes. */
async function classifierPart(p: ClassifierPartInputs): Promise<ClassifierPart> {
  if (!p.real.labels)
    return { section: { skipped: `dataset ${p.spec.kind} has no labels to train a classifier on` }, benchmark: null, benchmarkRows: [] };
  const dir = p.options.classifierDir ?? defaultClassifierDir(p.modelDir, p.spec);
  p.log(`classifier ${dir}`);
  const loaded = await ensureClassifier(dir, p.spec, { log: p.log, threads: p.threads, ...p.options.classifier });
  try {
    assertClassifierFits(loaded, p.shape);
    const train = await loadDataset(p.spec, 'train');
    const realTrain = pick(train, Math.min(p.n, train.n), p.rng.fork('train-images')).chosen.images;
    const { section, realTestFeatures } = await classifierSection({
      classifier: loaded.runner,
      classifierDir: dir,
      testAccuracy: loaded.card.testAccuracy,
      realTest: p.real.images,
      realTestLabels: p.real.labels,
      realTrain,
      generated: p.generated,
    });
    const { benchmark, rows } = await projectionBenchmark({
      model: p.model,
      classifier: loaded.runner,
      clean: p.real.images,
      labels: p.real.labels,
      referenceFeatures:
        p.reference.length >= 2 * shapeSize(p.shape) ? (await loaded.runner.classify(p.reference)).features : realTestFeatures,
      featureDim: section.featureDim,
      conventions: p.card.inputConventions ?? null,
      rng: p.rng.fork('benchmark'),
      examples: BENCHMARK_EXAMPLES,
      log: p.log,
    });
    return { section, benchmark, benchmarkRows: rows };
  } finally {
    await loaded.runner.release();
  }
}
