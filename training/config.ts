// SPDX-License-Identifier: MIT
/**
 * @file The training configuration: presets (docs/ign.md, "Presets"), defaults, and validation that
 * runs once at start. Everything the step needs is resolved here into plain numbers and strings, so
 * the hot loop never looks anything up or checks anything.
 */
import { availableParallelism } from 'node:os';
import { NOISE_KINDS, type NoiseKind } from '../common/noise.ts';
import { DEFAULT_MIXTURE_COMPONENTS, MAX_MIXTURE_COMPONENTS } from '../common/fourier-mixture-noise.ts';
import { TRAINING_PROVIDER_CHOICES } from '../common/ort-options.ts';
import type { ExecutionProviderChoice } from '../common/ort-options.ts';
import type { DatasetSpec } from './data/dataset.ts';
import { AUGMENT_FAMILIES, type AugmentFamily } from './data/real-augment.ts';
import { MAX_SOURCE_WEIGHT, SOURCE_FAMILIES, sourceFamilyDraws, type SourceFamily } from './data/source-mix.ts';

export type Preset = 'paper' | 'algorithm1' | 'projector';
export type LrSchedule = 'constant' | 'cosine';
export type Distance = 'l1' | 'l2';
export type ClampNormalizer = 'rec_z_detached' | 'rec_x';
export type NormKind = 'batch' | 'group' | 'none';
export type ArchKind = 'mnist' | 'celeba64' | 'tiny';
export type { ExecutionProviderChoice } from '../common/ort-options.ts';

export interface LossConfig {
  distance: Distance;
  /** λ_r, λ_i, λ_t; the tightness term already carries its minus sign, so λ_t is positive. */
  weights: { rec: number; idem: number; tight: number };
  clamp: boolean;
  /** a in tanh(L̃/(a·N))·a·N. */
  clampA: number;
  clampNormalizer: ClampNormalizer;
}

export interface ModelConfig {
  arch: ArchKind;
  norm: NormKind;
  /** GroupNorm groups (must divide every normalised channel count). */
  groups: number;
  /**
   * BatchNorm only: the per-sample share α of the normalising statistics (layers.ts, blended
   * BatchNorm); absent or 0: plain BatchNorm.
   */
  bnBlend?: number;
  /**
   * Normalise the first convolution's output too (mnist, celeba64; DCGAN leaves it unnormalised).
   * Absent or false: the first layer has no normalisation.
   */
  normFirst?: boolean;
  /**
   * Channels of a residual pre-filter at full resolution before the first (strided) convolution:
   * x + conv3×3(lrelu(conv3×3(x))), its second convolution zero-initialised so that a warm start
   * computes the stored f (mnist, celeba64). Absent or 0: no stem.
   */
  stem?: number;
  /** Channels of the latent bottleneck (latent×1×1). */
  latent: number;
  /** Base width: channels of the first conv (doubled per stage). */
  width: number;
}

/** Largest `--stem` width. */
export const MAX_STEM = 256;

export interface OptimConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/**
 * Training-recipe choices beyond the loss (docs/ign.md, "Research flags"): each is off by default,
 * so `paper` and `algorithm1` runs are unchanged; the `projector` preset turns them on.
 */
