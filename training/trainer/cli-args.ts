// SPDX-License-Identifier: MIT
/**
 * @file Command-line flags of `npm run train`, one table that drives parsing, validation of number
 * formats and the --help text, so the help can never miss a flag.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config.ts';
import type { ConfigOverrides, Preset } from '../config.ts';
import { datasetSpecFromFlags, numberFlag as num } from '../data/dataset-args.ts';
import { AUGMENT_FAMILIES, type AugmentFamily } from '../data/real-augment.ts';
import { SOURCE_FAMILIES, type SourceFamily } from '../data/source-mix.ts';

interface Flag {
  name: string;
  type: 'string' | 'boolean';
  arg?: string;
  help: string;
}

export const TRAIN_FLAGS: readonly Flag[] = [
  {
    name: 'preset',
    type: 'string',
    arg: 'paper|algorithm1|projector',
    help: 'preset (default paper: L1, 20/20/2.5, clamp; algorithm1: MSE, 1/1/0.1, no clamp; projector: paper loss + the shipped recipe, see --source-mix, --source-clip, --ema, --lr-schedule)',
  },
  {
    name: 'source-mix',
    type: 'string',
    arg: 'p',
    help: 'fraction of each z batch drawn from corrupted training images (idem/tight only; default 0, projector 0.5)',
  },
  {
    name: 'source-tight',
    type: 'string',
    arg: 'w',
    help: 'weight of L_tight on the mixture rows as a fraction of λ_t (default 1; 0: those rows see only L_idem)',
  },
  {
    name: 'source-blur-max',
    type: 'string',
    arg: 's',
    help: "largest σ (px) of the mixture's blur family, drawn from [0.6, s] (default 2; at most 4)",
  },
  {
    name: 'covariance-white',
    type: 'string',
    arg: 's',
    help: 'with --noise covariance: add white noise of std s to every pixel, Σ + s²·I (default 0; at most 1)',
  },
  {
    name: 'noise-components',
    type: 'string',
    arg: 'k',
    help: 'with --noise fourier-mixture: number of k-means groups of training images, each with its own Fourier statistics (default 20; at most 64)',
  },
  {
    name: 'fourier-mean',
    type: 'string',
    arg: 'm',
    help: "Fourier noise: scale the data's mean spectrum away from DC by m ∈ [0, 1] (default 1; 0: no mean digit blob in z)",
  },
  {
    name: 'source-bridge',
    type: 'string',
    arg: 'q',
    help: 'fraction of each z batch that fades a training image into its noise, (1 − α)·x + α·z, α ∈ [0.5, 0.95] (idem/tight only; default 0)',
  },
  {
    name: 'source-weights',
    type: 'string',
    arg: 'list',
    help: `integer weights of the mixture's families, e.g. impulse=3,clean=0, among ${SOURCE_FAMILIES.join(', ')} (unnamed: 1; default all 1)`,
  },
  {
    name: 'augment',
    type: 'string',
    arg: 'p',
    help: 'fraction of each x batch replaced by a slightly rotated/rescaled or thicker/thinner-stroked copy of itself, kept by L_rec like any training image (default 0)',
  },
  {
    name: 'augment-families',
    type: 'string',
    arg: 'list',
    help: `comma-separated augmentations of --augment among ${AUGMENT_FAMILIES.join(', ')} (default all)`,
  },
  { name: 'source-clip', type: 'boolean', help: 'clip mixture samples to the image range [-1, 1], as sent images are (projector: on)' },
  { name: 'no-source-clip', type: 'boolean', help: 'leave mixture samples unclipped (default except projector)' },
  {
    name: 'ema',
    type: 'string',
    arg: 'd',
    help: 'EMA decay of the weights; export and samples use the EMA f (default 0 = off, projector 0.999)',
  },
  {
    name: 'lr-schedule',
    type: 'string',
    arg: 'constant|cosine',
    help: 'learning-rate schedule over the run (default constant, projector cosine)',
  },
  { name: 'lr-final', type: 'string', arg: 'f', help: 'cosine schedule: final rate as a fraction of --lr (default 0, projector 0.1)' },
  { name: 'hermitian', type: 'boolean', help: 'Fourier noise with Hermitian-symmetric spectra (full per-frequency variance)' },
  {
    name: 'init-from',
    type: 'string',
    arg: 'dir',
    help: 'start θ and BN statistics from an exported models/<name> of the same architecture',
  },
  { name: 'dataset', type: 'string', arg: 'mnist|fashion-mnist|folder', help: 'training data (default mnist)' },
  { name: 'data-path', type: 'string', arg: 'dir', help: 'image folder root (dataset folder)' },
  { name: 'size', type: 'string', arg: 'S', help: 'folder images are resized to S×S (default 64)' },
  { name: 'channels', type: 'string', arg: '1|3', help: 'folder image channels (default 3)' },
  { name: 'limit', type: 'string', arg: 'n', help: 'use only the first n training images' },
  { name: 'steps', type: 'string', arg: 'n', help: 'optimiser steps (default 1000 unless --epochs)' },
  { name: 'epochs', type: 'string', arg: 'e', help: 'train for e epochs instead of --steps' },
  { name: 'batch', type: 'string', arg: 'n', help: 'batch size (default 64; the paper uses 256)' },
  { name: 'lr', type: 'string', arg: 'x', help: 'Adam learning rate (default 1e-4)' },
  { name: 'beta1', type: 'string', arg: 'x', help: 'Adam β1 (default 0.5)' },
  { name: 'beta2', type: 'string', arg: 'x', help: 'Adam β2 (default 0.999)' },
  { name: 'distance', type: 'string', arg: 'l1|l2', help: 'distance D (default from preset)' },
  { name: 'w-rec', type: 'string', arg: 'x', help: 'λ_r, reconstruction weight (default from preset)' },
  { name: 'w-idem', type: 'string', arg: 'x', help: 'λ_i, idempotence weight (default from preset)' },
  { name: 'w-tight', type: 'string', arg: 'x', help: 'λ_t, tightness weight, ≥ 0 (default from preset)' },
  { name: 'clamp', type: 'boolean', help: 'smooth tanh clamp on L_tight (default from preset)' },
  { name: 'no-clamp', type: 'boolean', help: 'disable the clamp' },
  { name: 'clamp-a', type: 'string', arg: 'a', help: 'clamp scale a in tanh(L/(aN))·aN (default 1.5)' },
  { name: 'clamp-normalizer', type: 'string', arg: 'rec_z_detached|rec_x', help: 'clamp normaliser N (default rec_z_detached)' },
  {
    name: 'noise',
    type: 'string',
    arg: 'gaussian|fourier|covariance|fourier-mixture',
    help: "source noise z (default fourier: frequency statistics of 1,000 training images; covariance: N(μ, Σ) of 5,000 training images' pixels; fourier-mixture: Fourier statistics per k-means group of 5,000 training images; gaussian = N(0, I))",
  },
  { name: 'arch', type: 'string', arg: 'mnist|celeba64|tiny', help: 'network (default mnist, celeba64 for folders)' },
  { name: 'norm', type: 'string', arg: 'batch|group|none', help: 'normalisation layers (default batch)' },
  { name: 'groups', type: 'string', arg: 'g', help: 'GroupNorm groups (default 32)' },
  {
    name: 'bn-blend',
    type: 'string',
    arg: 'a',
    help: "batch norm: each sample's share of its own normalising statistics, in training and in the export (default 0: plain BatchNorm)",
  },
  { name: 'norm-first', type: 'boolean', help: "normalise the first convolution's output too (mnist, celeba64; default off)" },
  {
    name: 'stem',
    type: 'string',
    arg: 'c',
    help: 'a residual full-resolution pre-filter of c channels before the first strided conv (mnist, celeba64; default 0: none; zero-initialised, so --init-from keeps f)',
  },
  { name: 'latent', type: 'string', arg: 'c', help: 'latent channels (default 256 mnist, 512 celeba64)' },
  { name: 'width', type: 'string', arg: 'c', help: 'base width (default 64)' },
  { name: 'seed', type: 'string', arg: 'n', help: 'root seed for init, data order, noise (default 0)' },
  { name: 'sample-every', type: 'string', arg: 'k', help: 'write a sample grid every k steps, 0 = never (default 500)' },
  { name: 'checkpoint-every', type: 'string', arg: 'k', help: 'checkpoint every k steps, 0 = only at the end (default 1000)' },
  { name: 'log-every', type: 'string', arg: 'k', help: 'JSONL log / plain progress line every k steps (default 10)' },
  { name: 'out', type: 'string', arg: 'dir', help: 'run folder: log.jsonl, samples/, ckpt/ (default runs/ign)' },
  { name: 'export', type: 'string', arg: 'dir', help: 'export f to this models/<name> folder at the end' },
  { name: 'resume', type: 'string', arg: 'ckpt', help: 'continue from a checkpoint folder (its model/loss/data config is kept)' },
  { name: 'ep', type: 'string', arg: 'auto|cuda|cpu', help: 'ONNX Runtime execution provider (default cpu)' },
  { name: 'threads', type: 'string', arg: 'n', help: 'intra-op threads (default: all cores)' },
  { name: 'help', type: 'boolean', help: 'show this help' },
];

export function trainHelp(): string {
  const lines = TRAIN_FLAGS.map((f) => `  --${f.name}${f.arg ? ` <${f.arg}>` : ''}`.padEnd(44) + f.help);
  return [
    'Train an Idempotent Generative Network inside ONNX Runtime.',
    '',
    'usage: npm run train -- [flags]',
    '  e.g. npm run train -- --preset paper --dataset mnist --steps 3000 --batch 64 --out runs/x --export models/mnist',
    '',
    ...lines,
    '',
    `${'  --debug'.padEnd(44)}print the stack trace of an error (every CLI accepts it)`,
    '',
    'Ctrl-C finishes the current step, writes <out>/ckpt and exits; continue with --resume <out>/ckpt.',
  ].join('\n');
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the literal union it expects
const str = <T extends string = string>(values: Record<string, unknown>, name: string): T | undefined => values[name] as T | undefined;

/** A --name / --no-name pair: true, false, or undefined when neither is given (both: an error). */
function onOff(values: Record<string, unknown>, name: string): boolean | undefined {
  const on = values[name] === true;
  const off = values[`no-${name}`] === true;
  if (on && off) throw new ConfigError(`--${name} and --no-${name} contradict each other`);
  return on ? true : off ? false : undefined;
}

