// SPDX-License-Identifier: MIT
/**
 * @file Everything a run needs before its first step, built once from a config (or a checkpoint):
 * the dataset, the architecture, the Fourier statistics, the step graph and its StepRunner with
 * initial (or restored) state, and the batch iterator. Seeds: one root seed, forked per purpose
 * ('init', 'data', 'noise/<step>', 'samples'), so each stream is independent and resumable.
 */
import { Rng } from '../../common/rng.ts';
import { computeNoiseStats, noiseStatsImages } from '../../common/noise.ts';
import type { NoiseStats } from '../../common/noise.ts';
import { numel } from '../onnx/ir.ts';
import { loadDataset } from '../data/dataset.ts';
import type { Dataset } from '../data/dataset.ts';
import { EpochBatcher } from '../data/batches.ts';
import { initParams } from '../nn/params.ts';
import { StepRunner } from '../runtime/step-runner.ts';
import { architecture } from '../ign/model.ts';
import type { Architecture } from '../ign/model.ts';
import { buildStepGraph } from '../ign/train-graph.ts';
import { tightRowWeights } from '../data/source-mix.ts';
import type { StepGraph } from '../ign/train-graph.ts';
import { ConfigError, totalSteps } from '../config.ts';
import { assertCovarianceShape } from '../../common/covariance-noise.ts';
import type { TrainConfig } from '../config.ts';
import type { Checkpoint } from './checkpoint.ts';
import { Ema, EMA_PREFIX } from './ema.ts';
import { loadInitialWeights } from './init-from.ts';

export interface RunState {
  config: TrainConfig;
  dataset: Dataset;
  arch: Architecture;
  imageShape: [number, number, number];
  noiseStats: NoiseStats | null;
  stepGraph: StepGraph;
  runner: StepRunner;
  /** EMA of θ and BN buffers (null when config.recipe.ema is 0). */
  ema: Ema | null;
  batcher: EpochBatcher;
  /** Output channels per layer of the --init-from f when it was widened into this run's; else null. */
  widenedFrom: number[] | null;
  /** Layers whose normalisation the --init-from f lacks (they start fresh); empty otherwise. */
  freshNorms: string[];
  /** --init-from gave f a stem its stored f lacks (identity at the start). */
  freshStem: boolean;
  /** Steps already done (0 for a fresh run). */
  startStep: number;
  totalSteps: number;
  wallTimeSeconds: number;
}

function dataSeed(seed: number): number {
  return new Rng(seed).fork('data').nextU32();
}

/** The run's noise statistics: a resumed run keeps its saved ones, a fresh run estimates them once. */
function noiseStatsFor(config: TrainConfig, dataset: Dataset, saved: NoiseStats | null): NoiseStats | null {
  if (config.noise === 'gaussian') return null;
  if (saved?.kind === config.noise) return saved;
  if (config.noise === 'covariance') {
    try {
      assertCovarianceShape(dataset.shape);
    } catch (err) {
      throw new ConfigError(`--noise covariance: ${(err as Error).message}`);
    }
  }
  const n = Math.min(noiseStatsImages(config.noise), dataset.n);
  const { covarianceWhite, fourierMean, mixtureComponents } = config.recipe;
  if (config.noise === 'fourier-mixture' && n < 2 * mixtureComponents) {
    throw new ConfigError(
      `--noise fourier-mixture: ${mixtureComponents} components need at least ${2 * mixtureComponents} training images, the data has ${n}`,
    );
  }
  return computeNoiseStats(config.noise, dataset.slice(0, n), n, dataset.shape, { covarianceWhite, fourierMean, mixtureComponents });
}

/** Initial state: DCGAN-initialised parameters, BN buffers, zero Adam moments. */
export function initialState(stepGraph: StepGraph, seed: number): Map<string, Float32Array> {
  const state = initParams(stepGraph.decls, new Rng(seed).fork('init'));
  for (const name of stepGraph.moments) {
    const input = stepGraph.graph.inputs.find((v) => v.name === name);
    if (!input) throw new Error(`moment ${name} is not a graph input`);
    state.set(name, new Float32Array(numel(input.shape)));
  }
  return state;
}

export interface RunStateOptions {
  /** Use this dataset instead of loading config.data (tests, synthetic data). */
  dataset?: Dataset;
  checkpoint?: Checkpoint;
}

export async function createRunState(config: TrainConfig, options: RunStateOptions = {}): Promise<RunState> {
  const ckpt = options.checkpoint;
  const dataset = options.dataset ?? (await loadDataset(config.data, 'train'));
  const imageShape: [number, number, number] = [dataset.shape[0], dataset.shape[1], dataset.shape[2]];
  const arch = architecture(config.model, imageShape);
  const stepGraph = buildStepGraph({
    arch,
    model: config.model,
    loss: config.loss,
    optim: config.optim,
    batch: config.batch,
    tightRowWeights: tightRowWeights(config.recipe.sourceMix, config.recipe.sourceTight, config.batch),
  });
  const state = ckpt
    ? new Map(Object.entries(ckpt.tensors).filter(([name]) => !name.startsWith(EMA_PREFIX)))
    : initialState(stepGraph, config.seed);
  let widenedFrom: number[] | null = null;
  let freshNorms: string[] = [];
  let freshStem = false;
  if (!ckpt && config.recipe.initFrom !== null) {
    const initial = await loadInitialWeights(config.recipe.initFrom, stepGraph.decls, {
      arch,
      groupNorm: config.model.norm === 'group',
      seed: new Rng(config.seed).fork('widen').nextU32(),
    });
    for (const [name, value] of initial.weights) state.set(name, value);
    widenedFrom = initial.widenedFrom;
    freshNorms = initial.freshNorms;
    freshStem = initial.freshStem;
  }
  const runner = await StepRunner.create(stepGraph.graph, {
    state,
    aliases: stepGraph.aliases,
    session: { ep: config.ep, threads: config.threads },
  });
  const emaNames = stepGraph.decls.map((d) => d.name);
  const ema = config.recipe.ema > 0 ? Ema.create(config.recipe.ema, emaNames, Object.fromEntries(state), ckpt?.tensors) : null;
  const batcher = new EpochBatcher(dataset, { batchSize: config.batch, seed: dataSeed(config.seed) }, ckpt?.meta.batcher);
  return {
    config,
    dataset,
    arch,
    imageShape,
    stepGraph,
    runner,
    ema,
    batcher,
    noiseStats: noiseStatsFor(config, dataset, ckpt?.noiseStats ?? null),
    widenedFrom,
    freshNorms,
    freshStem,
    startStep: ckpt?.meta.step ?? 0,
    totalSteps: totalSteps(config, dataset.n),
    wallTimeSeconds: ckpt?.meta.wallTimeSeconds ?? 0,
  };
}
