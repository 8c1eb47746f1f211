// SPDX-License-Identifier: MIT
/**
 * @file The model card models/<name>/model.json: the one contract between training (which writes it
 * on export) and the server (which reads it at boot). Validated against models/model.schema.json
 * (JSON Schema 2020-12) plus the cross-field rules a schema cannot state (tensor shapes agree with
 * the image). Errors are ModelCardError with every problem listed by JSON path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { NoiseKind, NoiseStats } from './noise.ts';
import { parseNoiseStats } from './noise-stats-file.ts';

const MODEL_CARD_FILE = 'model.json';

export interface TensorSpec {
  name: string;
  /** [-1, C, H, W]: dynamic batch first. */
  shape: number[];
}

/** How the training images were drawn (see models/model.schema.json, `inputConventions`). */
export interface InputConventions {
  polarity: 'light-on-dark' | 'dark-on-light';
  contentBox: { width: number; height: number };
  centring: 'mass' | 'box';
  /**
   * strokes: drawn marks (digits, letters), so a filled light region on a dark frame is the paper they
   * were written on and `normalize=auto` looks inside it; objects (the default): filled shapes.
   */
  content?: 'strokes' | 'objects';
}

/** MNIST: light strokes on dark, fitted into 20×20 with aspect kept, centred by mass in 28×28; strokes. */
export const MNIST_CONVENTIONS: InputConventions = {
  polarity: 'light-on-dark',
  contentBox: { width: 20, height: 20 },
  centring: 'mass',
  content: 'strokes',
};

/** BatchNorm statistics recomputed after training: how many images, which seed, what they were. */
export interface Calibration {
  images: number;
  seed: number;
  source: string;
}

export interface ModelCard {
  schemaVersion: 1;
  name: string;
  version: string;
  description: string;
  /** ISO 8601 date-time. */
  created: string;
  /** ONNX file name beside model.json, normally "model.onnx". */
  file: string;
  opset: number;
  input: TensorSpec;
  output: TensorSpec;
  image: { channels: 1 | 3; height: number; width: number; valueRange: [-1, 1] };
  noise: { kind: NoiseKind; statsFile?: string; hermitian?: boolean };
  normalization: {
    kind: 'batch' | 'group' | 'none';
    mode: 'eval' | 'train';
    /** Set when the BatchNorm running statistics were recalibrated after training (`npm run calibrate-bn`). */
    calibration?: Calibration;
    /** Blended BatchNorm: each image's own statistics' share (absent: plain BatchNorm). */
    blend?: number;
  };
  /** When set, the first application of f to noise z runs this file (f with noise-calibrated BatchNorm statistics). */
  generation?: { file: string; calibration: Calibration; blend?: number };
  seed: number;
  training: {
    preset: string;
    config: Record<string, unknown>;
    /** The command lines that produced the model, in order: the first training run, each --resume, the export. */
    commands: string[];
    dataset: string;
    steps: number;
    epochs: number;
    wallTimeSeconds: number;
    [extra: string]: unknown;
  };
  evaluation: Record<string, unknown> | null;
  inputConventions?: InputConventions;
}

export interface LoadedModel {
  card: ModelCard;
  /** Absolute path of the ONNX file. */
  modelPath: string;
  /** Path of the generation file (card.generation), or null: f itself generates. */
  generatorPath: string | null;
  /** Parsed statistics for every noise.kind but "gaussian" (null). */
  noiseStats: NoiseStats | null;
}

export class ModelCardError extends Error {
  /** One line per problem, "<json path>: <message>" for schema violations. */
  readonly issues: readonly string[];
  constructor(message: string, issues: readonly string[] = []) {
    super(issues.length > 0 ? `${message}:\n  - ${issues.join('\n  - ')}` : message);
    this.name = 'ModelCardError';
    this.issues = issues;
  }
}

/** models/model.schema.json from common/ in the source tree, or from dist/common/ in the built image. */
function readSchema(): object {
  const candidates = ['../models/model.schema.json', '../../models/model.schema.json'].map((rel) => new URL(rel, import.meta.url));
  for (const url of candidates) {
    if (existsSync(url)) return JSON.parse(readFileSync(url, 'utf8')) as object;
  }
  throw new Error(`models/model.schema.json not found (looked at ${candidates.map((u) => u.pathname).join(', ')})`);
}

// strictRequired is off because `then: {required: [statsFile]}` names a property declared on the parent.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
addFormatsModule.default(ajv, ['date-time']);
const validateSchema = ajv.compile(readSchema());

function describe(error: ErrorObject): string {
  const path = error.instancePath === '' ? '/' : error.instancePath;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') return `${path}: unknown property "${String(params.additionalProperty)}"`;
  if (error.keyword === 'required') return `${path}: missing required property "${String(params.missingProperty)}"`;
  if (error.keyword === 'enum') return `${path}: ${error.message ?? 'invalid'} (${JSON.stringify(params.allowedValues)})`;
  if (error.keyword === 'const') return `${path}: must be ${JSON.stringify(params.allowedValue)}`;
  return `${path}: ${error.message ?? error.keyword}`;
}