/** Drops undefined fields (exactOptionalPropertyTypes: absent ≠ undefined). */
type Defined<T> = { [K in keyof T]?: Exclude<T[K], undefined> };
function defined<T extends object>(o: T): Defined<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Defined<T>;
}

/**
 * `--source-weights impulse=3,clean=0` as a partial weight table; names and ranges are checked by the
 * config validation, the syntax here. A name given twice is an error.
 */
function sourceWeights(raw: string | undefined): Partial<Record<SourceFamily, number>> | undefined {
  if (raw === undefined) return undefined;
  const weights: Partial<Record<SourceFamily, number>> = {};
  for (const item of raw.split(',')) {
    const m = /^([a-z]+)=(\d+)$/.exec(item.trim());
    if (m === null) throw new ConfigError(`--source-weights expects family=integer items, got ${JSON.stringify(item)}`);
    const family = m[1] as SourceFamily;
    if (Object.hasOwn(weights, family)) throw new ConfigError(`--source-weights names ${family} twice`);
    weights[family] = Number(m[2]);
  }
  return weights;
}

/** undefined for an object without fields, so "no flags of this group" stays absent. */
function nonEmpty<T extends object>(o: T): T | undefined {
  return Object.keys(o).length > 0 ? o : undefined;
}

export interface ParsedTrainArgs {
  help: boolean;
  resume: string | null;
  overrides: ConfigOverrides;
}

