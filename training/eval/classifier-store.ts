// SPDX-License-Identifier: MIT
/**
 * @file Where the evaluation classifier lives and how it is reused: models/<dataset>-classifier/
 * holds classifier.onnx (x → logits, features; weights baked in) and classifier.json (a tiny card).
 * ensureClassifier loads it, or trains and saves it when absent.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ImageShape } from '../../common/fft.ts';
import { loadDataset, type DatasetSpec } from '../data/dataset.ts';
import { skippedFilesLine } from '../data/dataset-args.ts';
import { ClassifierRunner } from './classifier-runner.ts';
import { trainClassifier, type ClassifierTrainOptions } from './classifier-train.ts';

const CLASSIFIER_ONNX = 'classifier.onnx';
const CLASSIFIER_CARD = 'classifier.json';

export interface ClassifierCard {
  format: 'ign-eval-classifier';
  version: 1;
  dataset: string;
  shape: [number, number, number];
  classes: number;
  featureDim: number;
  stages: number[];
  testAccuracy: number;
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  finalLoss: number;
  wallTimeSeconds: number;
  created: string;
  file: string;
  outputs: { logits: string; features: string };
}

export interface LoadedClassifier {
  readonly dir: string;
  readonly card: ClassifierCard;
  readonly runner: ClassifierRunner;
}

/** A short name for a dataset spec: "mnist", "fashion-mnist", or "<folder basename>-<size>". */
export function datasetSlug(spec: DatasetSpec): string {
  if (spec.kind !== 'folder') return spec.kind;
  const base = basename(spec.path ?? 'folder')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-');
  return `${base}-${spec.size ?? 64}`;
}

/** models/<slug>-classifier beside the evaluated model's folder. */
export function defaultClassifierDir(modelDir: string, spec: DatasetSpec): string {
  return join(dirname(modelDir), `${datasetSlug(spec)}-classifier`);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export async function loadClassifier(dir: string, threads?: number): Promise<LoadedClassifier> {
  const card = JSON.parse(await readFile(join(dir, CLASSIFIER_CARD), 'utf8')) as Partial<ClassifierCard>;
  if (card.format !== 'ign-eval-classifier' || card.shape === undefined || card.classes === undefined || card.file === undefined)
    throw new Error(`${join(dir, CLASSIFIER_CARD)} is not a classifier card`);
  const onnx = await readFile(join(dir, card.file));
  const runner = await ClassifierRunner.fromBytes(onnx, card.shape, card.classes, threads);
  return { dir, card: card as ClassifierCard, runner };
}

export interface EnsureClassifierOptions extends ClassifierTrainOptions {
  /** Retrain even when a saved classifier exists. */
  retrain?: boolean;
  /** ONNX Runtime intra-op threads of the returned runner (default 2). */
  threads?: number;
}

/** Loads dir's classifier, or trains one on spec's train split (accuracy on its test split) and saves it. */
export async function ensureClassifier(dir: string, spec: DatasetSpec, options: EnsureClassifierOptions = {}): Promise<LoadedClassifier> {
  if (!options.retrain && (await exists(join(dir, CLASSIFIER_CARD)))) return loadClassifier(dir, options.threads);
  const train = await loadDataset(spec, 'train');
  const test = await loadDataset(spec, 'test');
  for (const split of train === test ? [train] : [train, test]) {
    const skipped = skippedFilesLine(split.skipped);
    if (skipped !== null) options.log?.(`${split.name}: ${skipped}`);
  }
  const trained = await trainClassifier(train, test, options);
  const card: ClassifierCard = {
    format: 'ign-eval-classifier',
    version: 1,
    dataset: datasetSlug(spec),
    shape: [...trained.arch.shape] as [number, number, number],
    classes: trained.arch.classes,
    featureDim: trained.arch.featureDim,
    stages: [...trained.arch.stages],
    testAccuracy: trained.testAccuracy,
    steps: trained.steps,
    batchSize: options.batchSize ?? 128,
    lr: options.lr ?? 1e-3,
    seed: options.seed ?? 0,
    finalLoss: trained.finalLoss,
    wallTimeSeconds: trained.wallTimeSeconds,
    created: new Date().toISOString(),
    file: CLASSIFIER_ONNX,
    outputs: { logits: 'logits', features: 'features' },
  };
  await mkdir(dir, { recursive: true });
  await writeAtomic(join(dir, CLASSIFIER_ONNX), trained.onnx);
  await writeAtomic(join(dir, CLASSIFIER_CARD), `${JSON.stringify(card, null, 2)}\n`);
  return { dir, card, runner: await ClassifierRunner.fromBytes(trained.onnx, card.shape, card.classes, options.threads) };
}

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** Checks a loaded classifier fits images of `shape`. */
export function assertClassifierFits(c: LoadedClassifier, shape: ImageShape): void {
  const [a, b, d] = c.card.shape;
  if (a !== shape[0] || b !== shape[1] || d !== shape[2]) {
    throw new Error(`classifier in ${c.dir} is for [${c.card.shape.join(', ')}] images, the model makes [${shape.join(', ')}]`);
  }
}