export interface RecipeConfig {
  /** Fraction of each z batch drawn from corrupted training images instead of noise (0: none). */
  sourceMix: number;
  /**
   * Weight of L_tight on the mixture rows, as a fraction of λ_t (1: as on noise rows; 0: those rows
   * see only L_idem). f(x̃) of a corrupted digit lies next to the data, so tightness there pushes f
   * away from the identity on the manifold it is meant to project onto.
   */
  sourceTight: number;
  /** Clip mixture samples to the image range [-1, 1] (Gaussian noise otherwise leaves it). */
  sourceClip: boolean;
  /** Largest σ (px at 28×28) of the mixture's blur family, drawn from [0.6, sourceBlurMax]. */
  sourceBlurMax: number;
  /** Integer weight of each mixture family (absent: 1; 0: never drawn); a row draws its family ∝ weight. */
  sourceWeights: Partial<Record<SourceFamily, number>>;
  /** Fraction of each z batch that fades a training image into its noise (bridge rows; 0: none). */
  sourceBridge: number;
  /** Fraction of each x batch replaced by a rotated/rescaled or re-stroked copy of itself (0: none). */
  augment: number;
  /** The augmentations those rows draw from, uniformly. */
  augmentFamilies: AugmentFamily[];
  /** EMA decay of θ and BN buffers, exported instead of θ when > 0 (0: no EMA). */
  ema: number;
  lrSchedule: LrSchedule;
  /** Cosine schedule: the final learning rate as a fraction of lr. */
  lrFinal: number;
  /** Fourier noise with Hermitian-symmetric spectra (the data's full per-frequency variance). */
  hermitian: boolean;
  /** Covariance noise: std of white noise added to every pixel, Σ + s²·I (0: the data's Σ alone). */
  covarianceWhite: number;
  /** Fourier noise: the mean spectrum away from DC scaled by m (1: the data's; 0: no mean digit blob). */
  fourierMean: number;
  /** Fourier-mixture noise: number of k-means groups of training images, each with its own statistics. */
  mixtureComponents: number;
  /** Start θ and BN buffers from an exported models/<name> folder of the same architecture. */
  initFrom: string | null;
}