export function parseTrainArgs(argv: readonly string[]): ParsedTrainArgs {
  const options = Object.fromEntries(TRAIN_FLAGS.map((f) => [f.name, { type: f.type }]));
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n(see --help)`);
  }
  const clamp = onOff(values, 'clamp');
  const sourceClip = onOff(values, 'source-clip');
  const data = datasetSpecFromFlags(values);
  const overrides: ConfigOverrides = defined({
    preset: str<Preset>(values, 'preset'),
    recipe: nonEmpty(
      defined({
        sourceMix: num(values, 'source-mix'),
        sourceTight: num(values, 'source-tight'),
        sourceBridge: num(values, 'source-bridge'),
        sourceBlurMax: num(values, 'source-blur-max'),
        sourceWeights: sourceWeights(str(values, 'source-weights')),
        augment: num(values, 'augment'),
        augmentFamilies: str(values, 'augment-families')?.split(',') as AugmentFamily[] | undefined,
        sourceClip,
        ema: num(values, 'ema'),
        lrSchedule: str(values, 'lr-schedule'),
        lrFinal: num(values, 'lr-final'),
        hermitian: values.hermitian === true ? true : undefined,
        covarianceWhite: num(values, 'covariance-white'),
        fourierMean: num(values, 'fourier-mean'),
        mixtureComponents: num(values, 'noise-components'),
        initFrom: str(values, 'init-from'),
      }),
    ),
    data,
    loss: nonEmpty(
      defined({
        distance: str(values, 'distance'),
        clamp,
        clampA: num(values, 'clamp-a'),
        clampNormalizer: str(values, 'clamp-normalizer'),
        weights: nonEmpty(defined({ rec: num(values, 'w-rec'), idem: num(values, 'w-idem'), tight: num(values, 'w-tight') })),
      }),
    ),
    model: nonEmpty(
      defined({
        arch: str(values, 'arch'),
        norm: str(values, 'norm'),
        groups: num(values, 'groups'),
        bnBlend: num(values, 'bn-blend'),
        normFirst: values['norm-first'] === true ? true : undefined,
        stem: num(values, 'stem'),
        latent: num(values, 'latent'),
        width: num(values, 'width'),
      }),
    ),
    optim: nonEmpty(defined({ lr: num(values, 'lr'), beta1: num(values, 'beta1'), beta2: num(values, 'beta2') })),
    noise: str(values, 'noise'),
    batch: num(values, 'batch'),
    steps: num(values, 'steps'),
    epochs: num(values, 'epochs'),
    seed: num(values, 'seed'),
    sampleEvery: num(values, 'sample-every'),
    checkpointEvery: num(values, 'checkpoint-every'),
    logEvery: num(values, 'log-every'),
    out: str(values, 'out'),
    exportDir: str(values, 'export'),
    ep: str(values, 'ep'),
    threads: num(values, 'threads'),
  });
  return { help: values.help === true, resume: str(values, 'resume') ?? null, overrides };
}