/**
 * Checks `json` against the schema and the cross-field rules; returns it typed or throws.
 * `source` names the card in messages (e.g. its path).
 */
export function validateModelCard(json: unknown, source = 'model card'): ModelCard {
  if (!validateSchema(json)) {
    const errors = (validateSchema.errors ?? []).filter((e) => e.keyword !== 'if');
    throw new ModelCardError(`${source} does not match models/model.schema.json`, errors.map(describe));
  }
  const card = json as ModelCard;
  const { channels, height, width } = card.image;
  const issues: string[] = [];
  for (const key of ['input', 'output'] as const) {
    const [, c, h, w] = card[key].shape;
    if (c !== channels || h !== height || w !== width) {
      issues.push(`/${key}/shape: [${card[key].shape.join(', ')}] does not match image [-1, ${channels}, ${height}, ${width}]`);
    }
  }
  const box = card.inputConventions?.contentBox;
  if (box && (box.width > width || box.height > height)) {
    issues.push(`/inputConventions/contentBox: ${box.width}×${box.height} is larger than the ${width}×${height} image`);
  }
  if (card.noise.kind === 'gaussian' && card.noise.statsFile !== undefined) {
    issues.push('/noise/statsFile: gaussian noise has no statistics file');
  }
  if (card.noise.kind !== 'fourier' && card.noise.hermitian !== undefined) {
    issues.push('/noise/hermitian: only fourier noise can be Hermitian');
  }
  if (card.generation && card.generation.file === card.file) issues.push('/generation/file: must differ from /file');
  if (card.generation && card.normalization.kind !== 'batch') issues.push('/generation: only a BatchNorm f has statistics to calibrate');
  if (card.normalization.blend !== undefined && card.normalization.kind !== 'batch')
    issues.push('/normalization/blend: only BatchNorm blends');
  if (issues.length > 0) throw new ModelCardError(`${source} is inconsistent`, issues);
  return card;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function readCardJson(dir: string): Promise<unknown> {
  let dirStat;
  try {
    dirStat = await stat(dir);
  } catch {
    throw new ModelCardError(`model directory ${dir} does not exist`);
  }
  if (!dirStat.isDirectory()) throw new ModelCardError(`model path ${dir} is not a directory`);
  const cardPath = join(dir, MODEL_CARD_FILE);
  let text: string;
  try {
    text = await readFile(cardPath, 'utf8');
  } catch {
    throw new ModelCardError(`model card ${cardPath} is missing (every model folder needs a ${MODEL_CARD_FILE})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ModelCardError(`model card ${cardPath} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Reads, validates and resolves models/<name>/: the card, the ONNX path and the noise statistics. */
export async function loadModelCard(dir: string): Promise<LoadedModel> {
  const card = validateModelCard(await readCardJson(dir), join(dir, MODEL_CARD_FILE));
  const modelPath = join(dir, card.file);
  if (!(await isFile(modelPath))) throw new ModelCardError(`model file ${modelPath} named by ${MODEL_CARD_FILE} is missing`);
  const generatorPath = card.generation ? join(dir, card.generation.file) : null;
  if (generatorPath !== null && !(await isFile(generatorPath)))
    throw new ModelCardError(`generation file ${generatorPath} named by ${MODEL_CARD_FILE} is missing`);
  return { card, modelPath, generatorPath, noiseStats: await loadNoiseStats(dir, card) };
}

async function loadNoiseStats(dir: string, card: ModelCard): Promise<NoiseStats | null> {
  if (card.noise.kind === 'gaussian' || card.noise.statsFile === undefined) return null;
  const statsPath = join(dir, card.noise.statsFile);
  let bytes: Buffer;
  try {
    bytes = await readFile(statsPath);
  } catch {
    throw new ModelCardError(`noise statistics file ${statsPath} named by ${MODEL_CARD_FILE} is missing`);
  }
  let stats: NoiseStats;
  try {
    stats = parseNoiseStats(bytes);
  } catch (err) {
    throw new ModelCardError(`noise statistics file ${statsPath} is unreadable: ${(err as Error).message}`);
  }
  if (stats.kind !== card.noise.kind) {
    throw new ModelCardError(`noise statistics ${statsPath} are ${stats.kind} statistics, the card declares ${card.noise.kind} noise`);
  }
  const { channels, height, width } = card.image;
  const [c, h, w] = stats.shape;
  if (c !== channels || h !== height || w !== width) {
    throw new ModelCardError(`noise statistics ${statsPath} are for [${c}, ${h}, ${w}], the image is [${channels}, ${height}, ${width}]`);
  }
  return stats;
}

/** Validates and writes dir/model.json (creating dir); write-then-rename so readers never see half a card. */
export async function writeModelCard(dir: string, card: ModelCard): Promise<string> {
  validateModelCard(card);
  await mkdir(dir, { recursive: true });
  const cardPath = join(dir, MODEL_CARD_FILE);
  const tmpPath = `${cardPath}.${process.pid}.tmp`;
  await writeFile(tmpPath, `${JSON.stringify(card, null, 2)}\n`, 'utf8');
  await rename(tmpPath, cardPath);
  return cardPath;
}
