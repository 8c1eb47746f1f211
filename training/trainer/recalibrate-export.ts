// SPDX-License-Identifier: MIT
/**
 * @file `npm run calibrate-bn`'s work on a models/<name> folder: read f's weights from model.onnx,
 * recalibrate its BatchNorm statistics on calibration images (bn-calibration.ts),
 * write model.onnx (or, with `generator`, generator.onnx for the first application to noise) and
 * model.json, to the same folder or a new one. The card records the calibration and the command,
 * and its evaluation is cleared: the numbers belong to the old f.
 */
import { copyFile, readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadModelCard, writeModelCard } from '../../common/model-card.ts';
import type { ModelCard } from '../../common/model-card.ts';
import { ConfigError } from '../config.ts';
import type { TrainConfig } from '../config.ts';
import { loadDataset } from '../data/dataset.ts';
import { SERVING_CLEAN_SHARE, calibrationBatches, mixSources, mixtureDrawOf } from '../data/source-mix.ts';
import { sampleNoise } from '../../common/noise.ts';
import { Rng } from '../../common/rng.ts';
import { datasetSpecOf } from '../eval/evaluate.ts';
import { readFloatInitializers } from '../onnx/serialize.ts';
import { calibrateBatchNorm } from './bn-calibration.ts';
import { exportGraphBytes, verifyExport } from './export.ts';
import { openExportedModel } from '../eval/model-runner.ts';

/**
 * What f is calibrated on: 'serving' (default) clean and corrupted training images, what the served
 * projector is sent; 'clean' training images only; 'noise' the card's noise z, what /generate's
 * first application sees (the source of `--generator`); 'samples' f's own samples f(z), as
 * /generate's first application gives them (the generation file when the card has one), z drawn as
 * for 'noise'. Training normalised f(z) batches by their own statistics in f(f(z)) (L_idem and
 * L_tight), so 'samples' gives f the statistics it was made idempotent under. Calibrating f itself
 * on 'clean' or 'noise' exists to measure the choice (README, "BatchNorm recalibration").
 */
export const CALIBRATION_SOURCES = ['serving', 'clean', 'noise', 'samples'] as const;
export type CalibrationSource = (typeof CALIBRATION_SOURCES)[number];

const SOURCE_TEXT: Record<CalibrationSource, string> = {
  serving: 'clean + mixture samples',
  clean: 'clean images',
  noise: 'noise z',
  samples: "f's samples f(z) of noise z",
};

/**
 * The sentence each kind of calibration appends to the card's description (see `what` below); a
 * new calibration of the same file replaces the earlier ones, so repeated calibrations neither
 * pile up nor push the latest one past the description's length limit.
 */
const BLEND_SENTENCE = String.raw`(?: Each image is normalised with [\d.]+ of its own statistics \(blended BatchNorm\)\.)?`;
const CALIBRATION_SENTENCE = {
  generator: new RegExp(
    String.raw`\s*Generation \(the first application to noise\) runs \S+: the same weights with BatchNorm statistics from \d+ noise z(?:, a share [\d.]+ of them corrupted training images as in training)?\.` +
      BLEND_SENTENCE,
    'g',
  ),
  model: new RegExp(String.raw`\s*BatchNorm statistics recalibrated on \d+ images \(.*?\)\.` + BLEND_SENTENCE, 'g'),
};

/** The generation file `--generator` writes beside model.onnx. */
export const GENERATOR_FILE = 'generator.onnx';

export interface RecalibrateOptions {
  /**
   * Write the generation file instead of recalibrating f: f's weights with statistics from the
   * noise z, which the first application of /generate runs (card.generation); model.onnx is kept.
   */
  generator?: boolean;
  /** Calibration images (default 'serving'). */
  source?: CalibrationSource;
  /** Folder to write (default: the model's own folder). */
  out?: string;
  /** 'serving': the share of clean batches, the rest corrupted (default 0.5: they alternate). */
  cleanShare?: number;
  /**
   * 'noise' and 'samples': the share of each z batch that is a corrupted training image instead of
   * noise, drawn like the training's mixture rows (its families, clipping and blur range), so that
   * the batches have the composition of the z batches f was trained on (default 0: noise only).
   */
  mixture?: number;
  /** Number of calibration batches (default 16; 'serving' alternates clean and corrupted ones). */
  batches?: number;
  /** Images per batch (default 500). */
  batch?: number;
  seed?: number;
  threads?: number;
  /**
   * Blended BatchNorm share α for the calibration and the written graph (default: the card's own
   * for that file, else the training config's, else 0); recorded in card.normalization.blend, or
   * card.generation.blend for the generation file. The two files may differ: the generation
   * file's statistics already come from the noise it is applied to.
   */
  blend?: number;
  /** The command line recorded in the card. */
  command: string;
}

/**
 * `part` with `blend` set, or without it for plain BatchNorm. A 0 is kept when training blended
 * (`trained` > 0): an absent share would fall back to the training's on the next calibration.
 */
function withBlend<T extends { blend?: number }>(part: T, blend: number, trained: number): T {
  const next: T = { ...part, blend };
  if (blend === 0 && trained === 0) delete next.blend;
  return next;
}