export interface TrainConfig {
  preset: Preset;
  recipe: RecipeConfig;
  loss: LossConfig;
  model: ModelConfig;
  optim: OptimConfig;
  data: DatasetSpec;
  noise: NoiseKind;
  batch: number;
  /** Total optimiser steps; `epochs` is converted to steps once the dataset size is known. */
  steps: number | null;
  epochs: number | null;
  seed: number;
  /** Write a sample grid every K steps (0: never). */
  sampleEvery: number;
  /** Write a checkpoint every K steps (0: only at the end and on SIGINT). */
  checkpointEvery: number;
  /** Append a JSONL log line every K steps. */
  logEvery: number;
  out: string;
  /** Export f to this models/<name> folder when training ends (null: no export). */
  exportDir: string | null;
  ep: ExecutionProviderChoice;
  threads: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const PAPER_LOSS: LossConfig = {
  distance: 'l1',
  weights: { rec: 20, idem: 20, tight: 2.5 },
  clamp: true,
  clampA: 1.5,
  clampNormalizer: 'rec_z_detached',
};

export const PRESETS: Readonly<Record<Preset, LossConfig>> = {
  paper: PAPER_LOSS,
  algorithm1: { distance: 'l2', weights: { rec: 1, idem: 1, tight: 0.1 }, clamp: false, clampA: 1.5, clampNormalizer: 'rec_z_detached' },
  // The shipped MNIST recipe: the paper's loss plus the recipe choices below.
  projector: PAPER_LOSS,
};

/** Recipe defaults: everything off, so the paper presets train exactly as before. */
export const RECIPE_OFF: Readonly<RecipeConfig> = {
  sourceMix: 0,
  sourceBridge: 0,
  sourceBlurMax: 2,
  sourceWeights: {},
  augment: 0,
  augmentFamilies: [...AUGMENT_FAMILIES],
  sourceTight: 1,
  sourceClip: false,
  ema: 0,
  lrSchedule: 'constant',
  lrFinal: 0,
  hermitian: false,
  covarianceWhite: 0,
  fourierMean: 1,
  mixtureComponents: DEFAULT_MIXTURE_COMPONENTS,
  initFrom: null,
};

const PRESET_RECIPES: Readonly<Record<Preset, Readonly<RecipeConfig>>> = {
  paper: RECIPE_OFF,
  algorithm1: RECIPE_OFF,
  projector: { ...RECIPE_OFF, sourceMix: 0.5, sourceClip: true, ema: 0.999, lrSchedule: 'cosine', lrFinal: 0.1 },
};

const ARCH_DEFAULTS: Readonly<Record<ArchKind, { latent: number; width: number }>> = {
  mnist: { latent: 256, width: 64 },
  celeba64: { latent: 512, width: 64 },
  tiny: { latent: 8, width: 8 },
};

/** Overrides accepted on top of a preset; nested objects are merged field by field. */
export interface ConfigOverrides {
  preset?: Preset;
  recipe?: Partial<RecipeConfig>;
  loss?: Partial<Omit<LossConfig, 'weights'>> & { weights?: Partial<LossConfig['weights']> };
  model?: Partial<ModelConfig>;
  optim?: Partial<OptimConfig>;
  data?: DatasetSpec;
  noise?: NoiseKind;
  batch?: number;
  steps?: number | null;
  epochs?: number | null;
  seed?: number;
  sampleEvery?: number;
  checkpointEvery?: number;
  logEvery?: number;
  out?: string;
  exportDir?: string | null;
  ep?: ExecutionProviderChoice;
  threads?: number;
}

/** Preset defaults + overrides, validated. Throws ConfigError listing every problem. */
export function resolveConfig(overrides: ConfigOverrides): TrainConfig {
  const preset = overrides.preset ?? 'paper';
  const base = PRESETS[preset] as LossConfig | undefined;
  if (!base) throw new ConfigError(`unknown preset ${JSON.stringify(preset)} (paper | algorithm1 | projector)`);
  const data = overrides.data ?? { kind: 'mnist' };
  const arch = overrides.model?.arch ?? (data.kind === 'folder' ? 'celeba64' : 'mnist');
  const archDefaults = (ARCH_DEFAULTS[arch] as (typeof ARCH_DEFAULTS)[ArchKind] | undefined) ?? ARCH_DEFAULTS.mnist;
  const config: TrainConfig = {
    preset,
    recipe: { ...PRESET_RECIPES[preset], ...overrides.recipe },
    loss: { ...base, ...overrides.loss, weights: { ...base.weights, ...overrides.loss?.weights } },
    model: { arch, norm: 'batch', groups: 32, ...archDefaults, ...overrides.model },
    optim: { lr: 1e-4, beta1: 0.5, beta2: 0.999, eps: 1e-8, ...overrides.optim },
    data,
    // Fourier noise by default everywhere: on MNIST, Gaussian z collapsed f(z) to one digit in every
    // run we made (paper and algorithm1 presets, 2,000+ steps), frequency-matched z did not.
    noise: overrides.noise ?? (arch === 'tiny' ? 'gaussian' : 'fourier'),
    batch: overrides.batch ?? 64,
    steps: overrides.steps ?? null,
    epochs: overrides.epochs ?? null,
    seed: overrides.seed ?? 0,
    sampleEvery: overrides.sampleEvery ?? 500,
    checkpointEvery: overrides.checkpointEvery ?? 1000,
    logEvery: overrides.logEvery ?? 10,
    out: overrides.out ?? 'runs/ign',
    exportDir: overrides.exportDir ?? null,
    ep: overrides.ep ?? 'cpu',
    threads: overrides.threads ?? availableParallelism(),
  };
  if (config.steps === null && config.epochs === null) config.steps = 1000;
  const issues = validateConfig(config);
  if (issues.length > 0) throw new ConfigError(`invalid training configuration:\n  - ${issues.join('\n  - ')}`);
  return config;
}

const isPosInt = (v: number): boolean => Number.isInteger(v) && v > 0;
const isNonNegInt = (v: number): boolean => Number.isInteger(v) && v >= 0;
const isFinite = (v: number): boolean => Number.isFinite(v);

function oneOf<T extends string>(issues: string[], name: string, v: T, allowed: readonly T[]): void {
  if (!allowed.includes(v)) issues.push(`${name} must be one of ${allowed.join(' | ')}, got ${JSON.stringify(v)}`);
}

function check(issues: string[], ok: boolean, message: string): void {
  if (!ok) issues.push(message);
}

/** Every problem with a config, as lines (empty when valid). */
function validateConfig(c: TrainConfig): string[] {
  const issues: string[] = [];
  oneOf(issues, 'preset', c.preset, ['paper', 'algorithm1', 'projector']);
  check(
    issues,
    isFinite(c.recipe.sourceMix) && c.recipe.sourceMix >= 0 && c.recipe.sourceMix <= 1,
    `sourceMix must be in [0, 1], got ${c.recipe.sourceMix}`,
  );
  check(
    issues,
    isFinite(c.recipe.sourceBridge) && c.recipe.sourceBridge >= 0 && c.recipe.sourceMix + c.recipe.sourceBridge <= 1,
    `sourceBridge must be ≥ 0 with sourceMix + sourceBridge ≤ 1, got ${c.recipe.sourceBridge} (sourceMix ${c.recipe.sourceMix})`,
  );
  check(
    issues,
    isFinite(c.recipe.augment) && c.recipe.augment >= 0 && c.recipe.augment <= 1,
    `augment must be in [0, 1], got ${c.recipe.augment}`,
  );
  const families = c.recipe.augmentFamilies;
  check(
    issues,
    Array.isArray(families) &&
      families.length > 0 &&
      families.every((f) => AUGMENT_FAMILIES.includes(f)) &&
      new Set(families).size === families.length,
    `augmentFamilies must be distinct names among ${AUGMENT_FAMILIES.join(', ')}, got ${JSON.stringify(families)}`,
  );
  check(
    issues,
    isFinite(c.recipe.sourceBlurMax) && c.recipe.sourceBlurMax >= 0.6 && c.recipe.sourceBlurMax <= 4,
    `sourceBlurMax must be in [0.6, 4], got ${c.recipe.sourceBlurMax}`,
  );
  const weights = Object.entries(c.recipe.sourceWeights);
  check(
    issues,
    weights.every(
      ([f, w]) => (SOURCE_FAMILIES as readonly string[]).includes(f) && Number.isInteger(w) && w >= 0 && w <= MAX_SOURCE_WEIGHT,
    ) && sourceFamilyDraws(c.recipe.sourceWeights).length > 0,
    `sourceWeights must give families among ${SOURCE_FAMILIES.join(', ')} integer weights in [0, ${MAX_SOURCE_WEIGHT}], not all 0, got ${JSON.stringify(c.recipe.sourceWeights)}`,
  );
  check(
    issues,
    isFinite(c.recipe.sourceTight) && c.recipe.sourceTight >= 0 && c.recipe.sourceTight <= 1,
    `sourceTight must be in [0, 1], got ${c.recipe.sourceTight}`,
  );
  check(issues, isFinite(c.recipe.ema) && c.recipe.ema >= 0 && c.recipe.ema < 1, `ema must be in [0, 1), got ${c.recipe.ema}`);
  oneOf(issues, 'lrSchedule', c.recipe.lrSchedule, ['constant', 'cosine']);
  check(
    issues,
    isFinite(c.recipe.lrFinal) && c.recipe.lrFinal >= 0 && c.recipe.lrFinal <= 1,
    `lrFinal must be in [0, 1], got ${c.recipe.lrFinal}`,
  );
  check(issues, !c.recipe.hermitian || c.noise === 'fourier', 'hermitian needs Fourier noise');
  check(
    issues,
    isFinite(c.recipe.covarianceWhite) && c.recipe.covarianceWhite >= 0 && c.recipe.covarianceWhite <= 1,
    `covarianceWhite must be in [0, 1], got ${c.recipe.covarianceWhite}`,
  );
  check(issues, c.recipe.covarianceWhite === 0 || c.noise === 'covariance', 'covarianceWhite needs covariance noise');
  check(
    issues,
    isFinite(c.recipe.fourierMean) && c.recipe.fourierMean >= 0 && c.recipe.fourierMean <= 1,
    `fourierMean must be in [0, 1], got ${c.recipe.fourierMean}`,
  );
  check(issues, c.recipe.fourierMean === 1 || c.noise === 'fourier', 'fourierMean needs Fourier noise');
  check(
    issues,
    Number.isInteger(c.recipe.mixtureComponents) && c.recipe.mixtureComponents >= 1 && c.recipe.mixtureComponents <= MAX_MIXTURE_COMPONENTS,
    `mixtureComponents must be an integer in [1, ${MAX_MIXTURE_COMPONENTS}], got ${c.recipe.mixtureComponents}`,
  );
  check(
    issues,
    c.recipe.mixtureComponents === DEFAULT_MIXTURE_COMPONENTS || c.noise === 'fourier-mixture',
    'mixtureComponents needs fourier-mixture noise',
  );
  check(issues, c.recipe.initFrom === null || c.recipe.initFrom !== '', 'initFrom must be a models/<name> folder');
  oneOf(issues, 'distance', c.loss.distance, ['l1', 'l2']);
  oneOf(issues, 'clampNormalizer', c.loss.clampNormalizer, ['rec_z_detached', 'rec_x']);
  for (const [k, w] of Object.entries(c.loss.weights))
    check(issues, isFinite(w) && w >= 0, `weight ${k} must be a finite number ≥ 0, got ${w}`);
  check(issues, isFinite(c.loss.clampA) && c.loss.clampA > 0, `clampA must be > 0, got ${c.loss.clampA}`);
  oneOf(issues, 'arch', c.model.arch, ['mnist', 'celeba64', 'tiny']);
  oneOf(issues, 'norm', c.model.norm, ['batch', 'group', 'none']);
  check(issues, isPosInt(c.model.latent), `latent must be a positive integer, got ${c.model.latent}`);
  check(issues, isPosInt(c.model.width), `width must be a positive integer, got ${c.model.width}`);
  check(issues, isPosInt(c.model.groups), `groups must be a positive integer, got ${c.model.groups}`);
  if (c.model.bnBlend !== undefined) {
    const a = c.model.bnBlend;
    check(issues, typeof a === 'number' && a >= 0 && a <= 1, `bnBlend must be a number in [0, 1], got ${a}`);
    check(issues, a === 0 || c.model.norm === 'batch', 'bnBlend needs batch norm');
  }
  if (c.model.normFirst !== undefined) {
    check(issues, typeof c.model.normFirst === 'boolean', `normFirst must be true or false, got ${JSON.stringify(c.model.normFirst)}`);
    check(issues, !(c.model.normFirst && c.model.norm === 'none'), 'normFirst needs a normalisation (batch or group)');
  }
  if (c.model.stem !== undefined) {
    const s = c.model.stem;
    check(issues, Number.isInteger(s) && s >= 0 && s <= MAX_STEM, `stem must be an integer in [0, ${MAX_STEM}], got ${s}`);
    check(issues, !(s > 0 && c.model.arch === 'tiny'), 'stem needs the mnist or celeba64 architecture');
  }
  if (c.model.norm === 'group') {
    const bad = [c.model.width, 2 * c.model.width].filter((ch) => ch % c.model.groups !== 0);
    check(issues, bad.length === 0, `groups ${c.model.groups} must divide the normalised channel counts (${bad.join(', ')})`);
  }
  check(issues, isFinite(c.optim.lr) && c.optim.lr > 0, `lr must be > 0, got ${c.optim.lr}`);
  for (const k of ['beta1', 'beta2'] as const)
    check(issues, c.optim[k] >= 0 && c.optim[k] < 1, `${k} must be in [0, 1), got ${c.optim[k]}`);
  check(issues, isFinite(c.optim.eps) && c.optim.eps > 0, `eps must be > 0, got ${c.optim.eps}`);
  oneOf(issues, 'dataset', c.data.kind, ['mnist', 'fashion-mnist', 'folder']);
  check(issues, c.data.kind !== 'folder' || (c.data.path ?? '') !== '', 'a folder dataset needs a path');
  check(issues, c.data.kind === 'folder' || c.model.arch !== 'celeba64', 'celeba64 needs 64×64 images: use a folder dataset');
  check(
    issues,
    c.model.arch !== 'mnist' || c.data.kind !== 'folder' || c.data.size === 28,
    'the mnist architecture needs 28×28 images (--size 28)',
  );
  check(issues, c.model.arch !== 'celeba64' || (c.data.size ?? 64) === 64, 'the celeba64 architecture needs --size 64');
  oneOf(issues, 'noise', c.noise, NOISE_KINDS);
  check(issues, isPosInt(c.batch), `batch must be a positive integer, got ${c.batch}`);
  check(issues, (c.steps === null) !== (c.epochs === null), 'give steps or epochs, not both');
  if (c.steps !== null) check(issues, isPosInt(c.steps), `steps must be a positive integer, got ${c.steps}`);
  if (c.epochs !== null) check(issues, isFinite(c.epochs) && c.epochs > 0, `epochs must be > 0, got ${c.epochs}`);
  check(issues, isNonNegInt(c.seed) && c.seed <= 0xffffffff, `seed must be an integer in [0, 2^32-1], got ${c.seed}`);
  check(issues, isNonNegInt(c.sampleEvery), `sampleEvery must be an integer ≥ 0, got ${c.sampleEvery}`);
  check(issues, isNonNegInt(c.checkpointEvery), `checkpointEvery must be an integer ≥ 0, got ${c.checkpointEvery}`);
  check(issues, isPosInt(c.logEvery), `logEvery must be a positive integer, got ${c.logEvery}`);
  check(issues, c.out !== '', 'out must be a directory path');
  if (c.ep === 'webgpu') {
    issues.push(
      `ep webgpu serves inference only (ONNX Runtime's WebGPU provider has no BatchNormalization training mode); train with ${TRAINING_PROVIDER_CHOICES.join(' | ')}`,
    );
  } else {
    oneOf(issues, 'ep', c.ep, TRAINING_PROVIDER_CHOICES);
  }
  check(issues, isPosInt(c.threads) && c.threads <= 256, `threads must be a positive integer, got ${c.threads}`);
  return issues;
}

/** Steps of a run once the dataset size is known (epochs × batches per epoch, rounded up). */
export function totalSteps(c: TrainConfig, datasetSize: number): number {
  if (c.steps !== null) return c.steps;
  const perEpoch = Math.floor(datasetSize / c.batch);
  if (perEpoch < 1) throw new ConfigError(`dataset has ${datasetSize} images, fewer than one batch of ${c.batch}`);
  return Math.ceil((c.epochs ?? 1) * perEpoch);
}

/** Settings a resumed run may change; everything else (model, loss, data, seed, batch) is the checkpoint's. */
const RESUMABLE_KEYS = ['steps', 'epochs', 'sampleEvery', 'checkpointEvery', 'logEvery', 'out', 'exportDir', 'ep', 'threads'] as const;

/** The checkpoint's config with the given overrides of run-control settings applied and validated. */
export function resumeConfig(saved: TrainConfig, overrides: ConfigOverrides): TrainConfig {
  const fixed = Object.keys(overrides).filter((k) => !(RESUMABLE_KEYS as readonly string[]).includes(k));
  if (fixed.length > 0) throw new ConfigError(`cannot change ${fixed.join(', ')} when resuming (only ${RESUMABLE_KEYS.join(', ')})`);
  // Checkpoints written before the recipe options existed ran with all of them off.
  const config: TrainConfig = { ...saved, recipe: { ...RECIPE_OFF, ...saved.recipe } };
  for (const key of RESUMABLE_KEYS) {
    if (overrides[key] !== undefined) Object.assign(config, { [key]: overrides[key] });
  }
  if (overrides.steps !== undefined) config.epochs = null;
  if (overrides.epochs !== undefined) config.steps = null;
  const issues = validateConfig(config);
  if (issues.length > 0) throw new ConfigError(`invalid resumed configuration:\n  - ${issues.join('\n  - ')}`);
  return config;
}