export async function recalibrateExport(dir: string, options: RecalibrateOptions): Promise<{ card: ModelCard; out: string }> {
  const { card, modelPath, noiseStats } = await loadModelCard(dir);
  const trained = card.training.config as Partial<TrainConfig>;
  if (card.normalization.kind !== 'batch' || trained.model?.norm !== 'batch')
    throw new ConfigError(`model ${card.name} has no BatchNorm statistics to recalibrate (normalization ${card.normalization.kind})`);
  const cardBlend = options.generator === true ? card.generation?.blend : card.normalization.blend;
  const trainedBlend = trained.model.bnBlend ?? 0;
  const blend = options.blend ?? cardBlend ?? trainedBlend;
  if (!(blend >= 0 && blend <= 1)) throw new ConfigError(`--bn-blend must be in [0, 1], got ${blend}`);
  const config = { ...trained, model: { ...trained.model, bnBlend: blend } };
  const batches = options.batches ?? 16;
  const batch = options.batch ?? 500;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(batches) || batches < 1) throw new ConfigError('--batches must be a positive integer');
  if (!Number.isInteger(batch) || batch < 2) throw new ConfigError('--batch must be an integer ≥ 2');
  const shape: [number, number, number] = [card.image.channels, card.image.height, card.image.width];
  const kind = options.source ?? (options.generator === true ? 'noise' : 'serving');
  if (!CALIBRATION_SOURCES.includes(kind))
    throw new ConfigError(`--source must be one of ${CALIBRATION_SOURCES.join(', ')}, got ${JSON.stringify(kind)}`);
  if (options.generator === true && kind !== 'noise') throw new ConfigError('--generator calibrates on the noise z only (--source noise)');
  const cleanShare = options.cleanShare ?? SERVING_CLEAN_SHARE;
  if (!(cleanShare >= 0 && cleanShare <= 1)) throw new ConfigError(`--clean-share must be in [0, 1], got ${cleanShare}`);
  if (options.cleanShare !== undefined && kind !== 'serving')
    throw new ConfigError('--clean-share applies to the serving calibration only');
  const mixture = options.mixture ?? 0;
  if (!(mixture >= 0 && mixture <= 1)) throw new ConfigError(`--mixture must be in [0, 1], got ${mixture}`);
  if (mixture > 0 && kind !== 'noise' && kind !== 'samples')
    throw new ConfigError('--mixture applies to the noise calibration (--generator) and to --source samples only');
  const session = options.threads !== undefined ? { threads: options.threads } : {};
  // Everything that can fail before the calibration runs comes first: the samples source below holds
  // a worker-backed runner that only the calibration's `finally` releases.
  const weights = readFloatInitializers(await readFile(modelPath));
  let nextBatch: (index: number) => Float32Array | Promise<Float32Array>;
  let release = async (): Promise<void> => {};
  if (kind === 'noise' || kind === 'samples') {
    const rng = new Rng(seed);
    const source = mixture > 0 ? await loadDataset(datasetSpecOf(card), 'train') : null;
    const draw = mixtureDrawOf(trained.recipe);
    nextBatch = (index) => {
      const z = sampleNoise(card.noise, noiseStats, shape, rng.fork(`calibration-${index}`), batch);
      if (source !== null) mixSources(z, mixture, batch, source, rng.fork(`mixture-${index}`), draw);
      return z;
    };
    if (kind === 'samples') {
      // f¹(z) as /generate serves it: the generation file when there is one, else f.
      const { runner } = await openExportedModel(dir, session);
      const noiseBatch = nextBatch;
      nextBatch = async (index) => (await runner.generate(await noiseBatch(index), 1))[0]!;
      release = () => runner.release();
    }
  } else {
    nextBatch = calibrationBatches(await loadDataset(datasetSpecOf(card), 'train'), batch, seed, kind, cleanShare);
  }
  const { tensors } = await calibrateBatchNorm(config.model, shape, weights, { batch, batches, nextBatch }, session).finally(release);
  const bytes = exportGraphBytes(config as TrainConfig, shape, tensors);
  await verifyExport(bytes, shape);
  const out = options.out ?? dir;
  const written = options.generator === true ? GENERATOR_FILE : card.file;
  await mkdir(out, { recursive: true });
  const tmp = join(out, `${written}.${process.pid}.tmp`);
  await writeFile(tmp, bytes);
  await rename(tmp, join(out, written));
  // A new folder gets every other file the card names.
  if (resolve(out) !== resolve(dir)) {
    const named = [card.file, card.noise.statsFile, card.generation?.file].filter((f): f is string => f !== undefined && f !== written);
    for (const file of named) await copyFile(join(dir, file), join(out, file));
  }
  const share =
    kind === 'serving' && cleanShare !== SERVING_CLEAN_SHARE
      ? ` (clean share ${cleanShare})`
      : mixture > 0
        ? ` with a share ${mixture} of mixture samples, as in training`
        : '';
  const calibration = { images: batches * batch, seed, source: `${card.training.dataset}: ${SOURCE_TEXT[kind]}${share}` };
  const blended = blend > 0 ? ` Each image is normalised with ${blend} of its own statistics (blended BatchNorm).` : '';
  const what =
    options.generator === true
      ? `Generation (the first application to noise) runs ${GENERATOR_FILE}: the same weights with BatchNorm statistics from ${calibration.images} noise z${mixture > 0 ? `, a share ${mixture} of them corrupted training images as in training` : ''}.${blended}`
      : `BatchNorm statistics recalibrated on ${calibration.images} images (${calibration.source}).${blended}`;
  const next: ModelCard = {
    ...card,
    description: `${card.description.replace(CALIBRATION_SENTENCE[options.generator === true ? 'generator' : 'model'], '')} ${what}`.slice(
      0,
      2000,
    ),
    created: new Date().toISOString(),
    ...(options.generator === true
      ? { generation: withBlend<NonNullable<ModelCard['generation']>>({ file: GENERATOR_FILE, calibration }, blend, trainedBlend) }
      : { normalization: { ...withBlend(card.normalization, blend, trainedBlend), calibration } }),
    training: { ...card.training, commands: [...card.training.commands, options.command] },
    evaluation: null,
  };
  await writeModelCard(out, next);
  return { card: next, out };
}
